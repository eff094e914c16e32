#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| smtp::fuzzing::data_phase(data));
