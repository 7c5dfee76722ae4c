#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    oddity_fuzz::entries::run("model_json", data);
});
