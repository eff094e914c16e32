#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| imap::fuzzing::frame_and_parse(data));
