//! The GPU test group: GANomaly and deep clustering (DCEC) trained and scored on a burn GPU
//! backend, checked against the CPU backend (`flex`), and model directories moved between the two.
//!
//! Built only with a GPU feature (`[[test]] required-features` in Cargo.toml):
//!
//! ```text
//! XDG_RUNTIME_DIR=/tmp cargo test -p oddity --profile gpu-test --features wgpu-untuned --test gpu -- --test-threads=1
//! ```
//!
//! The device is `ODDITY_TEST_DEVICE` (default `vulkan` in a build with that feature, else
//! `wgpu`). Without a GPU, Mesa's software Vulkan driver (lavapipe; Debian `mesa-vulkan-drivers`)
//! runs it through wgpu, which is what `.ci/run` does, with the `wgpu-untuned` build (no autotuning:
//! lavapipe compiles every kernel with LLVM, and autotuning compiles and times every candidate — the
//! group took 332 s with it, 27 s without, at the sizes below then). A device that does not open fails the
//! group: it never skips. Sizes: 512 digits of the shipped MNIST subset; GANomaly at 16 × 16 for
//! 6 epochs, DCEC with 10 pretraining epochs and 40 fine-tuning iterations (~95 s for the group on
//! 2 cores). The `vulkan` build crashes lavapipe (README, GPU). GANomaly's training step is also
//! compared with the CPU's step by step in `src/models/ganomaly/gpu_step_tests.rs`.
//!
//! Tolerances: see [`SAME_WEIGHTS_TOL`], [`AUC_TOL`] and [`ACC_TOL`]. Each test prints the
//! differences it measures (`--nocapture`).

use std::path::Path;
use std::sync::OnceLock;

use oddity::backend::{Device, cpu, parse_device};
use oddity::data::{Dataset, Labels, Loaded};
use oddity::detector::{Common, Detector, FitContext, Model};
use oddity::metrics::{clustering_accuracy, roc_auc};
use oddity::models::deep_cluster::{DeepCluster, DeepClusterConfig};
use oddity::models::ganomaly::{BnAtScore, Ganomaly, GanomalyConfig};
use oddity::persist;
use oddity::progress::Silent;
use oddity::registry;

const MNIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/mnist-small");

/// Largest |a − b| over scores, relative to the largest |score|, between the same weights scored
/// on the GPU and on the CPU (save on one, load on the other): f32 arithmetic in another order
/// through ~10 layers. Measured on lavapipe through wgpu (Mesa 22.3.6, 2026-12-03):
/// GANomaly 8.6e-7 (GPU → CPU, both batch-norm modes) and 1.3e-6 (CPU → GPU), DCEC 5.0e-7 and
/// 2.8e-7; the bound is ~8× the largest. A GPU whose matrix products round more coarsely (TF32)
/// may need more; the test says by how much.
const SAME_WEIGHTS_TOL: f64 = 1e-5;

/// ROC-AUC of GANomaly trained on the GPU vs on the CPU from the same seed: rounding differences
/// compound over the training steps, so the models may differ, but they must rank about as well.
/// Measured on lavapipe (untuned kernels, 6 epochs of 16 steps): 0.5767 on both, scores within
/// 1.7e-6 relative. With autotuned kernels (2 epochs of 8 steps): 0.4407 vs 0.4372, 1.1e-2.
const AUC_TOL: f64 = 0.05;

/// Clustering accuracy of DCEC trained on the GPU vs on the CPU from the same seed (as [`AUC_TOL`]).
/// Measured on lavapipe: 0.3574 on both (scores within 3.4e-5 relative after 10 epochs and 40
/// iterations).
const ACC_TOL: f64 = 0.1;

fn gpu() -> Device {
    let default = if cfg!(feature = "vulkan") { "vulkan" } else { "wgpu" };
    let spec = std::env::var("ODDITY_TEST_DEVICE").unwrap_or_else(|_| default.into());
    parse_device(&spec).unwrap_or_else(|e| panic!("the GPU test group needs a device: {e}"))
}

fn mnist() -> &'static Loaded {
    static DATA: OnceLock<Loaded> = OnceLock::new();
    DATA.get_or_init(|| oddity::data::idx::load_dir(Path::new(MNIST)).unwrap())
}

fn class_ids(d: &Dataset) -> Vec<u32> {
    match d.labels() {
        Labels::Classes { ids, .. } => ids.clone(),
        _ => panic!("MNIST has classes"),
    }
}

/// 512 training digits other than 0 (unlabelled); 200 test digits with "is a 0" flags.
fn loco() -> (Dataset, Dataset, Vec<bool>) {
    let data = mnist();
    let ids = class_ids(&data.train);
    let keep: Vec<usize> = (0..ids.len()).filter(|&i| ids[i] != 0).take(512).collect();
    let train = data.train.select(&keep).unwrap().with_labels(Labels::None).unwrap();
    let test = data.test.as_ref().unwrap();
    let test = test.select(&(0..200).collect::<Vec<_>>()).unwrap();
    let flags = class_ids(&test).iter().map(|&c| c == 0).collect();
    (train, test, flags)
}

/// Largest |a − b| relative to the largest |a|.
fn rel_diff(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = a.iter().fold(0f64, |m, &v| m.max((v as f64).abs())).max(1e-12);
    let d = a
        .iter()
        .zip(b)
        .fold(0f64, |m, (&x, &y)| m.max((x as f64 - y as f64).abs()));
    d / scale
}

fn ganomaly_tiny() -> GanomalyConfig {
    GanomalyConfig {
        isize: 16,
        nz: 16,
        ngf: 8,
        ndf: 8,
        batch_size: 32,
        epochs: 6,
        ..GanomalyConfig::default()
    }
}

fn fit_ganomaly(train: &Dataset, device: Device) -> Detector<Ganomaly> {
    let ctx = FitContext::new(5, &Silent).with_device(device);
    Detector::<Ganomaly>::fit(ganomaly_tiny(), Common::default(), train, &ctx).unwrap()
}

/// GANomaly trained on the GPU: batch norm in training and eval mode, Adam, the latent score.
/// It must rank about as well as the CPU run from the same seed, and its model directory must give the same
/// scores on the CPU (both batch-norm modes), and a CPU model the same scores on the GPU.
#[test]
fn ganomaly_on_the_gpu_agrees_with_the_cpu_and_moves_between_them() {
    let (train, test, flags) = loco();
    let t = std::time::Instant::now();
    let on_gpu = fit_ganomaly(&train, gpu());
    let gpu_fit_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let on_cpu = fit_ganomaly(&train, cpu());
    let cpu_fit_s = t.elapsed().as_secs_f64();
    let s_gpu = on_gpu.score(&test).unwrap();
    let s_cpu = on_cpu.score(&test).unwrap();
    let (auc_gpu, auc_cpu) = (roc_auc(&flags, &s_gpu).unwrap(), roc_auc(&flags, &s_cpu).unwrap());
    let same_seed = rel_diff(&s_cpu, &s_gpu);
    eprintln!(
        "ganomaly: fit {gpu_fit_s:.1}s on the GPU, {cpu_fit_s:.1}s on the CPU; AUC {auc_gpu:.4} / {auc_cpu:.4}; \
         same seed, largest relative score difference {same_seed:.2e}"
    );
    assert!(
        (auc_gpu - auc_cpu).abs() < AUC_TOL,
        "AUC {auc_gpu} on the GPU, {auc_cpu} on the CPU"
    );

    let dir = tempfile::tempdir().unwrap();
    // GPU → CPU, in both batch-norm modes (running statistics are saved with the weights).
    let path = dir.path().join("from-gpu");
    persist::save(&on_gpu, &path).unwrap();
    let loaded = persist::load::<Ganomaly>(&path, &cpu()).unwrap();
    let gpu_to_cpu = rel_diff(&s_gpu, &loaded.score(&test).unwrap());
    let batch_gpu = Ganomaly::load_weights(&on_gpu.config, &path.join(persist::WEIGHTS_FILE), &gpu())
        .unwrap()
        .with_bn_at_score(BnAtScore::Batch);
    let batch_cpu = loaded.model.with_bn_at_score(BnAtScore::Batch);
    let batch_mode = rel_diff(&batch_gpu.score(&test).unwrap(), &batch_cpu.score(&test).unwrap());
    // CPU → GPU, through the registry (what `oddity score --device` does).
    let path = dir.path().join("from-cpu");
    persist::save(&on_cpu, &path).unwrap();
    let any = registry::load_on(&path, &gpu()).unwrap();
    let cpu_to_gpu = rel_diff(&s_cpu, &any.score(&test).unwrap());
    eprintln!(
        "ganomaly: same weights, largest relative score difference GPU→CPU {gpu_to_cpu:.2e}, \
         batch-statistics mode {batch_mode:.2e}, CPU→GPU {cpu_to_gpu:.2e}"
    );
    for (what, d) in [
        ("GPU → CPU", gpu_to_cpu),
        ("GPU → CPU (batch statistics)", batch_mode),
        ("CPU → GPU", cpu_to_gpu),
    ] {
        assert!(d < SAME_WEIGHTS_TOL, "{what}: scores differ by {d} (relative)");
    }
}

fn dcec_tiny() -> DeepClusterConfig {
    DeepClusterConfig {
        conv_filters: vec![8, 16, 32],
        pretrain_epochs: 10,
        batch_size: 64,
        maxiter: 40,
        update_interval: 10,
        n_init: 3,
        ..DeepClusterConfig::default()
    }
}

/// DCEC (conv autoencoder pretraining, then the Student's t clustering layer with KL fine-tuning)
/// on the GPU: it must cluster about as well as the CPU run from the same seed, and its model
/// directory must give the same scores and clusters on the CPU, and the other way round.
#[test]
fn dcec_on_the_gpu_agrees_with_the_cpu_and_moves_between_them() {
    let data = mnist().train.select(&(0..512).collect::<Vec<_>>()).unwrap();
    let truth = class_ids(&data);
    let x = data.with_labels(Labels::None).unwrap();
    let fit = |device: Device| {
        let ctx = FitContext::new(3, &Silent).with_device(device);
        Detector::<DeepCluster>::fit(dcec_tiny(), Common::default(), &x, &ctx).unwrap()
    };
    let t = std::time::Instant::now();
    let on_gpu = fit(gpu());
    let gpu_fit_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let on_cpu = fit(cpu());
    let cpu_fit_s = t.elapsed().as_secs_f64();
    let c_gpu = on_gpu.model.assign(&x).unwrap();
    let c_cpu = on_cpu.model.assign(&x).unwrap();
    let (acc_gpu, acc_cpu) = (
        clustering_accuracy(&truth, &c_gpu).unwrap(),
        clustering_accuracy(&truth, &c_cpu).unwrap(),
    );
    let s_gpu = on_gpu.score(&x).unwrap();
    let s_cpu = on_cpu.score(&x).unwrap();
    let same_seed = rel_diff(&s_cpu, &s_gpu);
    eprintln!(
        "dcec: fit {gpu_fit_s:.1}s on the GPU, {cpu_fit_s:.1}s on the CPU; ACC {acc_gpu:.4} / {acc_cpu:.4}; \
         same seed, largest relative score difference {same_seed:.2e}"
    );
    assert!(
        (acc_gpu - acc_cpu).abs() < ACC_TOL,
        "ACC {acc_gpu} on the GPU, {acc_cpu} on the CPU"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("from-gpu");
    persist::save(&on_gpu, &path).unwrap();
    let loaded = persist::load::<DeepCluster>(&path, &cpu()).unwrap();
    let gpu_to_cpu = rel_diff(&s_gpu, &loaded.score(&x).unwrap());
    let same_clusters = loaded.model.assign(&x).unwrap() == c_gpu;
    let path = dir.path().join("from-cpu");
    persist::save(&on_cpu, &path).unwrap();
    let loaded = persist::load::<DeepCluster>(&path, &gpu()).unwrap();
    let cpu_to_gpu = rel_diff(&s_cpu, &loaded.score(&x).unwrap());
    let same_clusters_back = loaded.model.assign(&x).unwrap() == c_cpu;
    eprintln!(
        "dcec: same weights, largest relative score difference GPU→CPU {gpu_to_cpu:.2e}, CPU→GPU {cpu_to_gpu:.2e}"
    );
    assert!(
        gpu_to_cpu < SAME_WEIGHTS_TOL,
        "GPU → CPU: scores differ by {gpu_to_cpu}"
    );
    assert!(
        cpu_to_gpu < SAME_WEIGHTS_TOL,
        "CPU → GPU: scores differ by {cpu_to_gpu}"
    );
    assert!(
        same_clusters && same_clusters_back,
        "the clusters changed between devices"
    );
}

/// The device list names the test device, and a model fitted there reports nothing device-bound
/// in its config (it loads anywhere).
#[test]
fn the_gpu_is_listed_and_not_recorded_in_the_model() {
    let listed = oddity::backend::list();
    assert!(listed.len() >= 2, "only the CPU is listed: {listed:?}");
    let (train, _, _) = loco();
    let tiny = GanomalyConfig {
        epochs: 1,
        ..ganomaly_tiny()
    };
    let ctx = FitContext::new(1, &Silent).with_device(gpu());
    let det = Detector::<Ganomaly>::fit(tiny, Common::default(), &train, &ctx).unwrap();
    let dir = tempfile::tempdir().unwrap();
    persist::save(&det, dir.path()).unwrap();
    let json = std::fs::read_to_string(dir.path().join(persist::MODEL_JSON)).unwrap();
    assert!(!json.contains("device"), "{json}");
}
