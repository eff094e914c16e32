#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| render::fuzzing::render_message(data));
