#![no_main]
libfuzzer_sys::fuzz_target!(
    init: {
        // Before any thread exists: sizes over 256 MB are refused by oddity's budget, not by
        // libFuzzer's malloc limit (1 GB).
        // SAFETY: nothing else runs yet.
        unsafe { std::env::set_var("ODDITY_MEMORY_LIMIT", "268435456") };
    },
    |data: &[u8]| {
        oddity_fuzz::entries::run("set", data);
    }
);
