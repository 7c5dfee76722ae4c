//! The weakly supervised baselines (DevNet, Deep SAD, REPEN): losses and their gradients against
//! hand-computed values and finite differences, seeded runs on the weakly supervised split of the
//! shipped ADBench cardio set (30 labelled anomalies) against stated AUC-PR floors, save → load →
//! identical scores, determinism, config and data errors.
//!
//! On this split (split seed 0, fit seed 3; test positive rate 0.096) Isolation Forest gets
//! AUC-PR 0.672, DevNet 0.985, Deep SAD 0.934, REPEN 0.961. The floors below sit well above both
//! the positive rate and iForest, with room below the measured values for other platforms'
//! rounding.

use std::path::Path;

use oddity::Error;
use oddity::data::split::{WeakSplit, WeakSplitConfig, weakly_supervised_split};
use oddity::data::{Dataset, Labels, LoadOptions, load};
use oddity::detector::{Common, Detector, FitContext, Model};
use oddity::metrics::average_precision;
use oddity::models::deep_sad::{DeepSad, DeepSadConfig, deep_sad_loss, init_center};
use oddity::models::devnet::{DevNet, DevNetConfig, deviation_loss};
use oddity::models::iforest::{IForest, IForestConfig};
use oddity::models::repen::{Repen, RepenConfig, triplet_loss};
use oddity::progress::Silent;
use oddity::registry;

fn cardio_split(seed: u64) -> WeakSplit {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/adbench/6_cardio.npz");
    let data = load(&path, &LoadOptions::default()).unwrap().into_all().unwrap();
    let cfg = WeakSplitConfig {
        labeled_anomalies: 30,
        ..Default::default()
    };
    weakly_supervised_split(&data, &cfg, seed).unwrap()
}

fn fit<M: Model>(config: M::Config, train: &Dataset, seed: u64) -> Detector<M> {
    Detector::<M>::fit(config, Common::default(), train, &FitContext::new(seed, &Silent)).unwrap()
}

fn test_ap(det_scores: &[f32], split: &WeakSplit) -> f64 {
    average_precision(split.test.anomaly_flags().unwrap(), det_scores).unwrap()
}

/// Seeded fit on cardio: AUC-PR above `floor`; same seed → same scores; save → load (through the
/// registry) → identical scores.
fn check_model<M: Model + 'static>(config: M::Config, floor: f64) -> f64 {
    let split = cardio_split(0);
    let det = fit::<M>(config.clone(), &split.train, 3);
    let scores = det.score(&split.test).unwrap();
    let ap = test_ap(&scores, &split);
    eprintln!("{}: test AUC-PR {ap:.3}", M::KIND);
    assert!(ap > floor, "{}: AUC-PR {ap:.3} not above the floor {floor}", M::KIND);

    let again = fit::<M>(config, &split.train, 3);
    assert_eq!(
        again.score(&split.test).unwrap(),
        scores,
        "{}: same seed, other scores",
        M::KIND
    );

    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("model");
    oddity::persist::save(&det, &model_dir).unwrap();
    let loaded = registry::load(&model_dir).unwrap();
    assert_eq!(loaded.kind(), M::KIND);
    assert_eq!(
        loaded.score(&split.test).unwrap(),
        scores,
        "{}: scores differ after load",
        M::KIND
    );
    ap
}

#[test]
fn iforest_reference_on_the_same_split() {
    // Not a weakly supervised model: the number the floors are compared with.
    let split = cardio_split(0);
    let det = fit::<IForest>(
        IForestConfig::default(),
        &split.train.clone().with_labels(Labels::None).unwrap(),
        3,
    );
    let ap = test_ap(&det.score(&split.test).unwrap(), &split);
    eprintln!("iforest: test AUC-PR {ap:.3}");
    // Measured 0.672.
    assert!(ap > 0.5 && ap < 0.8, "iForest AUC-PR {ap}");
}

#[test]
fn devnet_on_cardio() {
    // Measured 0.985.
    check_model::<DevNet>(DevNetConfig::default(), 0.85);
}

#[test]
fn deep_sad_on_cardio() {
    // Measured 0.934.
    check_model::<DeepSad>(DeepSadConfig::default(), 0.75);
}

#[test]
fn repen_on_cardio() {
    // Measured 0.961.
    check_model::<Repen>(RepenConfig::default(), 0.8);
}

/// ∂loss/∂v by central differences of `f` at `v`.
fn finite_diff(v: &[f32], f: impl Fn(&[f32]) -> f32) -> Vec<f32> {
    let h = 1e-3f32;
    (0..v.len())
        .map(|i| {
            let mut up = v.to_vec();
            up[i] += h;
            let mut down = v.to_vec();
            down[i] -= h;
            (f(&up) - f(&down)) / (2.0 * h)
        })
        .collect()
}

fn close(a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() < tol, "component {i}: {x} vs {y}");
    }
}

#[test]
fn deviation_loss_by_hand_and_by_finite_differences() {
    // μ = 0.5, σ = 2, a = 5: scores (3.5, −0.5, 8.5, 12.5) → dev (1.5, −0.5, 4, 6);
    // labels (0, 0, 1, 1): (1.5 + 0.5 + 1 + 0)/4 = 0.75.
    let y = [false, false, true, true];
    let s = [3.5, -0.5, 8.5, 12.5];
    let (loss, g) = deviation_loss(&s, &y, 0.5, 2.0, 5.0);
    assert!((loss - 0.75).abs() < 1e-6);
    assert_eq!(g, vec![0.125, -0.125, -0.125, 0.0]);
    close(&g, &finite_diff(&s, |v| deviation_loss(v, &y, 0.5, 2.0, 5.0).0), 1e-3);
}

#[test]
fn deep_sad_loss_by_hand_and_by_finite_differences() {
    // c = (1, 0); z1 = (2, 1) unlabelled: ‖z1 − c‖² = 2; z2 = (1, 0.5) labelled anomaly:
    // η/(0.25 + ε) with η = 2, ε = 0 → 8; mean 5.
    let c = [1.0, 0.0];
    let lab = [false, true];
    let (loss, g) = deep_sad_loss(&[2.0, 1.0, 1.0, 0.5], &lab, &c, 2.0, 0.0);
    assert!((loss - 5.0).abs() < 1e-6);
    assert_eq!(g, vec![1.0, 1.0, 0.0, -16.0]);
    let z = [0.3, -1.2, 1.4, 0.9, -0.5, 0.7];
    let lab = [false, true, true];
    let c = [0.2, -0.1];
    let (_, g) = deep_sad_loss(&z, &lab, &c, 1.0, 1e-6);
    close(&g, &finite_diff(&z, |v| deep_sad_loss(v, &lab, &c, 1.0, 1e-6).0), 2e-3);
    // c: mean, with small coordinates pushed to ±0.1
    assert_eq!(
        init_center(&[-0.03, 0.05, 1.0, 0.0, 0.1, -1.0, -0.03, 0.0, 0.0], 3, 0.1),
        vec![-0.1, 0.1, 0.0]
    );
}

#[test]
fn triplet_loss_by_hand_and_by_finite_differences() {
    // k = 1, M = 10: (q, p, n) = (0, 1, 2): 10 − (4 − 1) = 7; (0, 0, 5): 10 − 25 < 0 → 0. Mean 3.5.
    let (loss, g) = triplet_loss(&[0.0, 0.0, 1.0, 0.0, 2.0, 5.0], 2, 1, 10.0);
    assert!((loss - 3.5).abs() < 1e-6);
    assert_eq!(g, vec![1.0, 0.0, 1.0, 0.0, -2.0, 0.0]);
    // k = 2, b = 2, every triplet active.
    let r = [0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.1, 1.0, 1.1, -0.9, 0.3];
    let (_, g) = triplet_loss(&r, 2, 2, 5.0);
    close(&g, &finite_diff(&r, |v| triplet_loss(v, 2, 2, 5.0).0), 2e-3);
}

#[test]
fn bad_configs_are_invalid_config_errors() {
    let split = cardio_split(1);
    let ctx = FitContext::new(0, &Silent);
    let e = Detector::<DevNet>::fit(
        DevNetConfig {
            margin: 0.0,
            ..Default::default()
        },
        Common::default(),
        &split.train,
        &ctx,
    )
    .err()
    .unwrap();
    assert!(
        matches!(e, Error::InvalidConfig { ref field, .. } if field == "margin"),
        "{e}"
    );
    let e = Detector::<DeepSad>::fit(
        DeepSadConfig {
            eta: -1.0,
            ..Default::default()
        },
        Common::default(),
        &split.train,
        &ctx,
    )
    .err()
    .unwrap();
    assert!(
        matches!(e, Error::InvalidConfig { ref field, .. } if field == "eta"),
        "{e}"
    );
    let e = Detector::<Repen>::fit(
        RepenConfig {
            epochs: 0,
            ..Default::default()
        },
        Common::default(),
        &split.train,
        &ctx,
    )
    .err()
    .unwrap();
    assert!(
        matches!(e, Error::InvalidConfig { ref field, .. } if field == "epochs"),
        "{e}"
    );
    // Through the registry's key=value settings, too.
    let entry = registry::find("devnet").unwrap();
    let settings = registry::Settings::parse(&["lr=0"]).unwrap();
    let e = entry.fit(&settings, &split.train, &ctx).err().unwrap();
    assert!(
        matches!(e, Error::InvalidConfig { ref field, .. } if field == "lr"),
        "{e}"
    );
}

#[test]
fn no_labelled_anomalies_is_a_typed_error() {
    let split = cardio_split(1);
    let none = split
        .train
        .clone()
        .with_labels(Labels::Anomaly(vec![false; split.train.n()]))
        .unwrap();
    let unlabeled = split.train.clone().with_labels(Labels::None).unwrap();
    let ctx = FitContext::new(0, &Silent);
    for entry in ["devnet", "deep-sad", "repen"].map(|n| registry::find(n).unwrap()) {
        for data in [&none, &unlabeled] {
            let e = entry.fit(&registry::Settings::default(), data, &ctx).err().unwrap();
            assert!(
                matches!(e, Error::InvalidData(ref m) if m.contains(entry.name)),
                "{}: {e}",
                entry.name
            );
        }
    }
}

#[test]
fn registered_as_weakly_supervised() {
    for name in ["devnet", "deep-sad", "repen"] {
        let entry = registry::find(name).unwrap();
        assert_eq!(entry.protocol, registry::Protocol::WeaklySupervised);
    }
}

/// Measurement, not a check: `ODDITY_WS_FILES=a.npz,b.npz ODDITY_WS_SEEDS=3 cargo test -p oddity
/// --test weakly_supervised -- --ignored --nocapture measure` runs the weakly supervised protocol
/// (`oddity eval` defaults: 60 labelled anomalies, 2% contamination) for iforest, devnet,
/// deep-sad and repen and prints AUC-PR, ROC-AUC and seconds per run.
#[test]
#[ignore]
fn measure() {
    let files = std::env::var("ODDITY_WS_FILES").unwrap_or_default();
    let seeds: u64 = std::env::var("ODDITY_WS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    for file in files.split(',').filter(|f| !f.is_empty()) {
        let data = load(file, &LoadOptions::default()).unwrap();
        for name in ["iforest", "devnet", "deep-sad", "repen"] {
            let entry = registry::find(name).unwrap();
            let (mut ap, mut roc, mut secs) = (Vec::new(), Vec::new(), 0.0);
            for seed in 0..seeds {
                let plan = oddity::eval::Plan::Weak(WeakSplitConfig::default());
                let recs = crate::evaluate(&entry, &registry::Settings::default(), &data, file, seed, &plan)
                    .unwrap()
                    .records;
                for r in &recs {
                    match r.metric.as_str() {
                        "average_precision" => ap.push(r.value),
                        "roc_auc" => roc.push(r.value),
                        _ => {}
                    }
                }
                secs += recs[0].seconds;
            }
            let mean_sd = |v: &[f64]| {
                let m = v.iter().sum::<f64>() / v.len() as f64;
                let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
                format!("{m:.3} ± {sd:.3}")
            };
            println!(
                "{file} | {name} | AUC-PR {} | ROC-AUC {} | {:.2} s/run",
                mean_sd(&ap),
                mean_sd(&roc),
                secs / seeds as f64
            );
        }
    }
}
