//! DPLAN (Pang, van den Hengel, Shen, Cao, KDD 2021): deep Q-learning from a few labelled
//! anomalies and many unlabelled samples.
//!
//! - [`config`]: hyperparameters and their sources;
//! - [`env`]: the anomaly-biased environment (labelled anomaly with probability p, else the
//!   nearest / farthest unlabelled sample in the Q-network's hidden space) and the extrinsic reward;
//! - [`replay`]: experience replay;
//! - [`train`]: the DQN loop with the Isolation-Forest intrinsic reward.
//!
//! Training data: `Labels::Anomaly` flags = labelled anomaly (D^a) vs unlabelled (D^u); see
//! [`crate::data::split`]. Score of x: Q(x, a¹) of the final network (higher = more anomalous).
//! The network is small (d → 20 → 2), so it runs on the hand-written [`crate::nn`] code.
//!
//! Weights file: `hidden.weight` `[d, h]`, `hidden.bias` `[h]`, `out.weight` `[h, 2]`,
//! `out.bias` `[2]`, `scaler.mean` / `scaler.std` `[d]`; metadata `n_features` and the episode
//! log as JSON (`history`).

pub mod config;
pub mod env;
pub mod replay;
pub mod train;

use std::collections::HashMap;
use std::path::Path;

pub use config::{DplanConfig, RmsPropStyle, Scaling};
pub use train::EpisodeLog;

use crate::checkpoint::{self, Checkpointer};
use crate::data::Dataset;
use crate::data::split::labeled_and_unlabeled;
use crate::detector::{FitContext, Model};
use crate::error::{Error, Result};
use crate::nn::{Activation, Mlp, Standardizer, read_tensors, write_tensors};

/// A fitted DPLAN agent.
#[derive(Debug, Clone)]
pub struct Dplan {
    pub scaler: Standardizer,
    pub net: Mlp,
    /// Per-episode training log (empty after loading a file written without one).
    pub history: Vec<EpisodeLog>,
}

impl Dplan {
    /// Q(x, a⁰) and Q(x, a¹) for every row.
    pub fn q_values(&self, data: &Dataset) -> Vec<f32> {
        let x = self.scaler.transform(data.x());
        self.net.forward(&x, data.n())
    }
}

impl Model for Dplan {
    const KIND: &'static str = "dplan";
    type Config = DplanConfig;

    fn fit(config: &DplanConfig, train: &Dataset, ctx: &FitContext) -> Result<Self> {
        let (labeled, unlabeled) = labeled_and_unlabeled(train, Self::KIND)?;
        let (n, d) = (train.n(), train.dim());
        let scaler = match config.scaling {
            Scaling::MinMax => Standardizer::fit_min_max(train.x(), n, d),
            Scaling::Standard => Standardizer::fit(train.x(), n, d),
            Scaling::None => Standardizer::identity(d),
        };
        let x = scaler.transform(train.x());
        // A resumed run must share data, seed and settings; episodes and learning rate may change.
        let ckpt = ctx.checkpoint.as_ref().map(|c| {
            let fp = checkpoint::fingerprint(Self::KIND, ctx.seed, config, &["episodes", "learning_rate"], train);
            Checkpointer::new(c, Self::KIND, fp)
        });
        let (net, history) = train::train(config, &x, d, labeled, unlabeled, ctx, ckpt.as_ref())?;
        Ok(Dplan { scaler, net, history })
    }

    fn score(&self, data: &Dataset) -> Result<Vec<f32>> {
        Ok(self.q_values(data).chunks_exact(2).map(|q| q[1]).collect())
    }

    fn save_weights(&self, path: &Path) -> Result<()> {
        let (d, h) = (self.net.input_dim(), self.net.dims()[1]);
        let p = &self.net.params;
        let history = serde_json::to_string(&self.history).map_err(|e| Error::model_file(path, e.to_string()))?;
        let meta = HashMap::from([
            ("format".to_string(), "oddity-dplan".to_string()),
            ("n_features".to_string(), d.to_string()),
            ("history".to_string(), history),
        ]);
        write_tensors(
            path,
            &[
                ("hidden.weight", vec![d, h], &p[self.net.weight_range(0)]),
                ("hidden.bias", vec![h], &p[self.net.bias_range(0)]),
                ("out.weight", vec![h, 2], &p[self.net.weight_range(1)]),
                ("out.bias", vec![2], &p[self.net.bias_range(1)]),
                ("scaler.mean", vec![d], &self.scaler.mean),
                ("scaler.std", vec![d], &self.scaler.std),
            ],
            meta,
        )
    }

    fn load_weights(config: &DplanConfig, path: &Path, _device: &crate::backend::Device) -> Result<Self> {
        let mut f = read_tensors(path)?;
        let d: usize = f
            .meta("n_features")?
            .parse()
            .map_err(|_| Error::model_file(path, "metadata `n_features` is not a number"))?;
        let h = config.hidden;
        let mut params = f.take("hidden.weight", &[d, h])?;
        params.extend(f.take("hidden.bias", &[h])?);
        params.extend(f.take("out.weight", &[h, 2])?);
        params.extend(f.take("out.bias", &[2])?);
        let scaler = Standardizer {
            mean: f.take("scaler.mean", &[d])?,
            std: f.take("scaler.std", &[d])?,
        };
        if scaler.std.iter().any(|&s| s <= 0.0) {
            return Err(Error::model_file(path, "scaler.std holds a non-positive value"));
        }
        let history = match f.metadata.get("history") {
            Some(s) => serde_json::from_str(s).map_err(|e| Error::model_file(path, format!("history: {e}")))?,
            None => Vec::new(),
        };
        let net = Mlp::from_params(&[d, h, 2], &[Activation::Relu, Activation::Linear], true, params)
            .ok_or_else(|| Error::model_file(path, "Q-network parameter count does not match the config"))?;
        Ok(Dplan { scaler, net, history })
    }
}
