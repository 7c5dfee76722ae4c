//! GANomaly on the repo's MNIST subset (`data/mnist-small`: 1,000 training / 500 test digits):
//! a short seeded training run must beat what an untrained generator scores, the same seed must
//! give the same scores, and save → load must give identical scores.

use std::path::Path;
use std::sync::OnceLock;

use oddity::Error;
use oddity::data::{Dataset, Labels, Loaded};
use oddity::detector::{Common, Detector, FitContext, Model};
use oddity::metrics::roc_auc;
use oddity::models::ganomaly::{BnAtScore, Ganomaly, GanomalyConfig, Precision};
use oddity::progress::Silent;

const MNIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/mnist-small");
/// The anomaly digit of the leave-one-class-out runs below.
const ANOMALY: u32 = 0;

fn mnist() -> &'static Loaded {
    static DATA: OnceLock<Loaded> = OnceLock::new();
    DATA.get_or_init(|| oddity::data::idx::load_dir(Path::new(MNIST)).unwrap())
}

/// Training digits other than [`ANOMALY`] (unlabelled), and the whole test split with anomaly flags.
fn loco() -> (Dataset, Dataset, Vec<bool>) {
    let data = mnist();
    let Labels::Classes { ids, .. } = data.train.labels() else {
        panic!("MNIST has classes")
    };
    let keep: Vec<usize> = (0..ids.len()).filter(|&i| ids[i] != ANOMALY).collect();
    let train = data.train.select(&keep).unwrap().with_labels(Labels::None).unwrap();
    let test = data.test.clone().unwrap();
    let Labels::Classes { ids, .. } = test.labels() else {
        panic!("MNIST has classes")
    };
    let flags: Vec<bool> = ids.iter().map(|&c| c == ANOMALY).collect();
    (train, test, flags)
}

/// Small and short: ngf = ndf = 16, batch 32 (28 steps per epoch on the 900 training digits).
fn small(epochs: usize) -> GanomalyConfig {
    GanomalyConfig {
        ngf: 16,
        ndf: 16,
        batch_size: 32,
        epochs,
        ..GanomalyConfig::default()
    }
}

fn fit(cfg: &GanomalyConfig, train: &Dataset, seed: u64) -> Ganomaly {
    Ganomaly::fit(cfg, train, &FitContext::new(seed, &Silent)).unwrap()
}

/// ROC-AUC floor for 3 epochs scored with batch statistics (the official code's scoring), digit 0
/// as the anomaly. Measured on this subset: untrained (lr 1e-12) 0.710; after 3 epochs 0.814
/// (seed 7; seed 8: 0.765), after 5 epochs 0.801. The floor sits halfway between untrained and
/// trained. Scored with running statistics, this short run ranks the other way round (AUC
/// 0.20-0.28, untrained 0.68): running statistics lag behind the fast-moving weights early in
/// training; hence both modes are offered and must be reported.
const FLOOR: f64 = 0.76;

#[test]
fn short_training_beats_untrained_floor_and_reloads_identically() {
    let (train, test, flags) = loco();
    let batch_stats = |c: GanomalyConfig| GanomalyConfig {
        bn_at_score: BnAtScore::Batch,
        ..c
    };
    let t = std::time::Instant::now();
    let untrained = fit(&batch_stats(GanomalyConfig { lr: 1e-12, ..small(1) }), &train, 7);
    let auc_untrained = roc_auc(&flags, &untrained.score(&test).unwrap()).unwrap();
    eprintln!("untrained: {auc_untrained:.4} ({:.1}s)", t.elapsed().as_secs_f64());
    let t = std::time::Instant::now();
    let cfg = batch_stats(small(3));
    let model = fit(&cfg, &train, 7);
    let scores = model.score(&test).unwrap();
    let auc = roc_auc(&flags, &scores).unwrap();
    eprintln!("trained: {auc:.4} ({:.1}s)", t.elapsed().as_secs_f64());
    assert!(auc_untrained < FLOOR, "untrained AUC {auc_untrained} reaches the floor");
    assert!(auc > FLOOR, "trained AUC {auc} <= {FLOOR}");

    // save -> load -> identical scores, in both batch-norm modes (running statistics are saved).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.safetensors");
    model.save_weights(&path).unwrap();
    model.save_weights(&path).unwrap(); // overwriting works
    let loaded = Ganomaly::load_weights(&cfg, &path, &oddity::backend::cpu()).unwrap();
    assert_eq!(loaded.score(&test).unwrap(), scores);
    let running = model.with_bn_at_score(BnAtScore::Running).score(&test).unwrap();
    let loaded_running = loaded.with_bn_at_score(BnAtScore::Running).score(&test).unwrap();
    assert_eq!(running, loaded_running);
    assert_ne!(running, scores);
}

/// The demo's GANomaly run (`oddity demo`, crates/oddity-cli/src/commands/demo.rs): digit 0 as
/// the anomaly, leave-one-class-out with 10% of the training normals held out for validation,
/// ngf = ndf = 16, batch 32, 3 epochs, seed 0, the default `bn_at_score` (auto). Its ROC-AUC must
/// clear 0.75 (issue 24's bar): an untrained generator scores 0.68-0.71 on this subset, and running
/// statistics after so short a run invert the ranking (0.48 for this seed, the demo's former
/// default row) — what `auto` is there to avoid. Measured: 0.812 (auto keeps batch statistics).
#[test]
fn the_demo_run_with_the_default_batch_norm_mode_ranks_anomalies_first() {
    use oddity::eval::{LocoOptions, Plan};
    use oddity::registry::{self, Settings};

    let entry = registry::find("ganomaly").unwrap();
    let settings = Settings::parse(&["epochs=3", "ngf=16", "ndf=16", "batch_size=32"]).unwrap();
    let t = std::time::Instant::now();
    let plan = Plan::LeaveOneClassOut {
        anomaly_class: ANOMALY,
        options: LocoOptions::default(),
    };
    let recs = crate::evaluate(&entry, &settings, mnist(), "mnist-small", 0, &plan)
        .unwrap()
        .records;
    assert_eq!(recs[0].metric, "roc_auc");
    let auc = recs[0].value;
    eprintln!(
        "demo run, default bn_at_score: ROC-AUC {auc:.4} ({:.1}s)",
        t.elapsed().as_secs_f64()
    );
    assert!(auc > 0.75, "the demo's default GANomaly row has ROC-AUC {auc} <= 0.75");
}

/// 300 training digits, 100 test digits, and a tiny one-epoch config (ngf = ndf = 8).
fn small_run() -> (Dataset, Dataset, GanomalyConfig) {
    let (train, test, _) = loco();
    let train = train.select(&(0..300).collect::<Vec<_>>()).unwrap();
    let test = test.select(&(0..100).collect::<Vec<_>>()).unwrap();
    let cfg = GanomalyConfig {
        ngf: 8,
        ndf: 8,
        ..small(1)
    };
    (train, test, cfg)
}

/// [`small_run`]: same seed, same scores; other seed, other scores.
#[test]
fn same_seed_same_scores() {
    let (train, test, cfg) = small_run();
    let a = fit(&cfg, &train, 3).score(&test).unwrap();
    assert_eq!(a, fit(&cfg, &train, 3).score(&test).unwrap());
    assert_ne!(a, fit(&cfg, &train, 4).score(&test).unwrap());
    assert!(a.iter().all(|s| s.is_finite() && *s >= 0.0));
}

/// [`small_run`] with `precision = bf16` (bf16 products, f32 sums and weights): same seed, same scores; not f32's scores
/// (the products did round), but near them after one short epoch.
#[test]
fn bf16_precision_is_deterministic_and_near_f32() {
    let (train, test, f32_cfg) = small_run();
    let bf16_cfg = GanomalyConfig {
        precision: Precision::Bf16,
        ..f32_cfg.clone()
    };
    let a = fit(&bf16_cfg, &train, 3).score(&test).unwrap();
    assert_eq!(a, fit(&bf16_cfg, &train, 3).score(&test).unwrap());
    let f = fit(&f32_cfg, &train, 3).score(&test).unwrap();
    assert_ne!(a, f);
    let scale = f.iter().fold(0f32, |m, v| m.max(v.abs()));
    let worst = a.iter().zip(&f).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
    assert!(
        worst <= 0.1 * scale,
        "bf16 scores differ from f32 by up to {worst} (scale {scale})"
    );
}

/// Through the detector wrapper: threshold from the training scores, and typed errors for
/// tabular data, a missing or foreign weights file, and a bad config.
#[test]
fn detector_errors_are_typed() {
    let (train, _, _) = loco();
    let train = train.select(&(0..64).collect::<Vec<_>>()).unwrap();
    let cfg = GanomalyConfig {
        ngf: 8,
        ndf: 8,
        ..small(1)
    };
    let det = Detector::<Ganomaly>::fit(cfg.clone(), Common::default(), &train, &FitContext::new(1, &Silent)).unwrap();
    assert_eq!(det.summary.n_train, 64);
    assert!(det.threshold().is_finite());
    let tab = Dataset::tabular("t", 4, vec![0.0; 8], Labels::None).unwrap();
    assert!(matches!(
        Ganomaly::fit(&cfg, &tab, &FitContext::new(1, &Silent)),
        Err(Error::Shape { .. })
    ));
    let bad = GanomalyConfig { nz: 0, ..cfg.clone() };
    assert!(matches!(
        Detector::<Ganomaly>::fit(bad, Common::default(), &train, &FitContext::new(1, &Silent)),
        Err(Error::InvalidConfig { .. })
    ));
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.safetensors");
    assert!(matches!(
        Ganomaly::load_weights(&cfg, &missing, &oddity::backend::cpu()),
        Err(Error::Io { .. })
    ));
    let path = dir.path().join("w.safetensors");
    det.model.save_weights(&path).unwrap();
    let other = GanomalyConfig { nz: 50, ..cfg.clone() };
    let e = Ganomaly::load_weights(&other, &path, &oddity::backend::cpu()).unwrap_err();
    assert!(
        matches!(e, Error::Format { .. }) && e.to_string().contains("w.safetensors"),
        "{e}"
    );
    std::fs::write(&path, b"garbage").unwrap();
    assert!(matches!(
        Ganomaly::load_weights(&cfg, &path, &oddity::backend::cpu()),
        Err(Error::Format { .. })
    ));
}

/// The leave-one-class-out protocol (run here with the fast Isolation Forest): the records match
/// fitting on the other training classes and scoring the whole test split by hand.
#[test]
fn leave_one_class_out_protocol() {
    use oddity::eval::{LocoOptions, Plan};
    use oddity::metrics::average_precision;
    use oddity::models::iforest::IForest;
    use oddity::registry::{self, Settings};

    let entry = registry::find("iforest").unwrap();
    let opts = LocoOptions::default();
    let plan = |anomaly_class| Plan::LeaveOneClassOut {
        anomaly_class,
        options: opts.clone(),
    };
    let recs = crate::evaluate(&entry, &Settings::default(), mnist(), "mnist", 5, &plan(ANOMALY))
        .unwrap()
        .records;
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().all(|r| r.dataset == "mnist (anomaly 0)" && r.seed == 5));
    let (train, test, flags) = loco();
    assert_eq!(
        train.n(),
        1000 - 97,
        "digit 0 appears 97 times in the subset's training split"
    );
    let scores = Detector::<IForest>::fit(
        Default::default(),
        Common::default(),
        &train,
        &FitContext::new(5, &Silent),
    )
    .unwrap()
    .score(&test)
    .unwrap();
    assert_eq!(recs[0].metric, "roc_auc");
    assert_eq!(recs[0].value, roc_auc(&flags, &scores).unwrap());
    assert_eq!(recs[1].metric, "average_precision");
    assert_eq!(recs[1].value, average_precision(&flags, &scores).unwrap());

    let err = crate::evaluate(&entry, &Settings::default(), mnist(), "m", 0, &plan(10)).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
    let no_split = Loaded::from(mnist().train.clone());
    let err = crate::evaluate(&entry, &Settings::default(), &no_split, "m", 0, &plan(0)).unwrap_err();
    assert!(
        matches!(err, Error::InvalidData(_)) && err.to_string().contains("train/test"),
        "{err}"
    );
}

/// Seconds per training step at the defaults (batch 64, isize 32, ngf = ndf = 64): 10 steps on
/// 640 digits. Timing only: `cargo test --release -p oddity --test suite ganomaly:: -- --ignored --nocapture`.
#[test]
#[ignore = "timing, not a check; run in the release profile"]
fn seconds_per_training_step() {
    let (train, _, _) = loco();
    let train = train.select(&(0..640).collect::<Vec<_>>()).unwrap();
    let cfg = GanomalyConfig {
        epochs: 1,
        ..GanomalyConfig::default()
    };
    let t = std::time::Instant::now();
    fit(&cfg, &train, 0);
    let s = t.elapsed().as_secs_f64();
    eprintln!(
        "10 steps in {s:.2}s: {:.3} s/step ({} threads)",
        s / 10.0,
        rayon::current_num_threads()
    );
}

/// Training data with anomaly labels takes the validation path (anomalies + 10% of the normals
/// held out, best epoch kept): it fits, scores, and differs from a fit that ignores the labels.
#[test]
fn labelled_training_data_uses_a_validation_split() {
    let data = mnist();
    let Labels::Classes { ids, .. } = data.train.labels() else {
        panic!("MNIST has classes")
    };
    let idx: Vec<usize> = (0..200).collect();
    let flags: Vec<bool> = idx.iter().map(|&i| ids[i] == ANOMALY).collect();
    let labelled = data
        .train
        .select(&idx)
        .unwrap()
        .with_labels(Labels::Anomaly(flags))
        .unwrap();
    let cfg = GanomalyConfig {
        ngf: 8,
        ndf: 8,
        ..small(2)
    };
    let with_val = fit(&cfg, &labelled, 1).score(&labelled).unwrap();
    assert_eq!(with_val.len(), 200);
    assert!(with_val.iter().all(|s| s.is_finite()));
    let unlabelled = labelled.clone().with_labels(Labels::None).unwrap();
    assert_ne!(with_val, fit(&cfg, &unlabelled, 1).score(&labelled).unwrap());
}

/// Tiny and fast: ngf = ndf = 8, nz 16 — enough to test the training loop's bookkeeping.
fn tiny(epochs: usize) -> GanomalyConfig {
    GanomalyConfig {
        ngf: 8,
        ndf: 8,
        nz: 16,
        batch_size: 64,
        epochs,
        ..GanomalyConfig::default()
    }
}

fn fit_ckpt(cfg: &GanomalyConfig, train: &Dataset, dir: &Path, resume: bool) -> oddity::Result<Ganomaly> {
    let ckpt = oddity::checkpoint::Checkpointing {
        dir: dir.to_path_buf(),
        resume,
    };
    Ganomaly::fit(cfg, train, &FitContext::new(5, &Silent).with_checkpoint(ckpt))
}

fn checkpoint_step(dir: &Path) -> u64 {
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("current/state.json")).unwrap()).unwrap();
    state["step"].as_u64().unwrap()
}

#[test]
fn training_resumed_from_a_checkpoint_equals_an_uninterrupted_run() {
    let (train, test, _) = loco();
    let train = train.select(&(0..300).collect::<Vec<_>>()).unwrap();
    let straight = fit(&tiny(3), &train, 5).score(&test).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let ck = tmp.path().join("ck");
    fit_ckpt(&tiny(1), &train, &ck, false).unwrap();
    assert_eq!(checkpoint_step(&ck), 1);
    // Two more epochs from the checkpoint: the same scores, bit for bit, as three in one go.
    let resumed = fit_ckpt(&tiny(3), &train, &ck, true).unwrap().score(&test).unwrap();
    assert_eq!(checkpoint_step(&ck), 3);
    assert_eq!(resumed, straight);
    // A checkpoint of other data or another architecture is refused, naming the file.
    let other = loco().0.select(&(300..600).collect::<Vec<_>>()).unwrap();
    let e = fit_ckpt(&tiny(4), &other, &ck, true).unwrap_err().to_string();
    assert!(e.contains("state.json") && e.contains("different run"), "{e}");
    let e = fit_ckpt(&GanomalyConfig { nz: 8, ..tiny(4) }, &train, &ck, true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("different run"), "{e}");
}

#[test]
fn a_diverging_run_stops_naming_the_epoch_and_keeps_the_last_good_checkpoint() {
    let (train, _, _) = loco();
    let train = train.select(&(0..200).collect::<Vec<_>>()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let ck = tmp.path().join("ck");
    fit_ckpt(&tiny(1), &train, &ck, false).unwrap();
    let wild = GanomalyConfig { lr: 1e30, ..tiny(3) };
    let e = fit_ckpt(&wild, &train, &ck, true).unwrap_err();
    assert!(
        matches!(&e, Error::Diverged { model, at, loss: Some(_), .. }
            if model == "GANomaly" && at.starts_with("epoch 2, batch")),
        "{e:?}"
    );
    let e = e.to_string();
    assert!(e.contains("diverged") && e.contains("at epoch 2, batch"), "{e}");
    assert!(
        e.contains("checkpoint of epoch 1") && e.contains(&ck.display().to_string()),
        "{e}"
    );
    assert_eq!(checkpoint_step(&ck), 1, "the good checkpoint is kept");
    // ... and training goes on from it with a sane learning rate.
    fit_ckpt(&tiny(2), &train, &ck, true).unwrap();
    assert_eq!(checkpoint_step(&ck), 2);
}

#[test]
fn gradient_clipping_changes_training() {
    let (train, test, _) = loco();
    let train = train.select(&(0..128).collect::<Vec<_>>()).unwrap();
    let plain = fit(&tiny(1), &train, 5).score(&test).unwrap();
    let clipped = fit(
        &GanomalyConfig {
            clip_norm: 1e-3,
            ..tiny(1)
        },
        &train,
        5,
    )
    .score(&test)
    .unwrap();
    assert_ne!(plain, clipped);
    assert!(clipped.iter().all(|s| s.is_finite()));
}

/// Records the counted phases and the units advanced in each.
#[derive(Default)]
struct Phases(std::sync::Mutex<Vec<(String, u64, String, u64)>>);

impl oddity::progress::Progress for Phases {
    fn start(&self, phase: &str, total: Option<u64>) {
        self.0
            .lock()
            .unwrap()
            .push((phase.into(), total.unwrap_or(0), String::new(), 0));
    }
    fn start_counted(&self, phase: &str, total: u64, unit: &str) {
        self.0.lock().unwrap().push((phase.into(), total, unit.into(), 0));
    }
    fn advance(&self, n: u64) {
        if let Some(last) = self.0.lock().unwrap().last_mut() {
            last.3 += n;
        }
    }
    fn finish(&self) {}
}

/// Through the registry (as `oddity fit`): an RGB folder of 20×20 images trains a 3-channel,
/// 32-pixel GANomaly without `nc` / `isize` being set; the epochs report images with a time
/// estimate from the second on; scoring the same folder needs nothing more.
#[test]
fn an_rgb_folder_fits_with_inferred_channels_and_size_and_counts_images() {
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..10u32 {
        let img = image::RgbImage::from_fn(20, 20, |x, y| image::Rgb([(x * 12) as u8, (y * 12 + i) as u8, 200]));
        img.save(tmp.path().join(format!("part_{i:04}.png"))).unwrap();
    }
    let data = oddity::data::load(tmp.path(), &Default::default()).unwrap().train;
    let entry = oddity::registry::find("ganomaly").unwrap();
    let settings = oddity::registry::Settings::parse(&["epochs=2", "ngf=4", "ndf=4", "nz=4", "batch_size=4"]).unwrap();
    let phases = Phases::default();
    let det = entry.fit(&settings, &data, &FitContext::new(0, &phases)).unwrap();
    let config = det.config_json();
    assert_eq!((config["nc"].as_u64(), config["isize"].as_u64()), (Some(3), Some(32)));
    let epochs: Vec<_> = phases
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|p| p.0.starts_with("ganomaly epoch"))
        .cloned()
        .collect();
    assert_eq!(epochs.len(), 2);
    // 10 images in batches of 4, the last incomplete batch dropped: 8 images per epoch.
    for (phase, total, unit, done) in &epochs {
        assert_eq!((*total, unit.as_str(), *done), (8, "images", 8), "{phase}");
    }
    assert!(!epochs[0].0.contains("left"), "{}", epochs[0].0);
    assert!(epochs[1].0.contains("left"), "{}", epochs[1].0);
    assert_eq!(det.score(&data).unwrap().len(), 10);
    // `nc` given explicitly is kept: then the channel count must match.
    let one = settings.clone().set("nc", 1.into());
    let e = entry
        .fit(&one, &data, &FitContext::new(0, &Silent))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("nc=3"), "{e}");
}
