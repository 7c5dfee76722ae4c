//! The training loop, in the order of the official `lib/model.py` (`optimize_params`): forward G;
//! update G with w_adv·L_adv + w_con·L_con + w_enc·L_enc; update D with BCE on real vs detached
//! fake; re-initialise D's weights when its loss falls below 1e-5.
//!
//! D's batch-norm layers see the same four batches per step as in the official code (real and
//! fake for D's loss, real and fake for G's feature-matching loss); only the order of the running
//! statistics' updates differs, which affects nothing that is computed (D always runs on batch
//! statistics in training and is not used for scoring).
//!
//! Epoch selection: when a validation set is given (see [`super::Ganomaly`]'s `fit`), the
//! generator of the epoch with the best validation ROC-AUC (anomalies in the set) or the lowest
//! validation loss (normals only) is kept; otherwise the last epoch's. With `bn_at_score = auto`
//! every epoch is judged in both batch-norm modes and the best (epoch, mode) pair is kept, batch
//! statistics only when better by more than [`AUTO_BATCH_MARGIN`].

use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::config::{AUTO_TRAINING_SAMPLE, BnAtScore, GanomalyConfig};
use super::loss;
use super::nets::{BnMode, DcganInit, NetD, NetG};
use super::{score_images, score_mode};
use crate::checkpoint::{
    self, Checkpointer, STATE_JSON, StreamPosition, load_module, load_optimizer, sample_order, save_module,
    save_optimizer,
};
use crate::detector::FitContext;
use crate::error::{Error, Result};
use crate::metrics::roc_auc;
use crate::nn::gradients;
use crate::progress::EpochClock;

/// D is re-initialised when its loss falls below this (official `lib/model.py`).
const D_REINIT_BELOW: f32 = 1e-5;

/// Images prepared for the networks: `n` samples of `nc × isize × isize` values in [−1, 1].
pub(crate) struct Images {
    pub n: usize,
    pub x: Vec<f32>,
}

/// Held-out images for choosing the epoch.
pub(crate) struct Validation {
    pub images: Images,
    /// Anomaly flags with both kinds present (choose by ROC-AUC), or `None` (normals only:
    /// choose by validation loss).
    pub flags: Option<Vec<bool>>,
}

impl Validation {
    /// `flags` may be empty (no labels) or all normal: then the loss decides.
    pub(crate) fn new(images: Images, flags: Vec<bool>) -> Self {
        let both = flags.iter().any(|&f| f) && flags.iter().any(|&f| !f);
        Validation {
            images,
            flags: both.then_some(flags),
        }
    }

    /// The epoch's merit (higher is better), the series it is recorded under and the value
    /// recorded: ROC-AUC with anomalies, else minus the mean data loss w_con·L_con + w_enc·L_enc,
    /// with `cfg.bn_at_score`'s batch-norm statistics.
    pub(crate) fn merit(&self, netg: &NetG, cfg: &GanomalyConfig, device: &Device) -> Result<(f64, &'static str, f64)> {
        if let Some(flags) = &self.flags {
            let auc = roc_auc(flags, &score_images(netg, &self.images, cfg, device)?)?;
            return Ok((auc, "validation ROC-AUC per epoch", auc));
        }
        let mode = score_mode(cfg);
        let idx: Vec<usize> = (0..self.images.n).collect();
        let mut sum = 0f64;
        for chunk in idx.chunks(cfg.batch_size.max(1)) {
            let x = batch(&self.images, chunk, cfg, device);
            let out = netg.forward(x.clone(), mode);
            let l = loss::contextual(x, out.fake).mul_scalar(cfg.w_con)
                + loss::encoder(out.latent_i, out.latent_o).mul_scalar(cfg.w_enc);
            sum += value(&l)? as f64 * chunk.len() as f64;
        }
        let mean = sum / self.images.n.max(1) as f64;
        Ok((-mean, "validation loss per epoch", mean))
    }
}

/// Builds a `[b, nc, s, s]` tensor of the samples `idx`.
pub(crate) fn batch(images: &Images, idx: &[usize], cfg: &GanomalyConfig, device: &Device) -> Tensor<4> {
    let dim = cfg.nc * cfg.isize * cfg.isize;
    let mut v = Vec::with_capacity(idx.len() * dim);
    for &i in idx {
        v.extend_from_slice(&images.x[i * dim..(i + 1) * dim]);
    }
    Tensor::from_data(TensorData::new(v, [idx.len(), cfg.nc, cfg.isize, cfg.isize]), device)
}

/// A non-finite loss stops training with an error naming where, and the last good checkpoint.
fn check_finite(loss: f32, which: &str, epoch: usize, batch: usize, ckpt: Option<&Checkpointer>) -> Result<()> {
    if loss.is_finite() {
        return Ok(());
    }
    let kept = checkpoint::kept_note(ckpt, "epoch", epoch - 1, "lr");
    Err(Error::diverged(
        "GANomaly",
        format!("epoch {epoch}, batch {}", batch + 1),
        format!("the {which} loss"),
        Some(f64::from(loss)),
        kept,
    ))
}

/// What the loop carries from one epoch to the next besides the networks and optimisers.
#[derive(Serialize, Deserialize)]
struct LoopState {
    rng: StreamPosition,
    /// The sample order, shuffled in place every epoch.
    order: Vec<usize>,
    /// The best epoch's merit (see [`Validation`]); `best_auc` in checkpoints of oddity ≤ 0.1.
    #[serde(alias = "best_auc")]
    best: Option<f64>,
    /// The best epoch's batch-norm mode (`bn_at_score = auto`); absent in checkpoints of oddity ≤ 0.1.
    #[serde(default)]
    best_mode: Option<BnAtScore>,
    last_losses: String,
}

const NETG: &str = "netg.bpk";
const NETD: &str = "netd.bpk";
const OPT_G: &str = "opt_g.bpk";
const OPT_D: &str = "opt_d.bpk";
const BEST_G: &str = "best_g.bpk";

fn value(t: &Tensor<1>) -> Result<f32> {
    t.to_data()
        .try_to_vec::<f32>()
        .ok()
        .and_then(|v| v.first().copied())
        .ok_or_else(|| Error::Backend("could not read a loss value".into()))
}

/// The two networks being trained and their Adam optimisers (lr 2e-4, β (0.5, 0.999), ε 1e-8 as
/// PyTorch's; burn's default ε is 1e-5), DCGAN-initialised from `rng` (G first, then D).
pub(crate) struct Nets {
    pub netg: NetG,
    pub netd: NetD,
    pub opt_g: ModuleOptimizer,
    pub opt_d: ModuleOptimizer,
}

impl Nets {
    /// `device` must be an autodiff device.
    pub(crate) fn new(cfg: &GanomalyConfig, device: &Device, rng: &mut ChaCha8Rng) -> Self {
        let netg = NetG::new(cfg.isize, cfg.nz, cfg.nc, cfg.ngf, cfg.extralayers, device).dcgan_init(rng);
        let netd = NetD::new(cfg.isize, cfg.nc, cfg.ndf, cfg.extralayers, device).dcgan_init(rng);
        let clipping = (cfg.clip_norm > 0.0).then_some(GradientClippingConfig::Norm(cfg.clip_norm as f32));
        let adam = || crate::nn::fast::adam(cfg.beta1 as f32, cfg.beta2 as f32, 1e-8, clipping.clone());
        Nets {
            netg,
            netd,
            opt_g: adam(),
            opt_d: adam(),
        }
    }
}

/// One training step on the batch `x` (official `optimize_params`): update G, then D on the
/// detached fake of the same forward pass; D is re-initialised when its loss falls below 1e-5.
/// `check` sees each loss value before its backward pass (the caller's divergence guard).
/// Returns the networks and the (G, D) loss values.
pub(crate) fn step(
    nets: Nets,
    x: Tensor<4>,
    cfg: &GanomalyConfig,
    rng: &mut ChaCha8Rng,
    check: &dyn Fn(f32, &str) -> Result<()>,
) -> Result<(Nets, f32, f32)> {
    let Nets {
        mut netg,
        mut netd,
        mut opt_g,
        mut opt_d,
    } = nets;
    let _precision = cfg.precision.scope();
    // G step. D's parameters are constants here (a copy without gradients, sharing D's running
    // statistics): the official code also computes D's weight gradients in this backward pass and
    // then discards them; G's gradients and D's running statistics are the same either way.
    let out = netg.forward(x.clone(), BnMode::Train);
    let frozen_d = netd.clone().no_grad();
    let feat_real = frozen_d.encoder.features(x.clone(), BnMode::Train);
    let feat_fake = frozen_d.encoder.features(out.fake.clone(), BnMode::Train);
    drop(frozen_d);
    let err_g = loss::adversarial(feat_real, feat_fake).mul_scalar(cfg.w_adv)
        + loss::contextual(x.clone(), out.fake.clone()).mul_scalar(cfg.w_con)
        + loss::encoder(out.latent_i, out.latent_o).mul_scalar(cfg.w_enc);
    let err_g_value = value(&err_g)?;
    check(err_g_value, "generator")?;
    let grads_g = gradients(err_g.backward(), &netg);
    netg = opt_g.step(cfg.lr, netg, grads_g);
    // D step, on the fake of this step's forward pass, detached
    let (pred_real, _) = netd.forward(x, BnMode::Train);
    let (pred_fake, _) = netd.forward(out.fake.detach(), BnMode::Train);
    let err_d = loss::discriminator(pred_real, pred_fake);
    let err_d_value = value(&err_d)?;
    check(err_d_value, "discriminator")?;
    let grads_d = gradients(err_d.backward(), &netd);
    netd = opt_d.step(cfg.lr, netd, grads_d);
    if err_d_value < D_REINIT_BELOW {
        netd = netd.dcgan_init(rng);
    }
    let nets = Nets {
        netg,
        netd,
        opt_g,
        opt_d,
    };
    Ok((nets, err_g_value, err_d_value))
}

/// The batch-norm modes an epoch is judged in: the configured one, or both for `auto` (running
/// first, so that it wins a tie).
fn candidate_modes(cfg: &GanomalyConfig) -> &'static [BnAtScore] {
    match cfg.bn_at_score {
        BnAtScore::Auto => &[BnAtScore::Running, BnAtScore::Batch],
        BnAtScore::Running => &[BnAtScore::Running],
        BnAtScore::Batch => &[BnAtScore::Batch],
    }
}

/// How much better (relative to the criterion's value) batch statistics must judge an epoch for
/// `auto` to keep them over running statistics: a near-tie keeps running statistics, whose scores
/// do not depend on the batch a sample is scored in. Measured in docs/bench/ganomaly.md: where
/// running statistics inverted the ranking (MNIST subset, 2–3 epochs; full MNIST, 1–2 epochs)
/// their validation loss was 7–58% higher; where batch statistics were lower by less, it was by
/// at most 0.5%.
pub const AUTO_BATCH_MARGIN: f64 = 0.02;

/// An epoch's merit (higher is better, see [`Validation::merit`]) as `auto` compares it across
/// modes: batch statistics' lowered by [`AUTO_BATCH_MARGIN`] of its size.
pub(crate) fn auto_merit(merit: f64, mode: BnAtScore) -> f64 {
    match mode {
        BnAtScore::Batch => merit - AUTO_BATCH_MARGIN * merit.abs(),
        _ => merit,
    }
}

/// `cfg` scoring with `mode`.
fn in_mode(cfg: &GanomalyConfig, mode: BnAtScore) -> GanomalyConfig {
    GanomalyConfig {
        bn_at_score: mode,
        ..cfg.clone()
    }
}

/// `auto` without validation data: the mode with the lower loss of the last epoch's generator on
/// a seeded subsample of at most [`AUTO_TRAINING_SAMPLE`] training images (compared as
/// [`auto_merit`] does).
fn mode_on_training_images(
    netg: &NetG,
    cfg: &GanomalyConfig,
    train: &Images,
    device: &Device,
    ctx: &FitContext,
    epoch: u64,
) -> Result<BnAtScore> {
    let mut idx: Vec<usize> = (0..train.n).collect();
    // A stream of its own: the choice does not move the training draws.
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(ctx.seed ^ 0xb0a7_5c0e));
    idx.truncate(AUTO_TRAINING_SAMPLE);
    idx.sort_unstable();
    let dim = cfg.nc * cfg.isize * cfg.isize;
    let mut x = Vec::with_capacity(idx.len() * dim);
    for &i in &idx {
        x.extend_from_slice(&train.x[i * dim..(i + 1) * dim]);
    }
    let sample = Validation::new(Images { n: idx.len(), x }, vec![]);
    let mut best: Option<(f64, BnAtScore)> = None;
    for &mode in candidate_modes(cfg) {
        let (merit, _, shown) = sample.merit(netg, &in_mode(cfg, mode), device)?;
        ctx.progress
            .record(&format!("training-image loss, BN {}", mode.name()), epoch, shown);
        let merit = auto_merit(merit, mode);
        if best.is_none_or(|(b, _)| merit > b) {
            best = Some((merit, mode));
        }
    }
    Ok(best.map_or(BnAtScore::Running, |(_, m)| m))
}

/// Trains GANomaly; returns the generator (in validation mode on `device`) and the batch-norm mode
/// to score with (`cfg.bn_at_score`, or the one chosen for `auto`).
pub(crate) fn fit(
    cfg: &GanomalyConfig,
    train: &Images,
    val: Option<&Validation>,
    device: &Device,
    ctx: &FitContext,
    ckpt: Option<&Checkpointer>,
) -> Result<(NetG, BnAtScore)> {
    fit_observed(cfg, train, val, device, ctx, ckpt, None)
}

/// [`fit`], calling `observe` with every epoch's generator (for measurements).
pub(crate) fn fit_observed(
    cfg: &GanomalyConfig,
    train: &Images,
    val: Option<&Validation>,
    device: &Device,
    ctx: &FitContext,
    ckpt: Option<&Checkpointer>,
    mut observe: Option<&mut dyn FnMut(usize, &NetG)>,
) -> Result<(NetG, BnAtScore)> {
    if train.n < 2 {
        return Err(Error::InvalidData(format!(
            "GANomaly needs at least 2 training images (batch norm), got {}",
            train.n
        )));
    }
    let ad = device.clone().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(ctx.seed);
    let mut nets = Nets::new(cfg, &ad, &mut rng);

    // Official loader: shuffle, drop the last incomplete batch. Fewer samples than a batch: one batch.
    let bs = cfg.batch_size.min(train.n);
    let n_batches = train.n / bs;
    let mut order: Vec<usize> = (0..train.n).collect();
    // The best epoch's merit, generator and batch-norm mode.
    let mut best: Option<(f64, NetG, BnAtScore)> = None;
    let mut last_losses = String::new();
    let mut first_epoch = 1;
    if let Some(ck) = ckpt
        && let Some(saved) = ck.resume::<LoopState>(cfg.epochs as u64, "epochs")?
    {
        let p = |f: &str| saved.dir.join(f);
        nets.netg = load_module(nets.netg, &p(NETG))?;
        nets.netd = load_module(nets.netd, &p(NETD))?;
        nets.opt_g = load_optimizer(nets.opt_g, &p(OPT_G))?;
        nets.opt_d = load_optimizer(nets.opt_d, &p(OPT_D))?;
        let st = saved.state;
        st.rng.restore(&mut rng, &p(STATE_JSON))?;
        order = sample_order(st.order, train.n, &p(STATE_JSON))?;
        last_losses = st.last_losses;
        if let Some(merit) = st.best {
            let g = NetG::new(cfg.isize, cfg.nz, cfg.nc, cfg.ngf, cfg.extralayers, device);
            // Checkpoints without a mode were written with a fixed `bn_at_score`.
            let mode = st.best_mode.unwrap_or(match cfg.bn_at_score {
                BnAtScore::Auto => BnAtScore::Running,
                fixed => fixed,
            });
            best = Some((merit, load_module(g, &p(BEST_G))?, mode));
        }
        first_epoch = saved.step as usize + 1;
    }
    let clock = EpochClock::new(first_epoch, cfg.epochs);
    for epoch in first_epoch..=cfg.epochs {
        order.shuffle(&mut rng);
        ctx.progress.start_counted(
            &format!(
                "ganomaly epoch {epoch}/{}{}{last_losses}",
                cfg.epochs,
                clock.left(epoch)
            ),
            (n_batches * bs) as u64,
            "images",
        );
        let (mut sum_g, mut sum_d) = (0f64, 0f64);
        for b in 0..n_batches {
            let x = batch(train, &order[b * bs..(b + 1) * bs], cfg, &ad);
            let check = |loss: f32, which: &str| check_finite(loss, which, epoch, b, ckpt);
            let (g, d);
            (nets, g, d) = step(nets, x, cfg, &mut rng, &check)?;
            sum_g += g as f64;
            sum_d += d as f64;
            ctx.progress.advance(bs as u64);
        }
        ctx.progress.finish();
        nets.netg.sync_running_stats();
        nets.netd.sync_running_stats();
        let nb = n_batches.max(1) as f64;
        last_losses = format!(" (last: loss G {:.4}, loss D {:.4})", sum_g / nb, sum_d / nb);
        ctx.progress
            .record("generator loss per epoch", epoch as u64, sum_g / nb);
        ctx.progress
            .record("discriminator loss per epoch", epoch as u64, sum_d / nb);
        if let Some(observe) = observe.as_mut() {
            observe(epoch, &nets.netg.valid());
        }
        if let Some(val) = val {
            let snapshot = nets.netg.valid();
            let modes = candidate_modes(cfg);
            for &mode in modes {
                let (merit, series, shown) = val.merit(&snapshot, &in_mode(cfg, mode), device)?;
                let series = match modes.len() {
                    1 => series.to_string(),
                    _ => format!("{series}, BN {}", mode.name()),
                };
                ctx.progress.record(&series, epoch as u64, shown);
                let merit = match modes.len() {
                    1 => merit,
                    _ => auto_merit(merit, mode),
                };
                if best.as_ref().is_none_or(|(b, _, _)| merit > *b) {
                    best = Some((merit, snapshot.clone(), mode));
                }
            }
        }
        if let Some(ck) = ckpt {
            let state = LoopState {
                rng: StreamPosition::of(&rng),
                order: order.clone(),
                best: best.as_ref().map(|(a, _, _)| *a),
                best_mode: best.as_ref().map(|(_, _, m)| *m),
                last_losses: last_losses.clone(),
            };
            ck.save(epoch as u64, &state, |dir| {
                save_module(&nets.netg, &dir.join(NETG))?;
                save_module(&nets.netd, &dir.join(NETD))?;
                save_optimizer(&nets.opt_g, &dir.join(OPT_G))?;
                save_optimizer(&nets.opt_d, &dir.join(OPT_D))?;
                match &best {
                    Some((_, g, _)) => save_module(g, &dir.join(BEST_G)),
                    None => Ok(()),
                }
            })?;
        }
    }
    Ok(match best {
        Some((_, g, mode)) => (g, mode),
        None => {
            let g = nets.netg.valid();
            let mode = match cfg.bn_at_score {
                BnAtScore::Auto => mode_on_training_images(&g, cfg, train, device, ctx, cfg.epochs as u64)?,
                fixed => fixed,
            };
            (g, mode)
        }
    })
}
