//! Standard evaluation protocols and the results records they produce (one JSON object per line:
//! dataset, model, seed, metric, value, seconds), so tables and plots are made from data.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::data::{Dataset, Labels};
use crate::detector::FitContext;
use crate::error::{Error, Result};
use crate::metrics::{average_precision, roc_auc};
use crate::progress::Progress;
use crate::registry::{ModelEntry, Protocol, Settings};

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
}

/// Runs `entry`'s standard protocol on `data` with `seed`.
///
/// Unsupervised: fit on all samples with the labels removed, score the same samples, report
/// ROC-AUC and average precision (AUC-PR) against the anomaly labels.
pub fn evaluate(
    entry: &ModelEntry,
    settings: &Settings,
    data: &Dataset,
    dataset_name: &str,
    seed: u64,
    progress: &dyn Progress,
) -> Result<Vec<MetricRecord>> {
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
            let ctx = FitContext::new(seed, progress);
            let det = entry.fit(settings, &unlabeled, &ctx)?;
            // The protocol scores the training samples themselves: fitting already did.
            let scores = match det.train_scores() {
                Some(s) => s.to_vec(),
                None => det.score(&unlabeled)?,
            };
            let seconds = start.elapsed().as_secs_f64();
            let rec = |metric: &str, value: f64| MetricRecord {
                dataset: dataset_name.to_string(),
                model: entry.name.to_string(),
                seed,
                metric: metric.to_string(),
                value,
                seconds,
            };
            Ok(vec![
                rec("roc_auc", roc_auc(&flags, &scores)?),
                rec("average_precision", average_precision(&flags, &scores)?),
            ])
        }
    }
}
