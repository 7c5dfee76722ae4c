//! The clustering protocol of DEC / IDEC / DCEC, for models with the clustering capability
//! ([`crate::detector::Clusterer`], registered with [`crate::registry::ModelEntry::clusters`]).

use super::{Evaluation, Job, history_detail, metric_record, timed_fit};
use crate::data::{Dataset, Labels};
use crate::detector::Clustering;
use crate::error::{Error, Result};
use crate::metrics::{ari, clustering_accuracy, nmi};
use crate::report::images::cluster_grid;
use crate::results::Detail;

/// Sample images per cluster in the report's cluster grid.
const GRID_PER_CLUSTER: usize = 10;

/// One clustering run with the true classes, for pictures (t-SNE) and further analysis.
#[derive(Debug, Clone)]
pub struct ClusteringRun {
    pub seed: u64,
    pub clustering: Clustering,
    /// True classes and their names.
    pub truth: Vec<u32>,
    pub class_names: Vec<String>,
}

/// Fits `job`'s model on every sample of `data` with the labels removed, then compares its
/// clusters with the classes: clustering accuracy (Hungarian), NMI and ARI, after fitting (`acc`,
/// `nmi`, `ari`), after the model's refinement (`*_refined`) and of its initialisation
/// (`*_kmeans_init`: the "AE + k-means" baseline, or the spectral partition with deep-cluster's
/// `init = spectral`; the name is kept for existing records), then the model's own measures.
pub(super) fn evaluate(job: &Job, data: &Dataset) -> Result<Evaluation> {
    let (truth, class_names) = match data.labels() {
        Labels::Classes { ids, names } => (ids.clone(), names.clone()),
        _ => {
            return Err(Error::InvalidData(format!(
                "{}: clustering evaluation needs class labels (e.g. an IDX directory or a COIL-20 folder)",
                data.name()
            )));
        }
    };
    let unlabeled = data.clone().with_labels(Labels::None)?;
    let (clustering, seconds, history) =
        timed_fit(job, None, |ctx| job.entry.fit_clusters(job.settings, &unlabeled, ctx))?;
    let key = job.key();
    let rec = |metric: &str, value: f64| metric_record(key, metric, value, seconds);
    let mut records = Vec::new();
    let mut scores = |suffix: &str, pred: &[u32]| -> Result<()> {
        records.push(rec(&format!("acc{suffix}"), clustering_accuracy(&truth, pred)?));
        records.push(rec(&format!("nmi{suffix}"), nmi(&truth, pred)?));
        records.push(rec(&format!("ari{suffix}"), ari(&truth, pred)?));
        Ok(())
    };
    scores("", &clustering.clusters)?;
    if let Some(r) = &clustering.refined {
        scores("_refined", r)?;
    }
    if let Some(init) = clustering.initial.as_ref().filter(|i| i.len() == truth.len()) {
        scores("_kmeans_init", init)?;
    }
    records.extend(clustering.measures.iter().map(|(m, v)| rec(m, *v)));
    let mut details: Vec<Detail> = history_detail(key, history).into_iter().collect();
    if let Some(grid) = cluster_grid(key, data, &clustering.clusters, GRID_PER_CLUSTER)? {
        details.push(Detail::Images(grid));
    }
    Ok(Evaluation {
        records,
        details,
        clusterings: vec![ClusteringRun {
            seed: job.seed,
            clustering,
            truth,
            class_names,
        }],
    })
}
