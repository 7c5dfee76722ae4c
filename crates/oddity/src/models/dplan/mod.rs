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
//! [`crate::data::split`]. Score of x: Q(x, a¹) of the final network (higher = more anomalous);
//! with `ensemble = N`, the mean of Q(x, a¹) over N agents trained with seeds `seed … seed+N−1`
//! (in parallel; each agent is what a one-agent fit with its seed gives).
//! The network is small (d → 20 → 2), so it runs on the hand-written [`crate::nn`] code.
//!
//! Weights file: `hidden.weight` `[d, h]`, `hidden.bias` `[h]`, `out.weight` `[h, 2]`,
//! `out.bias` `[2]` (agent k > 0 of an ensemble: the same names prefixed `agent{k}.`),
//! `scaler.mean` / `scaler.std` `[d]`; metadata `n_features` and the episode logs as JSON
//! (`history`, agent 0's log followed by the others', each row naming its agent).

pub mod config;
pub mod env;
pub mod replay;
pub mod train;

use std::collections::HashMap;
use std::path::Path;

pub use config::{DplanConfig, RmsPropStyle, Scaling};
pub use train::EpisodeLog;

use rayon::prelude::*;

use crate::checkpoint::{self, Checkpointer, Checkpointing};
use crate::data::Dataset;
use crate::data::split::labeled_and_unlabeled;
use crate::detector::{FitContext, Model};
use crate::error::{Error, Result};
use crate::nn::{Activation, Mlp, Standardizer, read_tensors, write_tensors};
use crate::progress::Silent;

/// A fitted DPLAN detector: one agent, or an ensemble of independently trained ones.
#[derive(Debug, Clone)]
pub struct Dplan {
    pub scaler: Standardizer,
    /// The agents' Q-networks (one unless `ensemble` > 1).
    pub nets: Vec<Mlp>,
    /// Per-episode training log (empty after loading a file written without one).
    pub history: Vec<EpisodeLog>,
}

impl Dplan {
    /// Q(x, a⁰) and Q(x, a¹) for every row, averaged over the agents.
    pub fn q_values(&self, data: &Dataset) -> Vec<f32> {
        let x = self.scaler.transform(data.x());
        let mut q = self.nets[0].forward(&x, data.n());
        for net in &self.nets[1..] {
            for (a, b) in q.iter_mut().zip(net.forward(&x, data.n())) {
                *a += b;
            }
        }
        let k = self.nets.len() as f32;
        q.iter_mut().for_each(|v| *v /= k);
        q
    }
}

/// Tensor-name prefix of agent `k` in the weights file (none for agent 0: one-agent files keep
/// the names they always had).
fn agent_prefix(k: usize) -> String {
    if k == 0 { String::new() } else { format!("agent{k}.") }
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
        // Agent k: seed + k, its own checkpoint folder (agent 0: the folder itself).
        let agent = |k: usize, progress: &dyn crate::progress::Progress| {
            let seed = ctx.seed.wrapping_add(k as u64);
            let mut actx = FitContext::new(seed, progress);
            actx.checkpoint = ctx.checkpoint.as_ref().map(|c| Checkpointing {
                dir: if k == 0 {
                    c.dir.clone()
                } else {
                    c.dir.join(format!("agent{k}"))
                },
                resume: c.resume,
            });
            // A resumed run must share data, seed and settings; episodes and learning rate may
            // change. `ensemble` (and an off `double_dqn`) stay out: older checkpoints still fit.
            let mut may_change = vec!["episodes", "learning_rate", "ensemble"];
            if !config.double_dqn {
                may_change.push("double_dqn");
            }
            let ckpt = actx.checkpoint.as_ref().map(|c| {
                let fp = checkpoint::fingerprint(Self::KIND, seed, config, &may_change, train);
                Checkpointer::new(c, Self::KIND, fp)
            });
            let (net, mut log) = train::train(config, &x, d, labeled.clone(), unlabeled.clone(), &actx, ckpt.as_ref())?;
            log.iter_mut().for_each(|e| e.agent = k);
            Ok::<_, Error>((net, log))
        };
        let agents: Vec<(Mlp, Vec<EpisodeLog>)> = if config.ensemble == 1 {
            vec![agent(0, ctx.progress)?]
        } else {
            // Agent 0 reports progress. The agents are independent, so neither the models nor
            // the error (the first failing agent's) depend on the thread count.
            let fits: Vec<Result<_>> = (0..config.ensemble)
                .into_par_iter()
                .map(|k| {
                    if k == 0 {
                        agent(0, ctx.progress)
                    } else {
                        agent(k, &Silent)
                    }
                })
                .collect();
            fits.into_iter().collect::<Result<_>>()?
        };
        let mut nets = Vec::with_capacity(agents.len());
        let mut history = Vec::new();
        for (net, log) in agents {
            nets.push(net);
            history.extend(log);
        }
        Ok(Dplan { scaler, nets, history })
    }

    fn score(&self, data: &Dataset) -> Result<Vec<f32>> {
        Ok(self.q_values(data).chunks_exact(2).map(|q| q[1]).collect())
    }

    fn save_weights(&self, path: &Path) -> Result<()> {
        let (d, h) = (self.nets[0].input_dim(), self.nets[0].dims()[1]);
        let history = serde_json::to_string(&self.history).map_err(|e| Error::model_file(path, e.to_string()))?;
        let meta = HashMap::from([
            ("format".to_string(), "oddity-dplan".to_string()),
            ("n_features".to_string(), d.to_string()),
            ("history".to_string(), history),
        ]);
        let mut names = Vec::new();
        for k in 0..self.nets.len() {
            let pre = agent_prefix(k);
            names.push([
                format!("{pre}hidden.weight"),
                format!("{pre}hidden.bias"),
                format!("{pre}out.weight"),
                format!("{pre}out.bias"),
            ]);
        }
        let mut tensors: Vec<(&str, Vec<usize>, &[f32])> = Vec::new();
        for (net, [w0, b0, w1, b1]) in self.nets.iter().zip(&names) {
            let p = &net.params;
            tensors.push((w0, vec![d, h], &p[net.weight_range(0)]));
            tensors.push((b0, vec![h], &p[net.bias_range(0)]));
            tensors.push((w1, vec![h, 2], &p[net.weight_range(1)]));
            tensors.push((b1, vec![2], &p[net.bias_range(1)]));
        }
        tensors.push(("scaler.mean", vec![d], &self.scaler.mean));
        tensors.push(("scaler.std", vec![d], &self.scaler.std));
        write_tensors(path, &tensors, meta)
    }

    fn load_weights(config: &DplanConfig, path: &Path, _device: &crate::backend::Device) -> Result<Self> {
        let mut f = read_tensors(path)?;
        let d: usize = f
            .meta("n_features")?
            .parse()
            .map_err(|_| Error::model_file(path, "metadata `n_features` is not a number"))?;
        let h = config.hidden;
        let mut nets = Vec::with_capacity(config.ensemble);
        for k in 0..config.ensemble {
            let pre = agent_prefix(k);
            let mut params = f.take(&format!("{pre}hidden.weight"), &[d, h])?;
            params.extend(f.take(&format!("{pre}hidden.bias"), &[h])?);
            params.extend(f.take(&format!("{pre}out.weight"), &[h, 2])?);
            params.extend(f.take(&format!("{pre}out.bias"), &[2])?);
            let net = Mlp::from_params(&[d, h, 2], &[Activation::Relu, Activation::Linear], true, params)
                .ok_or_else(|| Error::model_file(path, "Q-network parameter count does not match the config"))?;
            nets.push(net);
        }
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
        Ok(Dplan { scaler, nets, history })
    }
}
