//! Standard evaluation protocols and the results records they produce (one JSON object per line:
//! dataset, model, seed, metric, value, seconds), so tables and plots are made from data.

use std::time::Instant;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::split::{WeakSplitConfig, weakly_supervised_split};
use crate::data::{Dataset, Labels, Loaded};
use crate::detector::{FitContext, Model};
use crate::error::{Error, Result};
use crate::metrics::{ari, average_precision, clustering_accuracy, nmi, roc_auc};
use crate::models::deep_cluster::{DeepCluster, DeepClusterConfig, FitStats};
use crate::progress::Progress;
use crate::registry::{AnyDetector, ModelEntry, Protocol, Settings};
use crate::report::HistoryRecorder;
use crate::report::images::{RunKey, by_score_desc, reconstruction_grid};
use crate::report::records::{Detail, HistoryRecord, ScoresRecord, Series};

pub mod mvtec;

/// Test images shown per end (most / least anomalous) in reconstruction grids.
pub const GRID_IMAGES: usize = 8;

/// An evaluation's metric records and the details a report draws from (test scores, training
/// curves, reconstructions).
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    pub records: Vec<MetricRecord>,
    pub details: Vec<Detail>,
}

/// One measured number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricRecord {
    pub dataset: String,
    pub model: String,
    pub seed: u64,
    pub metric: String,
    pub value: f64,
    /// Wall time of the run that produced the value (fit + score).
    pub seconds: f64,
    /// MVTec protocol ([`mvtec`]): the category the value is of (absent elsewhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// MVTec protocol: the defect type of a per-defect-type value (good test images + that type);
    /// absent for a whole category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defect: Option<String>,
}

/// Runs `entry`'s standard protocol on `data` with `seed`.
///
/// Unsupervised: fit on all samples with the labels removed, score the same samples, report
/// ROC-AUC and average precision (AUC-PR) against the anomaly labels. Leave-one-class-out needs a
/// train/test split and a class: use [`evaluate_leave_one_class_out`].
pub fn evaluate(
    entry: &ModelEntry,
    settings: &Settings,
    data: &Dataset,
    dataset_name: &str,
    seed: u64,
    progress: &dyn Progress,
) -> Result<Vec<MetricRecord>> {
    Ok(evaluate_detailed(entry, settings, data, dataset_name, seed, progress)?.records)
}

/// [`evaluate`] with the details for a report.
pub fn evaluate_detailed(
    entry: &ModelEntry,
    settings: &Settings,
    data: &Dataset,
    dataset_name: &str,
    seed: u64,
    progress: &dyn Progress,
) -> Result<Evaluation> {
    match entry.protocol {
        Protocol::Unsupervised => {
            let flags = data.require_anomaly_flags()?.to_vec();
            let n_anom = flags.iter().filter(|&&f| f).count();
            if n_anom == 0 || n_anom == flags.len() {
                return Err(Error::InvalidData(format!(
                    "{}: evaluation needs both normal and anomalous samples ({n_anom} of {} are anomalies)",
                    data.name(),
                    flags.len()
                )));
            }
            let unlabeled = data.clone().with_labels(Labels::None)?;
            let start = Instant::now();
            let recorder = HistoryRecorder::new(progress);
            let ctx = FitContext::new(seed, &recorder);
            let det = entry.fit(settings, &unlabeled, &ctx)?;
            // The protocol scores the training samples themselves: fitting already did.
            let scores = match det.train_scores() {
                Some(s) => s.to_vec(),
                None => det.score(&unlabeled)?,
            };
            let seconds = start.elapsed().as_secs_f64();
            let key = RunKey {
                dataset: dataset_name,
                model: entry.name,
                seed,
            };
            ranked(key, seconds, det.as_ref(), &unlabeled, &flags, scores, recorder.take())
        }
        Protocol::WeaklySupervised => evaluate_weakly_supervised_detailed(
            entry,
            settings,
            data,
            &WeakSplitConfig::default(),
            dataset_name,
            seed,
            progress,
        ),
        Protocol::LeaveOneClassOut => Err(Error::InvalidData(format!(
            "{}: model `{}` is evaluated leave-one-class-out: it needs a dataset with a train/test \
             split and class labels (e.g. an IDX directory) and an anomaly class (--anomaly-class K)",
            data.name(),
            entry.name
        ))),
        Protocol::Clustering => Err(Error::InvalidData(format!(
            "{}: model `{}` is a clustering model: evaluate it against class labels \
             (--task cluster) or leave-one-class-out (--task anomaly --anomaly-class K)",
            data.name(),
            entry.name
        ))),
    }
}

/// Class ids of `data`, or an error naming the dataset.
fn class_ids<'a>(data: &'a Dataset, what: &str) -> Result<(&'a [u32], usize)> {
    match data.labels() {
        Labels::Classes { ids, names } => Ok((ids, names.len())),
        _ => Err(Error::InvalidData(format!(
            "{}: leave-one-class-out needs class labels in the {what} split",
            data.name()
        ))),
    }
}

/// How leave-one-class-out divides the data and where a model that trains for several epochs
/// chooses the one it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LocoProtocol {
    /// Train on the training split's samples of the other classes less a validation part (a
    /// seeded [`LocoOptions::val_fraction`] of them, plus [`LocoOptions::val_anomalies`] samples of
    /// class K when the user allows labelled anomalies); test on the whole test split. The test
    /// set is never used for choosing.
    #[default]
    Honest,
    /// The official GANomaly code's (`lib/data.py` `get_loaders`, `lib/model.py` `train`): the
    /// other classes' samples of both splits pooled and split 80 / 20 (seeded), the test set =
    /// those 20% + every sample of class K; the epoch with the best ROC-AUC **on that test set**
    /// is kept. Test-set selection, optimistic: only for comparing with the paper's numbers.
    Official,
}

/// Options of [`evaluate_leave_one_class_out`].
#[derive(Debug, Clone, PartialEq)]
pub struct LocoOptions {
    pub protocol: LocoProtocol,
    /// Honest protocol: fraction of the training normals held out for choosing the epoch, for
    /// models that choose one (GANomaly). Default 0.1 (issue 3; the official code has no
    /// validation split). 0 = train on all of them and keep the last epoch.
    pub val_fraction: f64,
    /// Honest protocol: samples of class K from the training split added to the validation part
    /// (labelled anomalies the user allows the model to see); the epoch is then chosen by
    /// validation ROC-AUC instead of validation loss. Default 0.
    pub val_anomalies: usize,
    /// Train on at most this many samples (a seeded subsample), for quick runs.
    pub max_train: Option<usize>,
}

impl Default for LocoOptions {
    fn default() -> Self {
        LocoOptions {
            protocol: LocoProtocol::Honest,
            val_fraction: 0.1,
            val_anomalies: 0,
            max_train: None,
        }
    }
}

impl LocoOptions {
    /// One typed error per rule.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=0.5).contains(&self.val_fraction) {
            return Err(Error::config(
                "val-fraction",
                format!("must be in [0, 0.5], got {}", self.val_fraction),
            ));
        }
        if self.max_train.is_some_and(|m| m < 2) {
            return Err(Error::config("max-train", "must be at least 2"));
        }
        if self.protocol == LocoProtocol::Official && self.val_anomalies > 0 {
            return Err(Error::config(
                "val-anomalies",
                "applies to the honest protocol (the official one chooses on its test set)",
            ));
        }
        Ok(())
    }
}

/// The data of one leave-one-class-out run (see [`leave_one_class_out_split`]).
#[derive(Debug, Clone)]
pub struct LocoSplit {
    /// Training samples, labels removed.
    pub train: Dataset,
    /// Samples for choosing the epoch, with anomaly flags (`None` when the model does not
    /// choose one, or `val_fraction` is 0).
    pub validation: Option<Dataset>,
    pub test: Dataset,
    /// `true` = the test sample is of the anomaly class.
    pub test_flags: Vec<bool>,
}

/// Divides `data` for anomaly class `anomaly_class` under `opts` (see [`LocoProtocol`]);
/// `selects_epoch` says whether the model chooses an epoch on validation data. Seeded by `seed`
/// (a stream of its own: the model's draws do not move).
pub fn leave_one_class_out_split(
    data: &Loaded,
    anomaly_class: u32,
    opts: &LocoOptions,
    selects_epoch: bool,
    seed: u64,
) -> Result<LocoSplit> {
    opts.validate()?;
    let test = data.test.as_ref().ok_or_else(|| {
        Error::InvalidData(format!(
            "{}: leave-one-class-out needs a train/test split (e.g. an IDX directory)",
            data.train.name()
        ))
    })?;
    let (train_ids, n_classes) = class_ids(&data.train, "training")?;
    let (test_ids, _) = class_ids(test, "test")?;
    if anomaly_class as usize >= n_classes {
        return Err(Error::config(
            "anomaly-class",
            format!(
                "is {anomaly_class} but the data has {n_classes} classes (0..{})",
                n_classes.saturating_sub(1)
            ),
        ));
    }
    if opts.val_anomalies > 0 && !selects_epoch {
        return Err(Error::config(
            "val-anomalies",
            "this model does not choose an epoch on validation data",
        ));
    }
    let of = |ids: &[u32], anomalous: bool| -> Vec<usize> {
        (0..ids.len())
            .filter(|&i| (ids[i] == anomaly_class) == anomalous)
            .collect()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x10c0_5e1e_c7ed);
    let cap = |mut idx: Vec<usize>, rng: &mut ChaCha8Rng| {
        if let Some(m) = opts.max_train.filter(|&m| m < idx.len()) {
            idx.shuffle(rng);
            idx.truncate(m);
        }
        idx.sort_unstable();
        idx
    };
    let flagged = |d: Dataset, flags: Vec<bool>| d.with_labels(Labels::Anomaly(flags));
    let (train, validation, test, test_flags) = match opts.protocol {
        LocoProtocol::Honest => {
            let mut normals = of(train_ids, false);
            let mut anomalies = of(train_ids, true);
            let n_val = if selects_epoch && opts.val_fraction > 0.0 && normals.len() >= 3 {
                ((normals.len() as f64 * opts.val_fraction).round() as usize).clamp(1, normals.len() - 2)
            } else {
                0
            };
            if opts.val_anomalies > anomalies.len() {
                return Err(Error::config(
                    "val-anomalies",
                    format!(
                        "is {} but the training split has {} samples of class {anomaly_class}",
                        opts.val_anomalies,
                        anomalies.len()
                    ),
                ));
            }
            normals.shuffle(&mut rng);
            anomalies.shuffle(&mut rng);
            let mut val: Vec<usize> = normals[..n_val].to_vec();
            val.sort_unstable();
            let mut val_anom = anomalies[..opts.val_anomalies].to_vec();
            val_anom.sort_unstable();
            let mut flags = vec![false; val.len()];
            flags.extend(std::iter::repeat_n(true, val_anom.len()));
            val.extend(val_anom);
            let train_idx = cap(normals[n_val..].to_vec(), &mut rng);
            // Anomalies alone cannot choose an epoch: no normals held out (tiny data), no validation.
            let validation = (n_val > 0)
                .then(|| flagged(data.train.select(&val)?, flags))
                .transpose()?;
            let flags: Vec<bool> = test_ids.iter().map(|&c| c == anomaly_class).collect();
            (data.train.select(&train_idx)?, validation, test.clone(), flags)
        }
        LocoProtocol::Official => {
            // Pooled normals: the training split's first, then the test split's.
            let (tr_n, te_n) = (of(train_ids, false), of(test_ids, false));
            let mut pooled: Vec<(bool, usize)> = tr_n.iter().map(|&i| (false, i)).collect();
            pooled.extend(te_n.iter().map(|&i| (true, i)));
            pooled.shuffle(&mut rng);
            let n_train = (pooled.len() as f64 * 0.8).round() as usize;
            let pick = |part: &[(bool, usize)], from_test: bool| -> Vec<usize> {
                let mut v: Vec<usize> = part.iter().filter(|p| p.0 == from_test).map(|p| p.1).collect();
                v.sort_unstable();
                v
            };
            let (head, tail) = pooled.split_at(n_train);
            // `pooled` is shuffled: its first `max_train` are a random subsample.
            let head = &head[..opts.max_train.map_or(head.len(), |m| m.min(head.len()))];
            let train = gather(&[(&data.train, pick(head, false)), (test, pick(head, true))])?;
            let (normals_tr, normals_te) = (pick(tail, false), pick(tail, true));
            let (anom_tr, anom_te) = (of(train_ids, true), of(test_ids, true));
            let mut flags = vec![false; normals_tr.len() + normals_te.len()];
            flags.extend(std::iter::repeat_n(true, anom_tr.len() + anom_te.len()));
            let test = gather(&[
                (&data.train, normals_tr),
                (test, normals_te),
                (&data.train, anom_tr),
                (test, anom_te),
            ])?
            .with_name(test.name());
            let validation = selects_epoch
                .then(|| flagged(test.clone(), flags.clone()))
                .transpose()?;
            (train, validation, test, flags)
        }
    };
    if train.n() == 0 {
        return Err(Error::InvalidData(format!(
            "{}: no training samples outside class {anomaly_class}",
            data.train.name()
        )));
    }
    let n_anom = test_flags.iter().filter(|&&f| f).count();
    if n_anom == 0 || n_anom == test_flags.len() {
        return Err(Error::InvalidData(format!(
            "{}: the test set needs samples of class {anomaly_class} and of other classes ({n_anom} of {})",
            test.name(),
            test_flags.len()
        )));
    }
    Ok(LocoSplit {
        train: train.with_labels(Labels::None)?,
        validation,
        test,
        test_flags,
    })
}

/// The samples `idx` of each part, joined in order (empty parts skipped).
fn gather(parts: &[(&Dataset, Vec<usize>)]) -> Result<Dataset> {
    let mut out: Option<Dataset> = None;
    for (data, idx) in parts.iter().filter(|p| !p.1.is_empty()) {
        let part = data.select(idx)?;
        out = Some(match out {
            Some(o) => o.concat(&part)?,
            None => part,
        });
    }
    out.ok_or_else(|| Error::InvalidData("leave-one-class-out: an empty part".into()))
}

/// Leave-one-class-out (the GANomaly protocol): class `anomaly_class` is the anomaly; the model is
/// fitted on samples of every other class (labels removed) and scores a test set; ROC-AUC and
/// average precision are against "class == anomaly_class". `opts` chooses the split and the epoch
/// selection ([`LocoProtocol`]); models whose own protocol is leave-one-class-out (GANomaly)
/// choose their epoch on the validation part, the others (deep-cluster's anomaly task) train on
/// all of it. `seconds` is fit + score time. The dataset name in the records gets
/// ` (anomaly K)` appended, or ` (anomaly K, official protocol)`.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_leave_one_class_out(
    entry: &ModelEntry,
    settings: &Settings,
    data: &Loaded,
    anomaly_class: u32,
    opts: &LocoOptions,
    dataset_name: &str,
    seed: u64,
    progress: &dyn Progress,
) -> Result<Vec<MetricRecord>> {
    Ok(
        evaluate_leave_one_class_out_detailed(
            entry,
            settings,
            data,
            anomaly_class,
            opts,
            dataset_name,
            seed,
            progress,
        )?
        .records,
    )
}

/// [`evaluate_leave_one_class_out`] with the details for a report.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_leave_one_class_out_detailed(
    entry: &ModelEntry,
    settings: &Settings,
    data: &Loaded,
    anomaly_class: u32,
    opts: &LocoOptions,
    dataset_name: &str,
    seed: u64,
    progress: &dyn Progress,
) -> Result<Evaluation> {
    let selects_epoch = entry.protocol == Protocol::LeaveOneClassOut;
    let split = leave_one_class_out_split(data, anomaly_class, opts, selects_epoch, seed)?;
    let start = Instant::now();
    let recorder = HistoryRecorder::new(progress);
    let mut ctx = FitContext::new(seed, &recorder);
    if let Some(v) = &split.validation {
        ctx = ctx.with_validation(v);
    }
    let det = entry.fit(settings, &split.train, &ctx)?;
    let scores = det.score(&split.test)?;
    let seconds = start.elapsed().as_secs_f64();
    let name = match opts.protocol {
        LocoProtocol::Honest => format!("{dataset_name} (anomaly {anomaly_class})"),
        LocoProtocol::Official => format!("{dataset_name} (anomaly {anomaly_class}, official protocol)"),
    };
    let key = RunKey {
        dataset: &name,
        model: entry.name,
        seed,
    };
    ranked(
        key,
        seconds,
        det.as_ref(),
        &split.test,
        &split.test_flags,
        scores,
        recorder.take(),
    )
}

/// The weakly supervised protocol (DevNet, DPLAN): [`weakly_supervised_split`] of `data` with
/// `seed`; the model is fitted on the training split (labelled anomalies flagged; unsupervised
/// models ignore the flags) and scores the test split; ROC-AUC and average precision against the
/// test labels. For one seed every model sees the same split and labelled anomalies.
pub fn evaluate_weakly_supervised(
    entry: &ModelEntry,
    settings: &Settings,
    data: &Dataset,
    split: &WeakSplitConfig,
    dataset_name: &str,
    seed: u64,
    progress: &dyn Progress,
) -> Result<Vec<MetricRecord>> {
    Ok(evaluate_weakly_supervised_detailed(entry, settings, data, split, dataset_name, seed, progress)?.records)
}

/// [`evaluate_weakly_supervised`] with the details for a report.
pub fn evaluate_weakly_supervised_detailed(
    entry: &ModelEntry,
    settings: &Settings,
    data: &Dataset,
    split: &WeakSplitConfig,
    dataset_name: &str,
    seed: u64,
    progress: &dyn Progress,
) -> Result<Evaluation> {
    let split = weakly_supervised_split(data, split, seed)?;
    let flags = split.test.require_anomaly_flags()?.to_vec();
    let start = Instant::now();
    let recorder = HistoryRecorder::new(progress);
    let ctx = FitContext::new(seed, &recorder);
    let det = entry.fit(settings, &split.train, &ctx)?;
    let scores = det.score(&split.test)?;
    let seconds = start.elapsed().as_secs_f64();
    let key = RunKey {
        dataset: dataset_name,
        model: entry.name,
        seed,
    };
    ranked(key, seconds, det.as_ref(), &split.test, &flags, scores, recorder.take())
}

/// Ranking records of a scored test set, plus its details: the scores, the training curves and,
/// for models that reconstruct images, the most and least anomalous test images with their
/// reconstructions.
fn ranked(
    key: RunKey,
    seconds: f64,
    det: &dyn AnyDetector,
    test: &Dataset,
    flags: &[bool],
    scores: Vec<f32>,
    history: Vec<Series>,
) -> Result<Evaluation> {
    let records = ranking_records(key.dataset, key.model, key.seed, seconds, flags, &scores)?;
    let mut details = Vec::new();
    if !history.is_empty() {
        details.push(Detail::History(HistoryRecord {
            dataset: key.dataset.into(),
            model: key.model.into(),
            seed: key.seed,
            series: history,
        }));
    }
    let order = by_score_desc(&scores);
    let k = GRID_IMAGES.min(order.len() / 2);
    for (title, picked) in [
        ("most anomalous test images", order[..k].to_vec()),
        (
            "least anomalous test images",
            order[order.len() - k..].iter().rev().copied().collect(),
        ),
    ] {
        if k == 0 {
            break;
        }
        let Some(rec) = det.reconstruct(&test.select(&picked)?)? else {
            break;
        };
        if let Some(grid) = reconstruction_grid(key, title, &rec, &picked, &scores, flags, test.files())? {
            details.push(Detail::Images(grid));
        }
    }
    details.insert(
        0,
        Detail::Scores(ScoresRecord {
            dataset: key.dataset.into(),
            model: key.model.into(),
            seed: key.seed,
            threshold: det.threshold(),
            anomaly: flags.iter().map(|&f| u8::from(f)).collect(),
            files: test.files().map(<[String]>::to_vec).unwrap_or_default(),
            scores,
        }),
    );
    Ok(Evaluation { records, details })
}

/// ROC-AUC and average precision of `scores` against anomaly `flags`, as results records.
fn ranking_records(
    dataset: &str,
    model: &str,
    seed: u64,
    seconds: f64,
    flags: &[bool],
    scores: &[f32],
) -> Result<Vec<MetricRecord>> {
    let rec = |metric: &str, value: f64| MetricRecord {
        dataset: dataset.to_string(),
        model: model.to_string(),
        seed,
        metric: metric.to_string(),
        value,
        seconds,
        category: None,
        defect: None,
    };
    Ok(vec![
        rec("roc_auc", roc_auc(flags, scores)?),
        rec("average_precision", average_precision(flags, scores)?),
    ])
}

/// What a clustering evaluation gives besides its records: the embedding and the labellings, for
/// pictures (t-SNE) and further analysis.
#[derive(Debug, Clone)]
pub struct ClusteringRun {
    pub records: Vec<MetricRecord>,
    /// `n × dim` embedding of every sample after fine-tuning.
    pub embedding: Vec<f32>,
    pub dim: usize,
    /// True classes and their names.
    pub truth: Vec<u32>,
    pub class_names: Vec<String>,
    /// Clusters after fine-tuning (argmax_j q_ij).
    pub clusters: Vec<u32>,
    /// Clusters after the final k-means refinement (`refine`).
    pub clusters_refined: Option<Vec<u32>>,
    pub stats: FitStats,
    /// Training curves (pretraining loss, label changes during fine-tuning).
    pub history: Vec<Series>,
}

/// The clustering protocol of DEC / IDEC / DCEC: fit `entry` (a clustering model, today
/// `deep-cluster`) on every sample of `data` with the labels removed, then compare its clusters
/// with the classes: clustering accuracy (Hungarian), NMI and ARI, after fine-tuning (`acc`,
/// `nmi`, `ari`), after the final k-means refinement (`*_refined`) and of the k-means
/// initialisation on the pretrained embedding (`*_kmeans_init`, the "AE + k-means" baseline).
/// Timing records: `pretrain_s_per_epoch`, `finetune_s_per_iter`, `finetune_iters`.
pub fn evaluate_clustering(
    entry: &ModelEntry,
    settings: &Settings,
    data: &Dataset,
    dataset_name: &str,
    seed: u64,
    progress: &dyn Progress,
) -> Result<ClusteringRun> {
    if entry.name != DeepCluster::KIND {
        return Err(Error::config(
            "task",
            format!(
                "the clustering protocol needs a clustering model (deep-cluster), not `{}`",
                entry.name
            ),
        ));
    }
    let (truth, class_names) = match data.labels() {
        Labels::Classes { ids, names } => (ids.clone(), names.clone()),
        _ => {
            return Err(Error::InvalidData(format!(
                "{}: clustering evaluation needs class labels (e.g. an IDX directory or a COIL-20 folder)",
                data.name()
            )));
        }
    };
    let (config, _) = settings.apply(entry)?;
    let config: DeepClusterConfig =
        serde_json::from_value(config).map_err(|e| Error::config(entry.name, e.to_string()))?;
    crate::detector::ModelConfig::validate(&config)?;
    let unlabeled = data.clone().with_labels(Labels::None)?;
    let start = Instant::now();
    let recorder = HistoryRecorder::new(progress);
    let ctx = FitContext::new(seed, &recorder);
    let model = DeepCluster::fit(&config, &unlabeled, &ctx)?;
    let clusters = model.assign(&unlabeled)?;
    let clusters_refined = model.assign_refined(&unlabeled)?;
    let embedding = model.embed(&unlabeled)?;
    let seconds = start.elapsed().as_secs_f64();
    let stats = model.stats().clone();
    let rec = |metric: &str, value: f64| MetricRecord {
        dataset: dataset_name.to_string(),
        model: entry.name.to_string(),
        seed,
        metric: metric.to_string(),
        value,
        seconds,
        category: None,
        defect: None,
    };
    let mut records = Vec::new();
    let mut scores = |suffix: &str, pred: &[u32]| -> Result<()> {
        records.push(rec(&format!("acc{suffix}"), clustering_accuracy(&truth, pred)?));
        records.push(rec(&format!("nmi{suffix}"), nmi(&truth, pred)?));
        records.push(rec(&format!("ari{suffix}"), ari(&truth, pred)?));
        Ok(())
    };
    scores("", &clusters)?;
    if let Some(r) = &clusters_refined {
        scores("_refined", r)?;
    }
    if stats.labels_kmeans_init.len() == truth.len() {
        scores("_kmeans_init", &stats.labels_kmeans_init)?;
    }
    if stats.pretrain_epochs > 0 {
        records.push(rec(
            "pretrain_s_per_epoch",
            stats.pretrain_seconds / stats.pretrain_epochs as f64,
        ));
    }
    if stats.finetune_iters > 0 {
        records.push(rec(
            "finetune_s_per_iter",
            stats.finetune_seconds / stats.finetune_iters as f64,
        ));
    }
    records.push(rec("finetune_iters", stats.finetune_iters as f64));
    Ok(ClusteringRun {
        records,
        embedding,
        dim: config.embedding,
        truth,
        class_names,
        clusters,
        clusters_refined,
        stats,
        history: recorder.take(),
    })
}
