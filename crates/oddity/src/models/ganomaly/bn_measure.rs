//! Measurement behind `bn_at_score`'s default (docs/bench/ganomaly.md, "Batch-norm statistics at
//! scoring"): one leave-one-class-out training run per (class, seed), every epoch's generator
//! kept; for each epoch budget B, the epoch each batch-norm mode would keep (lowest validation
//! loss in that mode among epochs 1..=B), the pair `auto` keeps, and the test ROC-AUC / AUC-PR of
//! each. A run with `epochs = B` trains exactly the first B epochs of this run (same seed, same
//! draws), so one run answers every budget. Not a check: run by hand, in the release profile (the
//! test runs in `crates/oddity`, so give absolute paths):
//!
//! ```sh
//! ODDITY_MNIST=$(realpath ../shared/data/mnist) ODDITY_CLASSES=0,1,2 ODDITY_SEEDS=0,1 ODDITY_EPOCHS=5 \
//!   ODDITY_BUDGETS=2,3,5 ODDITY_MAX_TRAIN=2000 ODDITY_VAL_FRACTION=0.02 ODDITY_OUT=$PWD/bn.jsonl \
//!   cargo test --release --workspace --lib ganomaly::bn_measure -- --ignored --nocapture
//! ```
//!
//! `ODDITY_SET=ngf=16,ndf=16,batch_size=32` overrides hyperparameters (the demo's run:
//! `ODDITY_MNIST=data/mnist-small ODDITY_CLASSES=0 ODDITY_SEEDS=0 ODDITY_VAL_FRACTION=0.1`).

use std::time::Instant;

use serde_json::json;

use super::train::{Validation, auto_merit, fit_observed};
use super::{BnAtScore, GanomalyConfig, prepare, score_images};
use crate::backend::parse_device;
use crate::data::{LoadOptions, load};
use crate::detector::{FitContext, ModelConfig};
use crate::eval::{LocoOptions, leave_one_class_out_split};
use crate::metrics::{average_precision, roc_auc};
use crate::models::ganomaly::nets::NetG;
use crate::progress::Silent;
use crate::report::HistoryRecorder;

fn env(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_string())
}

fn list(key: &str, default: &str) -> Vec<u64> {
    env(key, default)
        .split(',')
        .map(|v| v.trim().parse().expect(key))
        .collect()
}

/// The default config with `ODDITY_EPOCHS` and the `ODDITY_SET` overrides, `bn_at_score = auto`.
fn config() -> GanomalyConfig {
    let mut v = serde_json::to_value(GanomalyConfig::default()).unwrap();
    v["epochs"] = json!(list("ODDITY_EPOCHS", "5")[0]);
    v["bn_at_score"] = json!("auto");
    for kv in env("ODDITY_SET", "").split(',').filter(|s| !s.is_empty()) {
        let (k, val) = kv.split_once('=').expect("ODDITY_SET: key=value,...");
        v[k] = serde_json::from_str(val).unwrap_or_else(|_| json!(val));
    }
    serde_json::from_value(v).unwrap()
}

/// Index (0-based epoch) of the lowest value among the first `budget`.
fn lowest(values: &[f64], budget: usize) -> usize {
    (0..budget.min(values.len()))
        .min_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap()
}

#[test]
#[ignore = "a measurement on full MNIST (minutes per run); see the module docs"]
fn bn_modes_by_epoch_budget() {
    let dir = env("ODDITY_MNIST", "../shared/data/mnist");
    let data = load(&dir, &LoadOptions::default()).unwrap();
    let opts = LocoOptions {
        max_train: std::env::var("ODDITY_MAX_TRAIN").ok().map(|v| v.parse().unwrap()),
        val_fraction: env("ODDITY_VAL_FRACTION", "0.1").parse().unwrap(),
        ..LocoOptions::default()
    };
    let budgets: Vec<usize> = list("ODDITY_BUDGETS", "2,3,5")
        .into_iter()
        .map(|b| b as usize)
        .collect();
    let device = parse_device("cpu").unwrap();
    for class in list("ODDITY_CLASSES", "0,1,2") {
        for seed in list("ODDITY_SEEDS", "0,1") {
            let start = Instant::now();
            let split = leave_one_class_out_split(&data, class as u32, &opts, true, seed).unwrap();
            let mut cfg = config();
            cfg.infer_from_data(&split.train, &|_| false);
            cfg.validate().unwrap();
            let va = split.validation.as_ref().expect("a validation part");
            let flags = va.anomaly_flags().map(<[bool]>::to_vec).unwrap_or_default();
            let val = Validation::new(prepare(va, &cfg).unwrap(), flags);
            let train = prepare(&split.train, &cfg).unwrap();
            let test = prepare(&split.test, &cfg).unwrap();
            let recorder = HistoryRecorder::new(&Silent);
            let ctx = FitContext::new(seed, &recorder);
            let mut snapshots: Vec<NetG> = Vec::new();
            let mut seconds: Vec<f64> = Vec::new();
            let mut keep = |_: usize, g: &NetG| {
                snapshots.push(g.clone());
                seconds.push(start.elapsed().as_secs_f64());
            };
            let (_, chosen) = fit_observed(&cfg, &train, Some(&val), &device, &ctx, None, Some(&mut keep)).unwrap();
            let history = recorder.take();
            let series = |mode: BnAtScore| -> (String, Vec<f64>) {
                let s = history
                    .iter()
                    .find(|s| s.name.starts_with("validation") && s.name.ends_with(mode.name()))
                    .unwrap();
                (s.name.clone(), s.values.clone())
            };
            let (name, run_v) = series(BnAtScore::Running);
            let (_, batch_v) = series(BnAtScore::Batch);
            // Validation loss: lower is better; validation ROC-AUC: higher is better.
            let sign = if name.contains("ROC-AUC") { -1.0 } else { 1.0 };
            let run_m: Vec<f64> = run_v.iter().map(|v| sign * v).collect();
            let batch_m: Vec<f64> = batch_v.iter().map(|v| sign * v).collect();
            let mut scored: Vec<((usize, BnAtScore), (f64, f64))> = Vec::new();
            let mut metrics = |epoch: usize, mode: BnAtScore| -> (f64, f64) {
                if let Some((_, m)) = scored.iter().find(|(k, _)| *k == (epoch, mode)) {
                    return *m;
                }
                let c = GanomalyConfig {
                    bn_at_score: mode,
                    ..cfg.clone()
                };
                let s = score_images(&snapshots[epoch], &test, &c, &device).unwrap();
                let m = (
                    roc_auc(&split.test_flags, &s).unwrap(),
                    average_precision(&split.test_flags, &s).unwrap(),
                );
                scored.push(((epoch, mode), m));
                m
            };
            for &b in &budgets {
                let (er, eb) = (lowest(&run_m, b), lowest(&batch_m, b));
                // As the fit compares them (merit = minus the lower-is-better value).
                let auto = if auto_merit(-batch_m[eb], BnAtScore::Batch) > auto_merit(-run_m[er], BnAtScore::Running) {
                    BnAtScore::Batch
                } else {
                    BnAtScore::Running
                };
                if b == cfg.epochs {
                    assert_eq!(auto, chosen, "the fit's own choice");
                }
                let (r_auc, r_ap) = metrics(er, BnAtScore::Running);
                let (b_auc, b_ap) = metrics(eb, BnAtScore::Batch);
                let line = json!({
                    "data": dir, "class": class, "seed": seed, "budget": b,
                    "criterion": name.split(',').next().unwrap(),
                    "running": {"epoch": er + 1, "val": run_v[er], "roc_auc": r_auc, "ap": r_ap},
                    "batch": {"epoch": eb + 1, "val": batch_v[eb], "roc_auc": b_auc, "ap": b_ap},
                    "auto": auto.name(),
                    "train_seconds": seconds[b - 1],
                    "val_running": run_v, "val_batch": batch_v,
                    "config": serde_json::to_value(&cfg).unwrap(),
                    "n_train": split.train.n(), "n_val": va.n(),
                });
                println!("{line}");
                if let Ok(out) = std::env::var("ODDITY_OUT") {
                    use std::io::Write;
                    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(out).unwrap();
                    writeln!(f, "{line}").unwrap();
                }
            }
        }
    }
}
