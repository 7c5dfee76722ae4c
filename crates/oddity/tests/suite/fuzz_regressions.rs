//! Replays the fuzz harness (`fuzz/src/entries.rs`, shared by `#[path]`) on every committed crash
//! input under `fuzz/regressions/<target>/` (each must now be rejected or loaded without a panic),
//! and on real seed files, so the harness keeps compiling and working without nightly Rust.

#[path = "../../../../fuzz/src/entries.rs"]
pub mod entries;

use std::fs;
use std::path::{Path, PathBuf};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

#[test]
fn every_committed_fuzz_crash_input_runs_without_a_panic() {
    let root = repo("fuzz/regressions");
    let mut replayed = 0;
    for target in entries::TARGETS {
        let Ok(dir) = fs::read_dir(root.join(target)) else {
            continue;
        };
        for file in dir {
            let path = file.unwrap().path();
            let bytes = fs::read(&path).unwrap();
            let run = std::panic::catch_unwind(|| entries::run(target, &bytes));
            assert!(run.is_ok(), "{target}: {} panics again", path.display());
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} fuzz regression inputs");
}

#[test]
fn the_fuzz_harness_loads_real_files_and_model_templates() {
    for (target, rel) in [
        ("npz", "data/adbench/4_breastw.npz"),
        ("mat_v5", "data/odds/breastw.mat"),
        ("mat_v73", "data/odds/smtp.mat"),
        ("arff", "data/adrepository/cmc-nominal.arff"),
        ("tar_xz", "data/adrepository/cmc-nominal.tar.xz"),
        ("parquet", "data/parquet/cardio.parquet"),
        ("png", "data/coil20-small/obj1__0.png"),
    ] {
        assert!(
            entries::run(target, &fs::read(repo(rel)).unwrap()),
            "{target}: {rel} did not load"
        );
    }
    // The `set` target's seeds: valid settings for every registered model fit and score.
    let seeds = entries::set_seeds();
    assert_eq!(seeds.len(), oddity::registry::models().len());
    for (kind, input) in &seeds {
        assert!(entries::run("set", input), "{kind}: the set seed did not fit");
    }
    // Every registered model has a template, and a template's own files load and score.
    let templates = entries::templates();
    let kinds: Vec<&str> = templates.iter().map(|t| t.kind).collect();
    for m in oddity::registry::models() {
        assert!(kinds.contains(&m.name), "no fuzz template for `{}`", m.name);
    }
    for (i, t) in templates.iter().enumerate() {
        let mut json = vec![i as u8];
        json.extend_from_slice(&t.json);
        assert!(entries::run("model_json", &json), "{}: template model.json", t.kind);
        let mut weights = vec![i as u8];
        weights.extend_from_slice(&t.weights);
        assert!(entries::run("model_weights", &weights), "{}: template weights", t.kind);
    }
}

/// A seeded stand-in for a fuzzing campaign of the `set` target (which needs cargo-fuzz): hostile
/// `--set` lines built from each model's real keys, with values that are out of range, of the
/// wrong type, malformed or extreme, or small and odd but valid. Each must be refused with an error or fit and score; none
/// may panic.
#[test]
fn the_set_target_survives_hostile_settings() {
    const VALUES: [&str; 24] = [
        "0",
        "1",
        "2",
        "3",
        "-1",
        "0.5",
        "-0.5",
        "1.5",
        "1e308",
        "-1e308",
        "NaN",
        "inf",
        "abc",
        "\"\"",
        "[]",
        "[0]",
        "[1,0]",
        "[2,2,2,2]",
        "null",
        "true",
        "{}",
        "18446744073709551615",
        "100000",
        "",
    ];
    // A longer hunt by hand: ODDITY_SET_FUZZ_ROUNDS=500 ODDITY_SET_FUZZ_SEED=7 cargo test …
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
    let rounds = env("ODDITY_SET_FUZZ_ROUNDS").unwrap_or(16);
    let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ env("ODDITY_SET_FUZZ_SEED").unwrap_or(0);
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let (mut fitted, mut refused) = (0, 0);
    for (i, entry) in oddity::registry::models().iter().enumerate() {
        let defaults = match entry.default_config() {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        let mut keys: Vec<String> = defaults.keys().filter(|k| *k != "pretrained").cloned().collect();
        keys.extend(["contamination".to_string(), "no_such_key".to_string()]);
        // A plausible value of the default's type: small, odd but often valid settings (batch
        // size 1, one hidden unit, 16 clusters for 16 images) are where panics hide.
        let plausible = |key: &str, pick: usize| -> String {
            use serde_json::Value;
            match defaults.get(key) {
                Some(Value::Number(n)) if n.is_u64() => ["1", "2", "3", "8", "16", "64"][pick % 6].into(),
                Some(Value::Number(_)) => ["0.001", "0.1", "0.5", "0.9", "1", "2"][pick % 6].into(),
                Some(Value::Bool(_)) => ["true", "false"][pick % 2].into(),
                Some(Value::Array(_)) => ["[1]", "[8,4]", "[2,2,2]", "[16]", "[4,4,4,4]", "[3]"][pick % 6].into(),
                Some(v) => v.to_string(),
                None => ["0.01", "0.2", "0.5"][pick % 3].into(),
            }
        };
        for _ in 0..rounds {
            let mut text = String::new();
            for _ in 0..1 + next(3) {
                let key = &keys[next(keys.len())];
                let line = match next(10) {
                    0 => key.clone(),                                // no `=`
                    1 => format!("={}", VALUES[next(VALUES.len())]), // no key
                    2..=5 => format!("{key}={}", VALUES[next(VALUES.len())]),
                    _ => format!("{key}={}", plausible(key, next(6))),
                };
                text += &line;
                text.push('\n');
            }
            let mut input = vec![i as u8];
            input.extend_from_slice(text.as_bytes());
            let run = std::panic::catch_unwind(|| entries::run("set", &input));
            match run {
                Ok(true) => fitted += 1,
                Ok(false) => refused += 1,
                Err(_) => panic!("{}: panics on --set {:?}", entry.name, text.lines().collect::<Vec<_>>()),
            }
        }
    }
    eprintln!("set target: {fitted} fitted, {refused} refused");
    assert!(fitted > 0 && refused > 0, "{fitted} fitted, {refused} refused");
}
