//! Isolation Forest against scikit-learn: expected scores on a toy set, ROC-AUC on a seeded
//! synthetic set, determinism, and the weights file. Reference numbers come from
//! `scripts/iforest_reference.py` (scikit-learn 1.9.1).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use oddity::Error;
use oddity::data::{Dataset, Labels};
use oddity::detector::{Common, Detector, FitContext, Model};
use oddity::models::iforest::{IForest, IForestConfig, MaxSamples};
use oddity::progress::{Progress, Silent};

fn dataset(d: usize, rows: &[Vec<f32>]) -> Dataset {
    Dataset::tabular("test", d, rows.concat(), Labels::None).unwrap()
}

fn fit(config: IForestConfig, data: &Dataset, seed: u64) -> IForest {
    IForest::fit(&config, data, &FitContext::new(seed, &Silent)).unwrap()
}

/// The 16 × 3 toy set of `scripts/iforest_reference.py` (`TOY`), then its 4 `QUERIES`.
fn toy() -> (Dataset, Dataset) {
    #[rustfmt::skip]
    let train: Vec<Vec<f32>> = vec![
        vec![0.0, 0.0, 1.0], vec![0.1, -0.2, 1.0], vec![-0.3, 0.1, 1.0], vec![0.2, 0.3, 1.0],
        vec![-0.1, -0.1, 1.0], vec![0.4, -0.3, 1.0], vec![-0.2, 0.4, 1.0], vec![0.3, 0.1, 1.0],
        vec![0.0, 0.5, 2.0], vec![-0.4, -0.4, 1.0], vec![0.5, 0.0, 1.0], vec![0.1, 0.1, 1.0],
        vec![0.1, 0.1, 1.0], vec![3.0, 3.0, 1.0], vec![-2.0, 0.5, 5.0], vec![0.2, -0.1, 1.0],
    ];
    let queries = vec![
        vec![0.0, 0.0, 1.0],
        vec![10.0, 10.0, 10.0],
        vec![0.25, 0.25, 1.5],
        vec![-1.0, 0.2, 1.0],
    ];
    (dataset(3, &train), dataset(3, &[train, queries].concat()))
}

/// The expected score (20,000 trees × 3 seeds in scikit-learn, 100,000 trees here) depends only on
/// the algorithm, not on the random streams: this pins down sampling, feature choice among
/// non-constant features, thresholds, depth limit, c(n) at the leaves and the normalisation.
#[test]
fn matches_sklearn_expected_scores() {
    #[rustfmt::skip]
    let cases: [(&str, IForestConfig, [f32; 20]); 4] = [
        ("default", IForestConfig::default(),
         [0.3525, 0.3744, 0.3885, 0.3814, 0.3714, 0.4312, 0.4128, 0.3641, 0.5564, 0.4921, 0.4042, 0.3450, 0.3450,
          0.7500, 0.7345, 0.3614, 0.3525, 0.8140, 0.4474, 0.4472]),
        ("max_samples=8", IForestConfig { max_samples: MaxSamples::Count(8), ..Default::default() },
         [0.3969, 0.4219, 0.4372, 0.4303, 0.4210, 0.4786, 0.4670, 0.4114, 0.5286, 0.5126, 0.4426, 0.3873, 0.3873,
          0.6217, 0.6542, 0.4097, 0.3969, 0.7029, 0.4633, 0.4767]),
        ("max_features=0.5", IForestConfig { max_features: 0.5, ..Default::default() },
         [0.3910, 0.4098, 0.4125, 0.4181, 0.4068, 0.4506, 0.4396, 0.4001, 0.5173, 0.4932, 0.4340, 0.3827, 0.3827,
          0.6399, 0.6806, 0.3985, 0.3910, 0.8145, 0.4622, 0.4681]),
        ("bootstrap", IForestConfig { bootstrap: true, ..Default::default() },
         [0.4508, 0.4796, 0.4977, 0.4898, 0.4775, 0.5454, 0.5300, 0.4665, 0.6124, 0.5864, 0.5088, 0.4369, 0.4369,
          0.7167, 0.7408, 0.4633, 0.4508, 0.7891, 0.5321, 0.5447]),
    ];
    let (train, all) = toy();
    for (name, config, expected) in cases {
        let forest = fit(
            IForestConfig {
                n_estimators: 100_000,
                ..config
            },
            &train,
            7,
        );
        let scores = forest.score(&all).unwrap();
        let worst = scores
            .iter()
            .zip(&expected)
            .map(|(s, e)| (s - e).abs())
            .fold(0f32, f32::max);
        println!("{name}: largest |oddity - sklearn| = {worst:.4}");
        for (i, (&s, &e)) in scores.iter().zip(&expected).enumerate() {
            // sklearn's reference mean has a standard error of ~0.0015, ours ~0.001; observed ≤ 0.0015.
            assert!(
                (s - e).abs() < 0.006,
                "{name}: sample {i}: oddity {s:.4} vs sklearn {e:.4}"
            );
        }
    }
}

/// SplitMix64, mirrored by `scripts/iforest_reference.py` so scikit-learn sees the same data.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// 1000 N(0, I₆) normals followed by 50 outliers uniform in [−3.5, 3.5]⁶ (`synthetic()` in the script).
fn synthetic() -> Dataset {
    let (n_normal, n_outlier, d, bound) = (1000, 50, 6, 3.5);
    let mut g = SplitMix64(20240601);
    let mut x = Vec::with_capacity((n_normal + n_outlier) * d);
    for _ in 0..n_normal * d {
        x.push(g.normal() as f32);
    }
    for _ in 0..n_outlier * d {
        x.push((bound * (2.0 * g.uniform() - 1.0)) as f32);
    }
    let labels = (0..n_normal + n_outlier).map(|i| i >= n_normal).collect();
    Dataset::tabular("synthetic", d, x, Labels::Anomaly(labels)).unwrap()
}

/// ROC-AUC as the Mann–Whitney statistic with ties counted half.
fn roc_auc(labels: &[bool], scores: &[f32]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += avg_rank * idx[i..=j].iter().filter(|&&k| labels[k]).count() as f64;
        i = j + 1;
    }
    let pos = labels.iter().filter(|&&l| l).count() as f64;
    let neg = labels.len() as f64 - pos;
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

#[test]
fn roc_auc_helper_matches_sklearn() {
    // sklearn.metrics.roc_auc_score([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.4, 0.4]) == 0.6666...
    let auc = roc_auc(
        &[false, false, true, true, false, true],
        &[0.1, 0.4, 0.35, 0.8, 0.4, 0.4],
    );
    assert!((auc - 2.0 / 3.0).abs() < 1e-12, "{auc}");
}

/// scikit-learn's IsolationForest over 20 seeds on this exact data: ROC-AUC mean 0.9517, std 0.0031,
/// min 0.9444.
#[test]
fn synthetic_quality_matches_sklearn() {
    let data = synthetic();
    // The generator mirrors the script's: x[0][0..2] and x[1000][0..2] as printed there.
    let close = |a: &[f32], b: [f32; 2]| (a[0] - b[0]).abs() < 1e-6 && (a[1] - b[1]).abs() < 1e-6;
    assert!(close(data.row(0), [-0.151_295_2, 0.061_597_0]), "{:?}", data.row(0));
    assert!(
        close(data.row(1000), [0.277_989_7, 2.065_742_3]),
        "{:?}",
        data.row(1000)
    );
    let labels = data.anomaly_flags().unwrap().to_vec();
    let aucs: Vec<f64> = (0..5)
        .map(|seed| {
            roc_auc(
                &labels,
                &fit(IForestConfig::default(), &data, seed).score(&data).unwrap(),
            )
        })
        .collect();
    let mean = aucs.iter().sum::<f64>() / aucs.len() as f64;
    println!("ROC-AUC per seed {aucs:.4?}, mean {mean:.4} (sklearn 0.9517)");
    assert!(aucs.iter().all(|&a| a > 0.935), "per-seed ROC-AUC {aucs:?}");
    assert!(
        mean > 0.945,
        "mean ROC-AUC {mean:.4} (sklearn 0.9517); per seed {aucs:?}"
    );
}

#[test]
fn obvious_outlier_scores_above_cluster_centre() {
    let data = synthetic();
    let forest = fit(IForestConfig::default(), &data, 1);
    let probe = dataset(6, &[vec![0.0; 6], vec![6.0; 6]]);
    let s = forest.score(&probe).unwrap();
    assert!(s[1] > s[0] + 0.2, "outlier {} vs centre {}", s[1], s[0]);
    // The paper's reading of s: well below 0.5 is normal, close to 1 is anomalous.
    assert!(s[0] < 0.45 && s[1] > 0.7, "{s:?}");
}

#[test]
fn same_seed_same_scores_for_any_thread_count() {
    let data = synthetic();
    let config = IForestConfig {
        n_estimators: 37,
        ..Default::default()
    };
    let run = |threads: usize, seed: u64| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| fit(config.clone(), &data, seed).score(&data).unwrap())
    };
    let a = run(1, 11);
    let b = run(3, 11);
    assert_eq!(
        a.iter().map(|s| s.to_bits()).collect::<Vec<_>>(),
        b.iter().map(|s| s.to_bits()).collect::<Vec<_>>()
    );
    let c = run(2, 12);
    assert!(
        a.iter().zip(&c).filter(|(x, y)| x != y).count() > data.n() / 2,
        "another seed changes the scores"
    );
}

#[test]
fn degenerate_data_scores_one_half() {
    // All rows equal: every tree is one leaf holding n samples, E[h] = c(n) = c(ψ) → s = 0.5.
    let same = dataset(2, &vec![vec![1.5, -2.0]; 10]);
    let s = fit(IForestConfig::default(), &same, 0)
        .score(&dataset(2, &[vec![1.5, -2.0], vec![9.0, 9.0]]))
        .unwrap();
    // (leaf values are stored as f32, so the ratio is 1 to within f32 rounding)
    assert!(s.iter().all(|&v| (v - 0.5).abs() < 1e-6), "{s:?}");
    // One sample: c(1) = 0, scikit-learn defines the score as 2^-1.
    let one = dataset(2, &[vec![1.0, 2.0]]);
    assert_eq!(fit(IForestConfig::default(), &one, 0).score(&one).unwrap(), vec![0.5]);
    // Two samples: one split, both leaves at depth 1 = c(2) → 0.5 for any point.
    let two = dataset(1, &[vec![0.0], vec![1.0]]);
    let s = fit(IForestConfig::default(), &two, 0)
        .score(&dataset(1, &[vec![-5.0], vec![0.5], vec![7.0]]))
        .unwrap();
    assert_eq!(s, vec![0.5, 0.5, 0.5]);
}

#[test]
fn forest_shape_follows_config() {
    let data = synthetic();
    let forest = fit(
        IForestConfig {
            n_estimators: 12,
            ..Default::default()
        },
        &data,
        0,
    );
    assert_eq!(
        (forest.n_trees(), forest.n_features(), forest.max_samples()),
        (12, 6, 256)
    );
    // ψ = 256 distinct continuous samples, depth ≤ 8: at most 2·256 − 1 nodes per tree.
    assert!(forest.n_nodes() > 12 * 100 && forest.n_nodes() <= 12 * 511);
    let forest = fit(
        IForestConfig {
            max_samples: MaxSamples::Fraction(0.5),
            ..Default::default()
        },
        &data,
        0,
    );
    assert_eq!(forest.max_samples(), 525);
}

#[test]
fn fraction_leaving_no_sample_is_a_config_error() {
    let data = dataset(1, &[vec![0.0], vec![1.0], vec![2.0]]);
    let config = IForestConfig {
        max_samples: MaxSamples::Fraction(0.2),
        ..Default::default()
    };
    match IForest::fit(&config, &data, &FitContext::new(0, &Silent)) {
        Err(Error::InvalidConfig { field, .. }) => assert_eq!(field, "max_samples"),
        other => panic!("expected InvalidConfig, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn scoring_checks_the_feature_count() {
    let (train, _) = toy();
    let forest = fit(
        IForestConfig {
            n_estimators: 5,
            ..Default::default()
        },
        &train,
        0,
    );
    let err = forest.score(&dataset(2, &[vec![0.0, 0.0]])).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
}

#[derive(Default)]
struct Recorder {
    started: Mutex<Vec<(String, Option<u64>)>>,
    advanced: AtomicU64,
    finished: AtomicU64,
}

impl Progress for Recorder {
    fn start(&self, phase: &str, total: Option<u64>) {
        self.started.lock().unwrap().push((phase.to_string(), total));
    }
    fn advance(&self, n: u64) {
        self.advanced.fetch_add(n, Ordering::Relaxed);
    }
    fn finish(&self) {
        self.finished.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn fitting_reports_progress_per_tree() {
    let (train, _) = toy();
    let rec = Recorder::default();
    let config = IForestConfig {
        n_estimators: 23,
        ..Default::default()
    };
    IForest::fit(&config, &train, &FitContext::new(0, &rec)).unwrap();
    assert_eq!(
        *rec.started.lock().unwrap(),
        vec![("fitting trees".to_string(), Some(23))]
    );
    assert_eq!(rec.advanced.load(Ordering::Relaxed), 23);
    assert_eq!(rec.finished.load(Ordering::Relaxed), 1);
}

#[test]
fn detector_wrapper_thresholds_iforest_scores() {
    let data = synthetic();
    let det = Detector::<IForest>::fit(
        IForestConfig::default(),
        Common::default(),
        &data,
        &FitContext::new(3, &Silent),
    )
    .unwrap();
    let flagged = det.predict(&data).unwrap().iter().filter(|&&p| p).count();
    // contamination 0.1 of 1050 samples: about 105 above the 90th percentile.
    assert!((100..=106).contains(&flagged), "{flagged}");
}

mod weights {
    use std::collections::HashMap;
    use std::path::Path;

    use safetensors::tensor::TensorView;
    use safetensors::{Dtype, SafeTensors};

    use super::*;

    fn saved() -> (IForest, Dataset, tempfile::TempDir) {
        let (train, all) = toy();
        let forest = fit(
            IForestConfig {
                n_estimators: 20,
                ..Default::default()
            },
            &train,
            5,
        );
        let dir = tempfile::tempdir().unwrap();
        forest.save_weights(&dir.path().join("w.safetensors")).unwrap();
        (forest, all, dir)
    }

    fn load(dir: &Path) -> oddity::Result<IForest> {
        IForest::load_weights(
            &IForestConfig {
                n_estimators: 20,
                ..Default::default()
            },
            &dir.join("w.safetensors"),
            &oddity::backend::cpu(),
        )
    }

    /// Rewrites the saved file with tensor `name` (1-D, `width`-byte little-endian values) replaced
    /// by `edit` of its raw bytes.
    fn rewrite(dir: &Path, name: &str, edit: impl Fn(&mut Vec<u8>)) {
        let path = dir.join("w.safetensors");
        let bytes = std::fs::read(&path).unwrap();
        let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let mut owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = st
            .tensors()
            .into_iter()
            .map(|(n, t)| (n, t.dtype(), t.shape().to_vec(), t.data().to_vec()))
            .collect();
        for (n, dtype, shape, data) in &mut owned {
            if n == name {
                edit(data);
                *shape = vec![data.len() * 8 / dtype.bitsize()];
            }
        }
        let views: Vec<(String, TensorView)> = owned
            .iter()
            .map(|(n, dt, shape, data)| (n.clone(), TensorView::new(*dt, shape.clone(), data).unwrap()))
            .collect();
        let meta: Option<HashMap<String, String>> = meta.metadata().clone();
        std::fs::write(&path, safetensors::serialize(views, meta).unwrap()).unwrap();
    }

    /// [`rewrite`] for an I32 tensor.
    fn rewrite_i32(dir: &Path, name: &str, edit: impl Fn(&mut Vec<i32>)) {
        rewrite(dir, name, |data| {
            let mut v: Vec<i32> = data
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            edit(&mut v);
            *data = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        });
    }

    fn expect_model_file(r: oddity::Result<IForest>, needle: &str) {
        match r {
            Err(e @ Error::ModelFile { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains("w.safetensors") && msg.contains(needle), "{msg}");
            }
            Err(e) => panic!("expected ModelFile error, got {e}"),
            Ok(_) => panic!("corrupt file loaded"),
        }
    }

    #[test]
    fn save_load_gives_identical_scores() {
        let (forest, all, dir) = saved();
        let back = load(dir.path()).unwrap();
        assert_eq!(back, forest);
        let (a, b) = (forest.score(&all).unwrap(), back.score(&all).unwrap());
        assert_eq!(
            a.iter().map(|s| s.to_bits()).collect::<Vec<_>>(),
            b.iter().map(|s| s.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn truncated_file_is_a_model_file_error() {
        let (_, _, dir) = saved();
        let path = dir.path().join("w.safetensors");
        let bytes = std::fs::read(&path).unwrap();
        for keep in [0, 5, 8, 40, bytes.len() / 2, bytes.len() - 1] {
            std::fs::write(&path, &bytes[..keep]).unwrap();
            expect_model_file(load(dir.path()), "safetensors");
        }
        std::fs::write(&path, b"definitely not a safetensors file, just text").unwrap();
        expect_model_file(load(dir.path()), "safetensors");
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(load(dir.path()), Err(Error::Io { .. })));
    }

    #[test]
    fn out_of_range_child_is_rejected() {
        let (_, _, dir) = saved();
        rewrite_i32(dir.path(), "right", |v| v[0] = 1_000_000);
        expect_model_file(load(dir.path()), "right child 1000000");
    }

    #[test]
    fn backward_child_is_rejected() {
        // A child pointing back at its parent would make scoring loop forever.
        let (_, _, dir) = saved();
        rewrite_i32(dir.path(), "left", |v| v[0] = 0);
        expect_model_file(load(dir.path()), "left child 0");
    }

    #[test]
    fn split_with_equal_children_is_rejected() {
        let (_, _, dir) = saved();
        rewrite_i32(dir.path(), "right", |v| v[0] = 1);
        expect_model_file(load(dir.path()), "both children");
    }

    #[test]
    fn out_of_range_feature_is_rejected() {
        let (_, _, dir) = saved();
        rewrite_i32(dir.path(), "feature", |v| v[0] = 3);
        expect_model_file(load(dir.path()), "feature 3");
    }

    #[test]
    fn leaf_with_children_is_rejected() {
        let (_, _, dir) = saved();
        rewrite_i32(dir.path(), "feature", |v| v[0] = -1);
        expect_model_file(load(dir.path()), "leaf");
    }

    #[test]
    fn mismatched_lengths_are_rejected() {
        let (_, _, dir) = saved();
        rewrite_i32(dir.path(), "left", |v| {
            v.pop();
        });
        expect_model_file(load(dir.path()), "`left` has");
    }

    #[test]
    fn non_monotone_tree_offsets_are_rejected() {
        let (forest, _, dir) = saved();
        assert_eq!(forest.n_trees(), 20);
        rewrite(dir.path(), "tree_offsets", |data| {
            let mut offs: Vec<i64> = data
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                .collect();
            offs.swap(3, 4);
            *data = offs.iter().flat_map(|x| x.to_le_bytes()).collect();
        });
        expect_model_file(load(dir.path()), "tree_offsets[4]");
    }

    #[test]
    fn tree_count_must_match_config() {
        let (_, _, dir) = saved();
        let r = IForest::load_weights(
            &IForestConfig {
                n_estimators: 21,
                ..Default::default()
            },
            &dir.path().join("w.safetensors"),
            &oddity::backend::cpu(),
        );
        expect_model_file(r, "n_estimators = 21");
    }
}

/// Hand timing, not a pass/fail check: `cargo test --release -p oddity --test suite iforest:: -- --ignored --nocapture`.
#[test]
#[ignore]
fn timing() {
    use std::time::Instant;
    for (n, d) in [(50_000usize, 9usize), (1_000_000, 16)] {
        let mut g = SplitMix64(0);
        let x: Vec<f32> = (0..n * d).map(|_| g.normal() as f32).collect();
        let data = Dataset::tabular("timing", d, x, Labels::None).unwrap();
        let t = Instant::now();
        let forest = fit(IForestConfig::default(), &data, 0);
        let fit_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let scores = forest.score(&data).unwrap();
        let score_s = t.elapsed().as_secs_f64();
        println!(
            "{n} x {d}: fit {fit_s:.3} s, score {score_s:.3} s ({} threads, mean score {:.4})",
            rayon::current_num_threads(),
            scores.iter().map(|&s| s as f64).sum::<f64>() / n as f64
        );
    }
}
