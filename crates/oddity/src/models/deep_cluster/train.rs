//! Training: (1) pretrain the autoencoder on MSE, (2) k-means on the embeddings initialises the
//! centroids, (3) fine-tune encoder, decoder and centroids on γ·L_cluster + L_rec (or the
//! α-schedule), P recomputed every `update_interval` iterations, stopping when fewer than `tol`
//! of the labels change, (4) optionally k-means again on the final embedding.
//!
//! As the official DCEC / IDEC code: pretraining shuffles every epoch and keeps the last partial
//! batch (Keras `fit`); fine-tuning walks through the data in consecutive batches (the last one
//! partial), wrapping around. Here the walk follows one seeded permutation of the samples rather
//! than file order, so class-sorted files (COIL-20) do not give single-class batches.

use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::module::{Module, Param};
use burn::optim::ModuleOptimizer;
use burn::tensor::{Device, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::augment::Augmenter;
use super::autoencoder::{Autoencoder, InputShape};
use super::clustering_layer::{kl_loss, kmeans_loss, soft_assign, target_distribution};
use super::config::{ClusterLoss, DeepClusterConfig, Init, Weighting};
use super::kmeans::{self, kmeans_with_progress};
use super::spectral::spectral;
use super::{DeepClusterNet, FitStats, Rows};
use crate::checkpoint::{
    Checkpointer, STATE_JSON, StreamPosition, load_module, load_optimizer, sample_order, save_module, save_optimizer,
};
use crate::detector::FitContext;
use crate::error::{Error, Result};
use crate::progress::EpochClock;

/// Rows `idx` of `x` as a `[b, dim]` tensor.
pub(crate) fn batch(x: &Rows, idx: &[usize], device: &Device) -> Tensor<2> {
    augmented_batch(x, idx, None, device)
}

/// Rows `idx` of `x` as a `[b, dim]` tensor, randomly rotated and shifted by `aug` when given.
fn augmented_batch(x: &Rows, idx: &[usize], aug: Option<&mut Augmenter>, device: &Device) -> Tensor<2> {
    let mut v = Vec::with_capacity(idx.len() * x.dim);
    for &i in idx {
        v.extend_from_slice(x.row(i));
    }
    if let Some(aug) = aug {
        aug.apply(&mut v);
    }
    Tensor::from_data(TensorData::new(v, [idx.len(), x.dim]), device)
}

/// The augmentation stream of fine-tuning (pretraining epoch e uses stream e).
const FINETUNE_STREAM: u64 = u64::MAX;

pub(crate) fn values<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    t.into_data()
        .try_to_vec::<f32>()
        .map_err(|e| Error::Backend(format!("reading a tensor: {e:?}")))
}

fn scalar(t: &Tensor<1>) -> Result<f32> {
    values(t.clone())?
        .first()
        .copied()
        .ok_or_else(|| Error::Backend("empty loss".into()))
}

/// Mean squared reconstruction error over all elements (Keras `mse`, averaged over the batch).
fn mse(x: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
    (x - y).square().mean()
}

/// Adam with the Keras / PyTorch defaults (β 0.9 / 0.999, ε 1e-8; burn's default ε is 1e-5).
/// With `clip_norm` > 0, each parameter tensor's gradient is clipped to that norm.
fn adam(cfg: &DeepClusterConfig) -> ModuleOptimizer {
    let clipping = (cfg.clip_norm > 0.0).then_some(GradientClippingConfig::Norm(cfg.clip_norm as f32));
    crate::nn::fast::adam(0.9, 0.999, 1e-8, clipping)
}

/// What pretraining carries from one epoch to the next besides the autoencoder and optimiser.
#[derive(Serialize, Deserialize)]
struct PretrainState {
    rng: StreamPosition,
    order: Vec<usize>,
    last_loss: f64,
    seconds: f64,
}

const AE_FILE: &str = "autoencoder.bpk";
const OPT_FILE: &str = "adam.bpk";

/// Stage 1: MSE pretraining of the autoencoder; checkpointed after every epoch when `ckpt` is
/// given (fine-tuning is not: a resumed run redoes it from the pretrained autoencoder, which gives
/// the same result since it draws from its own random stream).
#[allow(clippy::too_many_arguments)]
pub(crate) fn pretrain(
    cfg: &DeepClusterConfig,
    input: InputShape,
    x: &Rows,
    ad: &Device,
    rng: &mut ChaCha8Rng,
    ctx: &FitContext,
    stats: &mut FitStats,
    ckpt: Option<&Checkpointer>,
) -> Result<Autoencoder> {
    let mut ae = Autoencoder::init(cfg, input, ad, rng)?;
    let mut opt = adam(cfg);
    let bs = cfg.batch_size.min(x.n);
    let mut order: Vec<usize> = (0..x.n).collect();
    let start = Instant::now();
    let mut earlier_seconds = 0.0;
    let mut last = String::new();
    let mut first_epoch = 1;
    if let Some(ck) = ckpt
        && let Some(saved) = ck.resume::<PretrainState>(cfg.pretrain_epochs as u64, "pretrain_epochs")?
    {
        let p = |f: &str| saved.dir.join(f);
        ae = load_module(ae, &p(AE_FILE))?;
        opt = load_optimizer(opt, &p(OPT_FILE))?;
        let st = saved.state;
        st.rng.restore(rng, &p(STATE_JSON))?;
        order = sample_order(st.order, x.n, &p(STATE_JSON))?;
        stats.pretrain_loss = st.last_loss;
        earlier_seconds = st.seconds;
        last = format!(" (last MSE {:.5})", st.last_loss);
        first_epoch = saved.step as usize + 1;
    }
    let clock = EpochClock::new(first_epoch, cfg.pretrain_epochs);
    for epoch in first_epoch..=cfg.pretrain_epochs {
        order.shuffle(rng);
        ctx.progress.start_counted(
            &format!(
                "deep-cluster pretrain {epoch}/{}{}{last}",
                cfg.pretrain_epochs,
                clock.left(epoch)
            ),
            x.n as u64,
            "samples",
        );
        let mut sum = 0f64;
        let mut aug = Augmenter::new(cfg, x.shape, ctx.seed, epoch as u64);
        for chunk in order.chunks(bs) {
            let xb = augmented_batch(x, chunk, aug.as_mut(), ad);
            let _precision = cfg.precision.scope();
            let loss = mse(ae.decode(ae.encode(xb.clone())), xb);
            sum += scalar(&loss)? as f64 * chunk.len() as f64;
            let grads = crate::nn::gradients(loss.backward(), &ae);
            ae = opt.step(cfg.lr, ae, grads);
            ctx.progress.advance(chunk.len() as u64);
        }
        ctx.progress.finish();
        stats.pretrain_loss = sum / x.n as f64;
        if !stats.pretrain_loss.is_finite() {
            let kept = crate::checkpoint::kept_note(ckpt, "epoch", epoch - 1, "lr");
            return Err(Error::diverged(
                "deep-cluster",
                format!("pretraining epoch {epoch}"),
                "the reconstruction loss",
                Some(stats.pretrain_loss),
                kept,
            ));
        }
        ctx.progress
            .record("pretraining MSE per epoch", epoch as u64, stats.pretrain_loss);
        last = format!(" (last MSE {:.5})", stats.pretrain_loss);
        if let Some(ck) = ckpt {
            let state = PretrainState {
                rng: StreamPosition::of(rng),
                order: order.clone(),
                last_loss: stats.pretrain_loss,
                seconds: earlier_seconds + start.elapsed().as_secs_f64(),
            };
            ck.save(epoch as u64, &state, |dir| {
                save_module(&ae, &dir.join(AE_FILE))?;
                save_optimizer(&opt, &dir.join(OPT_FILE))
            })?;
        }
    }
    stats.pretrain_epochs = cfg.pretrain_epochs;
    stats.pretrain_seconds = earlier_seconds + start.elapsed().as_secs_f64();
    Ok(ae)
}

/// Embeddings of all rows, `n × embedding`, in inference mode.
pub(crate) fn embed_all(ae: &Autoencoder, x: &Rows, device: &Device) -> Result<Vec<f32>> {
    let idx: Vec<usize> = (0..x.n).collect();
    let mut out = Vec::new();
    for chunk in idx.chunks(1024) {
        out.extend(values(ae.encode(batch(x, chunk, device)))?);
    }
    Ok(out)
}

/// Soft assignments of all rows, `n × k`.
pub(crate) fn assign_all(net: &DeepClusterNet, x: &Rows, alpha: f64, device: &Device) -> Result<Vec<f32>> {
    let idx: Vec<usize> = (0..x.n).collect();
    let mut out = Vec::new();
    for chunk in idx.chunks(1024) {
        let z = net.ae.encode(batch(x, chunk, device));
        out.extend(values(soft_assign(z, net.centroids.val(), alpha))?);
    }
    Ok(out)
}

pub(crate) fn argmax_rows(q: &[f32], k: usize) -> Vec<u32> {
    q.chunks_exact(k)
        .map(|r| {
            let mut best = 0;
            for j in 1..k {
                if r[j] > r[best] {
                    best = j;
                }
            }
            best as u32
        })
        .collect()
}

/// Stages 2–4 on a pretrained autoencoder (on the autodiff device `ad`); returns the network in
/// inference mode and the refined centroids (when `refine`).
/// Rows of `k` zeros with a 1 at each label.
fn one_hot(labels: &[u32], k: usize) -> Vec<f32> {
    let mut p = vec![0.0; labels.len() * k];
    for (row, &l) in p.chunks_exact_mut(k).zip(labels) {
        row[l as usize] = 1.0;
    }
    p
}

pub(crate) fn cluster(
    cfg: &DeepClusterConfig,
    ae: Autoencoder,
    x: &Rows,
    ad: &Device,
    rng: &mut ChaCha8Rng,
    ctx: &FitContext,
    stats: &mut FitStats,
) -> Result<(DeepClusterNet, Option<Vec<f32>>)> {
    let k = cfg.n_clusters;
    let e = cfg.embedding;
    let device = ad.clone().inner();
    // Stage 2: k-means on the pretrained embedding.
    let t = Instant::now();
    ctx.progress.start("deep-cluster k-means init", None);
    let z = embed_all(&ae.clone().valid(), x, &device)?;
    let (labels, centroids) = match cfg.init {
        Init::Kmeans => {
            let km = kmeans_with_progress(&z, e, k, cfg.n_init, cfg.kmeans_max_iter, ctx.seed, ctx.progress)?;
            (km.labels, km.centroids)
        }
        Init::Spectral => {
            let labels = spectral(
                &z,
                e,
                k,
                cfg.spectral_neighbors,
                cfg.n_init,
                cfg.kmeans_max_iter,
                ctx.seed,
            )?;
            let centroids = kmeans::means(&z, e, &labels, k);
            (labels, centroids)
        }
    };
    ctx.progress.finish();
    stats.kmeans_seconds = t.elapsed().as_secs_f64();
    stats.labels_kmeans_init = labels;
    let centroids = Tensor::<2>::from_data(TensorData::new(centroids, [k, e]), ad).require_grad();
    let mut net = DeepClusterNet {
        ae,
        centroids: Param::from_tensor(centroids),
    };

    // Stage 3: fine-tuning.
    let mut opt = adam(cfg);
    let mut order: Vec<usize> = (0..x.n).collect();
    order.shuffle(rng);
    let bs = cfg.batch_size.min(x.n);
    let mut index = 0usize;
    let mut p: Vec<f32> = Vec::new();
    let mut last_labels = stats.labels_kmeans_init.clone();
    let t = Instant::now();
    ctx.progress.start("deep-cluster fine-tune", Some(cfg.maxiter as u64));
    let mut ite = 0;
    let mut aug = Augmenter::new(cfg, x.shape, ctx.seed, FINETUNE_STREAM);
    stats.stopped_at_tol = false;
    while ite < cfg.maxiter {
        if ite % cfg.update_interval == 0 {
            let q = assign_all(&net.clone().valid(), x, cfg.alpha, &device)?;
            if q.iter().any(|v| !v.is_finite()) {
                return Err(Error::diverged(
                    "deep-cluster",
                    format!("fine-tuning iteration {ite}"),
                    "non-finite soft assignments",
                    None,
                    " (try a smaller lr)",
                ));
            }
            let labels = argmax_rows(&q, k);
            let changed = labels.iter().zip(&last_labels).filter(|(a, b)| a != b).count();
            let delta = changed as f64 / x.n as f64;
            stats.last_delta_label = delta;
            if ite > 0 {
                ctx.progress
                    .record("fraction of labels changed per update", ite as u64, delta);
            }
            last_labels = labels;
            if cfg.loss == ClusterLoss::Kl {
                p = target_distribution(&q, k);
                if ite == 0 && cfg.init == Init::Spectral {
                    // The first target is the spectral partition itself: q, a nearest-centroid
                    // rule, would re-cut its non-convex clusters (measured on COIL-20: 0.80 → 0.77 ACC).
                    p = one_hot(&stats.labels_kmeans_init, k);
                }
            }
            if ite > 0 && delta < cfg.tol {
                stats.stopped_at_tol = true;
                break;
            }
        }
        let end = (index + bs).min(x.n);
        let idx = &order[index..end];
        index = if end >= x.n { 0 } else { end };
        let xb = augmented_batch(x, idx, aug.as_mut(), ad);
        let _precision = cfg.precision.scope();
        let zb = net.ae.encode(xb.clone());
        let rec = mse(net.ae.decode(zb.clone()), xb);
        let lc = match cfg.loss {
            ClusterLoss::Kl => {
                let mut pv = Vec::with_capacity(idx.len() * k);
                for &i in idx {
                    pv.extend_from_slice(&p[i * k..(i + 1) * k]);
                }
                let pb = Tensor::<2>::from_data(TensorData::new(pv, [idx.len(), k]), ad);
                kl_loss(pb, soft_assign(zb, net.centroids.val(), cfg.alpha))
            }
            ClusterLoss::Kmeans => kmeans_loss(zb, net.centroids.val()),
        };
        let loss = match cfg.weighting {
            Weighting::Gamma => lc.mul_scalar(cfg.gamma) + rec,
            Weighting::Schedule => {
                let a = schedule(cfg, ite);
                lc.mul_scalar(a) + rec.mul_scalar(1.0 - a)
            }
        };
        let grads = crate::nn::gradients(loss.backward(), &net);
        net = opt.step(cfg.lr, net, grads);
        ite += 1;
        ctx.progress.advance(1);
    }
    ctx.progress.finish();
    stats.finetune_iters = ite;
    stats.finetune_seconds = t.elapsed().as_secs_f64();
    let net = net.valid();

    // Stage 4: k-means refinement on the final embedding.
    let refined = if cfg.refine {
        let t = Instant::now();
        ctx.progress.start("deep-cluster k-means refine", None);
        let z = embed_all(&net.ae, x, &device)?;
        let km = kmeans_with_progress(
            &z,
            e,
            k,
            cfg.n_init,
            cfg.kmeans_max_iter,
            ctx.seed ^ 0x7e_f1_4e,
            ctx.progress,
        )?;
        ctx.progress.finish();
        stats.refine_seconds = t.elapsed().as_secs_f64();
        Some(km.centroids)
    } else {
        None
    };
    Ok((net, refined))
}

/// The weight a of L_cluster at fine-tuning iteration `ite` for `weighting = schedule`: linear
/// from `schedule_start` (first iteration) to `schedule_end` (iteration `maxiter − 1`).
pub fn schedule(cfg: &DeepClusterConfig, ite: usize) -> f64 {
    let span = cfg.maxiter.saturating_sub(1).max(1) as f64;
    let t = (ite as f64 / span).min(1.0);
    cfg.schedule_start + (cfg.schedule_end - cfg.schedule_start) * t
}
