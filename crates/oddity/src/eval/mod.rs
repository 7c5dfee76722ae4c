//! Evaluation: a [`Job`] (model, settings, data, seed) run under a [`Plan`] (the protocol) gives
//! an [`Evaluation`]: metric records and the details a report draws from (see [`crate::results`]).

use std::borrow::Cow;
use std::time::Instant;

use crate::data::split::{WeakSplitConfig, weakly_supervised_split};
use crate::data::{Dataset, Labels, Loaded};
use crate::detector::FitContext;
use crate::error::{Error, Result};
use crate::metrics::{average_precision, roc_auc};
use crate::progress::Progress;
use crate::registry::{AnyDetector, ModelEntry, Protocol, Settings};
use crate::report::HistoryRecorder;
use crate::report::images::{by_score_desc, reconstruction_grid};
use crate::results::{Detail, HistoryRecord, MetricRecord, RunKey, ScoresRecord, Series};

pub mod cluster;
pub mod loco;
pub mod mvtec;

pub use cluster::ClusteringRun;
pub use loco::{LocoOptions, LocoProtocol, LocoSplit, leave_one_class_out_split};

/// Test images shown per end (most / least anomalous) in reconstruction grids.
pub const GRID_IMAGES: usize = 8;

/// One model, its settings, the data and a seed: what a [`Plan`] runs.
#[derive(Clone, Copy)]
pub struct Job<'a> {
    pub entry: &'a ModelEntry,
    pub settings: &'a Settings,
    /// The data as loaded; every plan but leave-one-class-out uses train and test joined.
    pub dataset: &'a Loaded,
    /// The dataset's name in the records.
    pub name: &'a str,
    pub seed: u64,
    pub progress: &'a dyn Progress,
}

impl Job<'_> {
    fn key(&self) -> RunKey<'_> {
        RunKey {
            dataset: self.name,
            model: self.entry.name,
            seed: self.seed,
        }
    }

    /// The data as one dataset (train followed by test where both were loaded).
    fn all(&self) -> Result<Cow<'_, Dataset>> {
        match self.dataset.test {
            None => Ok(Cow::Borrowed(&self.dataset.train)),
            Some(_) => Ok(Cow::Owned(self.dataset.clone().into_all()?)),
        }
    }
}

/// A protocol.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Fit on all samples with the labels removed, score the same samples, ROC-AUC and average
    /// precision (AUC-PR) against the anomaly labels.
    Unsupervised,
    /// The weakly supervised protocol (DevNet, DPLAN): [`weakly_supervised_split`] with the
    /// job's seed; fit on the training split (labelled anomalies flagged; unsupervised models
    /// ignore the flags), score the test split. For one seed every model sees the same split.
    Weak(WeakSplitConfig),
    /// Class `anomaly_class` is the anomaly: fit on the other classes (labels removed), score a
    /// test set, ROC-AUC and average precision against "class == anomaly_class" (see
    /// [`LocoProtocol`]). Models whose own protocol is leave-one-class-out (GANomaly) choose their
    /// epoch on the validation part, the others train on all of it. The dataset name in the
    /// records gets ` (anomaly K)` appended, or ` (anomaly K, official protocol)`.
    LeaveOneClassOut { anomaly_class: u32, options: LocoOptions },
    /// Fit on all samples, compare the clusters with the class labels (see [`cluster`]); for
    /// models that cluster.
    Clustering,
}

impl Plan {
    /// The standard plan of a model's protocol; leave-one-class-out needs an anomaly class, so
    /// it has none (an error saying so).
    pub fn standard(protocol: Protocol) -> Result<Plan> {
        match protocol {
            Protocol::Unsupervised => Ok(Plan::Unsupervised),
            Protocol::WeaklySupervised => Ok(Plan::Weak(WeakSplitConfig::default())),
            Protocol::Clustering => Ok(Plan::Clustering),
            Protocol::LeaveOneClassOut => Err(Error::config(
                "anomaly-class",
                "the model is evaluated leave-one-class-out: it needs a dataset with a train/test split \
                 and class labels (e.g. an IDX directory) and an anomaly class (--anomaly-class K)",
            )),
        }
    }
}

/// An evaluation's metric records and the details a report draws from (test scores, training
/// curves, reconstructions), and for clustering plans the clusterings.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    pub records: Vec<MetricRecord>,
    pub details: Vec<Detail>,
    pub clusterings: Vec<ClusteringRun>,
}

impl Evaluation {
    /// Appends another evaluation's records, details and clusterings.
    pub fn extend(&mut self, other: Evaluation) {
        self.records.extend(other.records);
        self.details.extend(other.details);
        self.clusterings.extend(other.clusterings);
    }
}

/// Runs `job` under `plan`. `seconds` in the records is fit + score time.
pub fn run(job: &Job, plan: &Plan) -> Result<Evaluation> {
    match plan {
        Plan::Unsupervised => unsupervised(job),
        Plan::Weak(split) => weakly_supervised(job, split),
        Plan::LeaveOneClassOut { anomaly_class, options } => leave_one_class_out(job, *anomaly_class, options),
        Plan::Clustering => cluster::evaluate(job, &*job.all()?),
    }
}

fn unsupervised(job: &Job) -> Result<Evaluation> {
    let data = job.all()?;
    let flags = data.require_anomaly_flags()?.to_vec();
    let n_anom = flags.iter().filter(|&&f| f).count();
    if n_anom == 0 || n_anom == flags.len() {
        return Err(Error::InvalidData(format!(
            "{}: evaluation needs both normal and anomalous samples ({n_anom} of {} are anomalies)",
            data.name(),
            flags.len()
        )));
    }
    let unlabeled = data.into_owned().with_labels(Labels::None)?;
    let ((det, scores), seconds, history) = timed_fit(job, None, |ctx| {
        let det = job.entry.fit(job.settings, &unlabeled, ctx)?;
        // The protocol scores the training samples themselves: fitting already did.
        let scores = match det.train_scores() {
            Some(s) => s.to_vec(),
            None => det.score(&unlabeled)?,
        };
        Ok((det, scores))
    })?;
    ranked(job.key(), seconds, det.as_ref(), &unlabeled, &flags, scores, history)
}

fn weakly_supervised(job: &Job, split: &WeakSplitConfig) -> Result<Evaluation> {
    let split = weakly_supervised_split(&*job.all()?, split, job.seed)?;
    let flags = split.test.require_anomaly_flags()?.to_vec();
    let ((det, scores), seconds, history) = fit_and_score(job, &split.train, None, &split.test)?;
    ranked(job.key(), seconds, det.as_ref(), &split.test, &flags, scores, history)
}

fn leave_one_class_out(job: &Job, anomaly_class: u32, opts: &LocoOptions) -> Result<Evaluation> {
    let selects_epoch = job.entry.protocol == Protocol::LeaveOneClassOut;
    let split = leave_one_class_out_split(job.dataset, anomaly_class, opts, selects_epoch, job.seed)?;
    let ((det, scores), seconds, history) = fit_and_score(job, &split.train, split.validation.as_ref(), &split.test)?;
    let name = match opts.protocol {
        LocoProtocol::Honest => format!("{} (anomaly {anomaly_class})", job.name),
        LocoProtocol::Official => format!("{} (anomaly {anomaly_class}, official protocol)", job.name),
    };
    let key = RunKey {
        dataset: &name,
        ..job.key()
    };
    ranked(
        key,
        seconds,
        det.as_ref(),
        &split.test,
        &split.test_flags,
        scores,
        history,
    )
}

/// Runs `work` (fit, then score) with a fit context of the job's seed and `validation` data;
/// returns its result, its wall time and the training curves it recorded.
fn timed_fit<T>(
    job: &Job,
    validation: Option<&Dataset>,
    work: impl FnOnce(&FitContext) -> Result<T>,
) -> Result<(T, f64, Vec<Series>)> {
    let start = Instant::now();
    let recorder = HistoryRecorder::new(job.progress);
    let mut ctx = FitContext::new(job.seed, &recorder);
    if let Some(v) = validation {
        ctx = ctx.with_validation(v);
    }
    let out = work(&ctx)?;
    let seconds = start.elapsed().as_secs_f64();
    Ok((out, seconds, recorder.take()))
}

/// A fitted detector and its scores of the test set.
type Scored = (Box<dyn AnyDetector>, Vec<f32>);

/// Fits on `train` and scores `test`, timed (see [`timed_fit`]).
fn fit_and_score(
    job: &Job,
    train: &Dataset,
    validation: Option<&Dataset>,
    test: &Dataset,
) -> Result<(Scored, f64, Vec<Series>)> {
    timed_fit(job, validation, |ctx| {
        let det = job.entry.fit(job.settings, train, ctx)?;
        let scores = det.score(test)?;
        Ok((det, scores))
    })
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
    let records = vec![
        metric_record(key, "roc_auc", roc_auc(flags, &scores)?, seconds),
        metric_record(key, "average_precision", average_precision(flags, &scores)?, seconds),
    ];
    let mut details: Vec<Detail> = history_detail(key, history).into_iter().collect();
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
    Ok(Evaluation {
        records,
        details,
        clusterings: Vec::new(),
    })
}

/// The training curves of the run `key` as a detail (`None` when nothing was recorded).
fn history_detail(key: RunKey, history: Vec<Series>) -> Option<Detail> {
    (!history.is_empty()).then(|| {
        Detail::History(HistoryRecord {
            dataset: key.dataset.into(),
            model: key.model.into(),
            seed: key.seed,
            series: history,
        })
    })
}

/// One metric record of the run `key`.
fn metric_record(key: RunKey, metric: &str, value: f64, seconds: f64) -> MetricRecord {
    MetricRecord {
        dataset: key.dataset.to_string(),
        model: key.model.to_string(),
        seed: key.seed,
        metric: metric.to_string(),
        value,
        seconds,
        category: None,
        defect: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;
    use crate::registry;

    #[test]
    fn standard_plans_follow_the_protocol_and_leave_one_class_out_asks_for_a_class() {
        assert_eq!(Plan::standard(Protocol::Unsupervised).unwrap(), Plan::Unsupervised);
        assert_eq!(
            Plan::standard(Protocol::WeaklySupervised).unwrap(),
            Plan::Weak(WeakSplitConfig::default())
        );
        assert_eq!(Plan::standard(Protocol::Clustering).unwrap(), Plan::Clustering);
        let e = Plan::standard(Protocol::LeaveOneClassOut).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidConfig { field, .. } if field == "anomaly-class"),
            "{e}"
        );
    }

    #[test]
    fn clustering_needs_a_model_that_clusters() {
        let names = vec!["a".to_string(), "b".to_string()];
        let labels = Labels::Classes {
            ids: vec![0, 1, 0, 1],
            names,
        };
        let data: Loaded = Dataset::tabular("four", 1, vec![0.0, 1.0, 0.1, 0.9], labels)
            .unwrap()
            .into();
        let iforest = registry::find("iforest").unwrap();
        let job = Job {
            entry: &iforest,
            settings: &Settings::default(),
            dataset: &data,
            name: "four",
            seed: 0,
            progress: &Silent,
        };
        let e = run(&job, &Plan::Clustering).unwrap_err().to_string();
        assert!(e.contains("deep-cluster") && e.contains("`iforest`"), "{e}");
    }
}
