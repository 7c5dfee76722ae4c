//! Every registered model through fit → score → save → load → identical scores, and the model
//! directory's failure modes (damaged, foreign, newer, missing files).

use std::fs;
use std::path::Path;

use oddity::Error;
use oddity::data::{Dataset, Labels};
use oddity::detector::FitContext;
use oddity::persist::{MODEL_JSON, WEIGHTS_FILE};
use oddity::progress::Silent;
use oddity::registry::{self, Input, ModelEntry, Protocol, Settings};

use crate::fuzz_regressions::entries::tiny_data;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// 500 points: a Gaussian-like blob plus 25 far-away points, deterministic.
fn blob(seed: u64, d: usize) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in 0..500 {
        let outlier = i % 20 == 0;
        for _ in 0..d {
            let v: f32 = (0..4).map(|_| rng.random::<f32>() - 0.5).sum();
            x.push(if outlier {
                v + if rng.random::<bool>() { 4.0 } else { -4.0 }
            } else {
                v
            });
        }
        y.push(outlier);
    }
    Dataset::tabular("blob", d, x, Labels::Anomaly(y)).unwrap()
}

/// The models whose standard protocol is unsupervised (tabular data); image models have their own tests.
fn tabular_models() -> impl Iterator<Item = ModelEntry> {
    registry::models()
        .into_iter()
        .filter(|m| m.protocol == Protocol::Unsupervised)
}

/// The conformance test: every registered model, with its quick settings on tiny data of its input
/// kind, fits, scores, saves, loads back to identical scores, and refuses data of another shape
/// with a typed error.
#[test]
fn every_registered_model_round_trips_through_its_model_directory() {
    for entry in registry::models() {
        let name = entry.name;
        let data = tiny_data(entry.input);
        let settings = entry.quick_settings().unwrap();
        let det = entry
            .fit(&settings, &data, &FitContext::new(7, &Silent))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let scores = det.score(&data).unwrap();
        assert_eq!(scores.len(), data.n(), "{name}");
        assert!(scores.iter().all(|s| s.is_finite()), "{name}");
        let dir = tempfile::tempdir().unwrap();
        let model_dir = dir.path().join("model");
        det.save(&model_dir).unwrap();
        assert!(model_dir.join(MODEL_JSON).is_file() && model_dir.join(WEIGHTS_FILE).is_file());
        let loaded = registry::load(&model_dir).unwrap();
        assert_eq!(loaded.kind(), name);
        assert_eq!(loaded.score(&data).unwrap(), scores, "{name}: scores differ after load");
        assert_eq!(loaded.threshold(), det.threshold(), "{name}");
        assert_eq!(loaded.predict(&data).unwrap(), det.predict(&data).unwrap(), "{name}");
        // Saving again over the same directory replaces it cleanly.
        det.save(&model_dir).unwrap();
        assert_eq!(
            registry::load(&model_dir).unwrap().score(&data).unwrap(),
            scores,
            "{name}"
        );
        let err = loaded.score(&other_shape(entry.input)).unwrap_err();
        assert!(matches!(err, Error::Shape { .. }), "{name}: {err:?}");
    }
}

/// Data a model fitted on [`tiny_data`] of `input` cannot score: 3 features instead of 4 for
/// tabular models, rows of numbers for image models.
fn other_shape(input: Input) -> Dataset {
    let d = match input {
        Input::Tabular => 3,
        Input::Images => 256,
    };
    Dataset::tabular("other shape", d, vec![0.5; 4 * d], Labels::None).unwrap()
}

#[test]
fn same_seed_same_scores_different_seed_different_scores() {
    let data = blob(2, 4);
    for entry in tabular_models() {
        let fit = |seed| {
            entry
                .fit(&Settings::default(), &data, &FitContext::new(seed, &Silent))
                .unwrap()
                .score(&data)
                .unwrap()
        };
        assert_eq!(fit(3), fit(3), "{}", entry.name);
        assert_ne!(fit(3), fit(4), "{}", entry.name);
    }
}

#[test]
fn contamination_sets_the_flagged_fraction_of_training_data() {
    let data = blob(3, 3);
    let entry = registry::find("iforest").unwrap();
    for c in [0.05, 0.1, 0.2] {
        let settings = Settings::default().set("contamination", c.into());
        let det = entry.fit(&settings, &data, &FitContext::new(0, &Silent)).unwrap();
        let flagged = det.predict(&data).unwrap().iter().filter(|&&p| p).count() as f64 / data.n() as f64;
        assert!((flagged - c).abs() <= 0.01, "contamination {c}: flagged {flagged}");
    }
}

#[test]
fn scoring_data_of_another_shape_is_an_error() {
    let entry = registry::find("iforest").unwrap();
    let det = entry
        .fit(&Settings::default(), &blob(4, 3), &FitContext::new(0, &Silent))
        .unwrap();
    let err = det.score(&blob(4, 4)).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
    assert!(
        err.to_string().contains("[4]") && err.to_string().contains("[3]"),
        "{err}"
    );
}

#[test]
fn presets_expand_in_place_and_unknown_ones_are_typed_errors() {
    let entry = registry::find("dplan").unwrap();
    let config = |items: &[&str]| Settings::parse(items).unwrap().apply(&entry).unwrap().0;
    // `paper` names every field, so it gives the paper's values whatever the defaults are.
    let paper = config(&["ensemble=3", "preset=paper"]);
    assert_eq!(paper["ensemble"], 1);
    assert_eq!(paper["episodes"], 10);
    assert_eq!(paper["rmsprop"], "dqn");
    assert_eq!(paper["scaling"], "min_max");
    assert_eq!(paper["learning_rate"].as_f64().unwrap() as f32, 0.00025);
    let typed: oddity::models::dplan::DplanConfig = serde_json::from_value(paper).unwrap();
    assert_eq!(typed, oddity::models::dplan::DplanConfig::paper());
    // A key after the preset overrides it.
    assert_eq!(config(&["preset=paper", "ensemble=3"])["ensemble"], 3);
    assert_eq!(config(&["preset=code"])["rmsprop"], "keras");
    let e = Settings::parse(&["preset=nope"]).unwrap().apply(&entry).unwrap_err();
    assert!(
        matches!(e, Error::InvalidConfig { ref field, ref reason } if field == "preset" && reason.contains("paper")),
        "{e}"
    );
    // A model without presets says so.
    let iforest = registry::find("iforest").unwrap();
    let e = Settings::parse(&["preset=paper"]).unwrap().apply(&iforest).unwrap_err();
    assert!(
        matches!(e, Error::InvalidConfig { ref field, .. } if field == "preset"),
        "{e}"
    );
}

#[test]
fn settings_reject_unknown_keys_and_bad_values() {
    let entry = registry::find("iforest").unwrap();
    let e = Settings::parse(&["no_such_key=1"]).unwrap().apply(&entry).unwrap_err();
    assert!(
        matches!(e, Error::InvalidConfig { ref field, .. } if field == "no_such_key"),
        "{e}"
    );
    assert!(Settings::parse(&["missing-equals"]).is_err());
    let e = Settings::parse(&["contamination=0.9"])
        .unwrap()
        .apply(&entry)
        .unwrap_err();
    assert!(e.to_string().contains("contamination"), "{e}");
    let e = Settings::parse(&["contamination=lots"])
        .unwrap()
        .apply(&entry)
        .unwrap_err();
    assert!(e.to_string().contains("contamination"), "{e}");
    assert!(matches!(registry::find("nope"), Err(Error::UnknownModel { .. })));
}

fn saved_model() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("m");
    let entry = registry::find("iforest").unwrap();
    let det = entry
        .fit(&Settings::default(), &blob(5, 3), &FitContext::new(0, &Silent))
        .unwrap();
    det.save(&model_dir).unwrap();
    (dir, model_dir)
}

#[cfg(unix)]
#[test]
fn saved_model_directory_is_readable_by_other_users() {
    use std::os::unix::fs::PermissionsExt;
    let (_tmp, dir) = saved_model();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o755);
    assert_eq!(
        mode(&dir.join(MODEL_JSON)) & 0o044,
        0o044,
        "model.json not readable by others"
    );
    assert_eq!(
        mode(&dir.join(WEIGHTS_FILE)) & 0o044,
        0o044,
        "weights not readable by others"
    );
}

fn edit_json(dir: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let p = dir.join(MODEL_JSON);
    let mut v: serde_json::Value = serde_json::from_slice(&fs::read(&p).unwrap()).unwrap();
    f(&mut v);
    fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
}

fn load_err(dir: &Path) -> String {
    match registry::load(dir) {
        Ok(_) => panic!("loading {} should fail", dir.display()),
        Err(e) => {
            assert!(matches!(e, Error::ModelFile { .. } | Error::Io { .. }), "{e:?}");
            e.to_string()
        }
    }
}

#[test]
fn truncated_weights_are_detected() {
    let (_t, dir) = saved_model();
    let w = dir.join(WEIGHTS_FILE);
    let bytes = fs::read(&w).unwrap();
    fs::write(&w, &bytes[..bytes.len() / 2]).unwrap();
    assert!(load_err(&dir).contains("checksum"));
}

#[test]
fn missing_weights_or_json_are_detected() {
    let (_t, dir) = saved_model();
    fs::remove_file(dir.join(WEIGHTS_FILE)).unwrap();
    assert!(load_err(&dir).contains("missing"));
    let (_t2, dir2) = saved_model();
    fs::remove_file(dir2.join(MODEL_JSON)).unwrap();
    assert!(load_err(&dir2).contains("not a model directory"));
}

#[test]
fn newer_format_version_is_refused_with_a_clear_message() {
    let (_t, dir) = saved_model();
    edit_json(&dir, |v| v["format_version"] = 99.into());
    let msg = load_err(&dir);
    assert!(msg.contains("newer") && msg.contains("99"), "{msg}");
}

#[test]
fn unknown_kind_and_garbage_json_are_refused() {
    let (_t, dir) = saved_model();
    edit_json(&dir, |v| v["kind"] = "ganomaly-from-the-future".into());
    assert!(load_err(&dir).contains("unknown model kind"));
    let (_t2, dir2) = saved_model();
    fs::write(dir2.join(MODEL_JSON), b"{ not json").unwrap();
    assert!(load_err(&dir2).contains("not valid JSON"));
}

#[test]
fn out_of_range_config_in_model_json_is_refused() {
    let (_t, dir) = saved_model();
    edit_json(&dir, |v| v["common"]["contamination"] = 3.0.into());
    assert!(load_err(&dir).contains("contamination"));
}

#[test]
fn saving_never_clobbers_a_directory_that_is_not_a_model() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("precious.txt"), b"keep me").unwrap();
    let entry = registry::find("iforest").unwrap();
    let det = entry
        .fit(&Settings::default(), &blob(6, 2), &FitContext::new(0, &Silent))
        .unwrap();
    assert!(det.save(dir.path()).is_err());
    assert_eq!(fs::read(dir.path().join("precious.txt")).unwrap(), b"keep me");
    // and leaves no staging directories behind
    let leftovers: Vec<_> = fs::read_dir(dir.path().parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".oddity-model-"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn gradient_clipping_is_a_setting_of_every_trained_model_and_changes_the_fit() {
    let data = blob(3, 4);
    let cases: [(&str, &[&str]); 5] = [
        ("dplan", &["episodes=1", "steps_per_episode=400", "warmup_steps=100"]),
        ("devnet", &["epochs=2"]),
        ("deep-sad", &["epochs=2", "ae_epochs=2"]),
        ("repen", &["epochs=2"]),
        (
            "deep-cluster",
            &[
                "arch=mlp",
                "pretrain_epochs=2",
                "maxiter=20",
                "n_clusters=2",
                "n_init=2",
            ],
        ),
    ];
    for (name, sets) in cases {
        let entry = registry::find(name).unwrap();
        let fit = |extra: Option<&str>| {
            let mut all: Vec<&str> = sets.to_vec();
            all.extend(extra);
            let settings = Settings::parse(&all).unwrap();
            entry
                .fit(&settings, &data, &FitContext::new(2, &Silent))
                .unwrap()
                .score(&data)
                .unwrap()
        };
        let plain = fit(None);
        let clipped = fit(Some("clip_norm=0.000001"));
        assert!(clipped.iter().all(|s| s.is_finite()), "{name}");
        assert_ne!(plain, clipped, "{name}: clip_norm changed nothing");
    }
}

#[test]
fn a_diverging_fit_stops_with_an_error_naming_the_epoch() {
    let data = blob(4, 4);
    let cases: [(&str, &[&str]); 3] = [
        ("devnet", &["epochs=3", "lr=1e30", "clip_norm=0"]),
        ("deep-sad", &["epochs=3", "ae_epochs=1", "lr=1e30"]),
        ("repen", &["epochs=3", "lr=1e30"]),
    ];
    for (name, sets) in cases {
        let entry = registry::find(name).unwrap();
        let settings = Settings::parse(sets).unwrap();
        let e = entry
            .fit(&settings, &data, &FitContext::new(2, &Silent))
            .err()
            .unwrap_or_else(|| panic!("{name}: lr 1e30 did not diverge"));
        assert!(
            matches!(&e, Error::Diverged { at, .. } if at.starts_with("epoch ")),
            "{name}: {e:?}"
        );
        let e = e.to_string();
        assert!(e.contains("diverged") && e.contains("epoch"), "{name}: {e}");
    }
}

#[test]
fn a_model_json_describing_a_huge_network_is_refused_before_anything_is_built() {
    let images = {
        let x: Vec<f32> = (0..16 * 256).map(|k| (k % 17) as f32 / 17.0).collect();
        let layout = oddity::data::Layout::Images { c: 1, h: 16, w: 16 };
        Dataset::new("tiny", layout, x, Labels::None).unwrap()
    };
    let cases: [(&str, &[&str], &str, serde_json::Value); 3] = [
        (
            "ganomaly",
            &["epochs=1", "ngf=4", "ndf=4", "nz=4", "isize=16"],
            "nz",
            1_000_000_000.into(),
        ),
        (
            "deep-cluster",
            &["pretrain_epochs=1", "maxiter=2", "n_clusters=2", "conv_filters=[2,2,2]"],
            "conv_filters",
            serde_json::json!([2, 2, 1_000_000_000]),
        ),
        (
            "deep-cluster",
            &["pretrain_epochs=1", "maxiter=2", "n_clusters=2", "conv_filters=[2,2,2]"],
            "n_clusters",
            u64::MAX.into(),
        ),
    ];
    for (name, sets, key, value) in cases {
        let det = registry::find(name)
            .unwrap()
            .fit(&Settings::parse(sets).unwrap(), &images, &FitContext::new(1, &Silent))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("m");
        det.save(&model).unwrap();
        let json_path = model.join(MODEL_JSON);
        let mut json: serde_json::Value = serde_json::from_slice(&fs::read(&json_path).unwrap()).unwrap();
        json["config"][key] = value;
        fs::write(&json_path, serde_json::to_vec(&json).unwrap()).unwrap();
        let start = std::time::Instant::now();
        let e = registry::load(&model).err().unwrap().to_string();
        assert!(
            e.contains("do not belong together") || e.contains(key),
            "{name}.{key}: {e}"
        );
        assert!(
            start.elapsed().as_secs_f64() < 5.0,
            "{name}.{key}: took {:?}",
            start.elapsed()
        );
    }
}
