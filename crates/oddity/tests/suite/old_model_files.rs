//! Model directories written by older versions (tests/fixtures/v1-device): `device` in the
//! config, no training-score mean / sd. They load, score as they did, and re-save without `device`.

use std::path::{Path, PathBuf};

use oddity::data::{self, LoadOptions};
use oddity::detector::ProbabilityMethod;
use oddity::{Error, registry};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1-device")
}

fn shipped(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data").join(rel)
}

/// The `score` column of a CSV written by `oddity score`.
fn old_scores(name: &str) -> Vec<f32> {
    let text = std::fs::read_to_string(root().join(format!("{name}.scores.csv"))).unwrap();
    let mut lines = text.lines();
    let col = lines.next().unwrap().split(',').position(|c| c == "score").unwrap();
    lines.map(|l| l.split(',').nth(col).unwrap().parse().unwrap()).collect()
}

#[test]
fn old_model_files_with_a_device_key_load_and_score_as_before() {
    let cases = [
        ("deep-cluster", shipped("odds/wbc.mat"), LoadOptions::default()),
        (
            "ganomaly",
            shipped("coil20-small"),
            LoadOptions {
                resize: Some((16, 16)),
                ..LoadOptions::default()
            },
        ),
    ];
    for (name, path, opts) in cases {
        let dir = root().join(name);
        let raw = std::fs::read_to_string(dir.join("model.json")).unwrap();
        assert!(raw.contains("\"device\""), "{name}: the fixture lost its device key");
        let det = registry::load(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        let data = data::load(&path, &opts).unwrap().into_all().unwrap();
        let scores = det.score(&data).unwrap();
        let want = old_scores(name);
        assert_eq!(scores.len(), want.len(), "{name}");
        for (i, (a, b)) in scores.iter().zip(&want).enumerate() {
            assert!((a - b).abs() <= 1e-5 * b.abs().max(1e-3), "{name} row {i}: {a} vs {b}");
        }
        // No mean / sd in the file: linear works, unify asks for a refit.
        let s = det.summary();
        assert!(s.train_score_mean.is_none() && s.train_score_sd.is_none(), "{name}");
        let lin = det.probability(&scores, ProbabilityMethod::Linear).unwrap();
        let range = f64::from(s.train_score_max) - f64::from(s.train_score_min);
        for (p, &v) in lin.iter().zip(&scores) {
            let want = ((f64::from(v) - f64::from(s.train_score_min)) / range).clamp(0.0, 1.0);
            assert!((p - want).abs() < 1e-12, "{name}: {p} vs {want}");
        }
        let e = det.probability(&scores, ProbabilityMethod::Unify).unwrap_err();
        assert!(
            matches!(e, Error::InvalidData(_)) && e.to_string().contains("refit"),
            "{name}: {e}"
        );
        // Saved again: no device in the config, same scores.
        let tmp = tempfile::tempdir().unwrap();
        let again = tmp.path().join("m");
        det.save(&again).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(again.join("model.json")).unwrap()).unwrap();
        assert!(json["config"].get("device").is_none(), "{name}: {}", json["config"]);
        assert_eq!(registry::load(&again).unwrap().score(&data).unwrap(), scores, "{name}");
    }
}
