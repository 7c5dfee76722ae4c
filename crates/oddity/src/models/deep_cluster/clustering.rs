//! Deep clustering as a [`Clusterer`]: clusters, refined clusters, the k-means initialisation and
//! the timings of pretraining and fine-tuning.

use super::DeepCluster;
use crate::data::Dataset;
use crate::detector::{Clusterer, Clustering};
use crate::error::Result;

impl Clusterer for DeepCluster {
    fn clusters(&self, data: &Dataset) -> Result<Clustering> {
        let clusters = self.assign(data)?;
        let refined = self.assign_refined(data)?;
        let embedding = self.embed(data)?;
        let stats = self.stats();
        let mut measures = Vec::new();
        if stats.pretrain_epochs > 0 {
            measures.push((
                "pretrain_s_per_epoch".to_string(),
                stats.pretrain_seconds / stats.pretrain_epochs as f64,
            ));
        }
        if stats.finetune_iters > 0 {
            measures.push((
                "finetune_s_per_iter".to_string(),
                stats.finetune_seconds / stats.finetune_iters as f64,
            ));
        }
        measures.push(("finetune_iters".to_string(), stats.finetune_iters as f64));
        Ok(Clustering {
            clusters,
            refined,
            initial: Some(stats.labels_kmeans_init.clone()),
            embedding,
            dim: self.config().embedding,
            measures,
        })
    }
}
