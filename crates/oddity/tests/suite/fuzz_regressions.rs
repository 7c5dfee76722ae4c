//! Replays the fuzz harness (`fuzz/src/entries.rs`, shared by `#[path]`) on every committed crash
//! input under `fuzz/regressions/<target>/` (each must now be rejected or loaded without a panic),
//! and on real seed files, so the harness keeps compiling and working without nightly Rust.

#[path = "../../../../fuzz/src/entries.rs"]
mod entries;

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
