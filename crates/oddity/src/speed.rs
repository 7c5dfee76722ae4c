//! Throughput of the convolutional networks (`oddity bench speed`): a GANomaly training step
//! (G + D, as in training), GANomaly scoring in eval mode, a DCEC autoencoder pretraining step,
//! and the GEMM rate of the same backend for scale. `bench/speed_reference.py` times the same
//! architectures, batches and passes in PyTorch.
//!
//! Inputs are uniform in [−1, 1) from a fixed seed: dense convolutions take the same time whatever
//! the pixel values. Each figure is the median over timed steps after warm-up steps.

pub mod curve;
pub mod peak;

use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::models::deep_cluster::autoencoder::conv_ae_flops;
use crate::models::deep_cluster::{Autoencoder, DeepClusterConfig, InputShape};
use crate::models::ganomaly::nets::{decoder_flops, encoder_flops};
use crate::models::ganomaly::train::{Nets, step};
use crate::models::ganomaly::{BnMode, GanomalyConfig, NetG};
use crate::nn::fast::Precision;

/// How long each measurement runs.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Untimed steps first (allocator and cache warm-up).
    pub warmup: usize,
    /// Timed steps; the median is reported.
    pub steps: usize,
}

/// One measured workload.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    pub name: String,
    pub batch: usize,
    /// Median seconds per step.
    pub seconds: f64,
    pub images_per_second: f64,
    /// Multiply-add FLOPs per step (convolutions and dense layers; 2 per multiply-accumulate).
    pub flops: f64,
    pub gflops_per_second: f64,
}

impl Throughput {
    fn new(name: &str, batch: usize, times: &mut [f64], flops: f64) -> Self {
        times.sort_by(f64::total_cmp);
        let seconds = times[times.len() / 2];
        Throughput {
            name: name.to_string(),
            batch,
            seconds,
            images_per_second: batch as f64 / seconds,
            flops,
            gflops_per_second: flops / seconds / 1e9,
        }
    }
}

/// A workload's figure name: `name`, or `name (bf16)`.
fn named(name: &str, precision: Precision) -> String {
    match precision {
        Precision::F32 => name.to_string(),
        p => format!("{name} ({})", p.name()),
    }
}

fn uniform(n: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
}

fn timed(plan: Plan, mut f: impl FnMut() -> Result<()>) -> Result<Vec<f64>> {
    if plan.steps == 0 {
        return Err(Error::config("steps", "must be at least 1"));
    }
    for _ in 0..plan.warmup {
        f()?;
    }
    let mut times = Vec::with_capacity(plan.steps);
    for _ in 0..plan.steps {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    Ok(times)
}

/// GANomaly's generator forward FLOPs per image: encoder → decoder → encoder.
fn netg_flops(cfg: &GanomalyConfig) -> f64 {
    2.0 * encoder_flops(cfg.isize, cfg.nc, cfg.ngf, cfg.extralayers, cfg.nz)
        + decoder_flops(cfg.isize, cfg.nz, cfg.nc, cfg.ngf, cfg.extralayers)
}

/// One full GANomaly training step (the loop body of training: G forward, D on real and fake,
/// G backward + Adam, D on real and detached fake, D backward + Adam) at `batch` images of
/// `isize`², the official defaults otherwise (nz 100, ngf = ndf = 64).
///
/// FLOPs: G forward + backward ≈ 3 × forward; D runs four forward passes per step, three of them
/// with a backward pass, ≈ 10 × forward.
/// With `Precision::Bf16` the products run in bf16 (the figure is named `… (bf16)`).
pub fn ganomaly_train(
    device: &Device,
    batch: usize,
    isize: usize,
    plan: Plan,
    precision: Precision,
) -> Result<Throughput> {
    let cfg = GanomalyConfig {
        isize,
        batch_size: batch,
        precision,
        ..Default::default()
    };
    let ad = device.clone().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut nets = Some(Nets::new(&cfg, &ad, &mut rng));
    let dim = cfg.nc * isize * isize;
    let data = uniform(batch * dim, &mut rng);
    let ok = |_: f32, _: &str| Ok(());
    let mut times = timed(plan, || {
        let x = Tensor::from_data(TensorData::new(data.clone(), [batch, cfg.nc, isize, isize]), &ad);
        let current = nets.take().ok_or_else(|| Error::Backend("lost the networks".into()))?;
        let (next, _, _) = step(current, x, &cfg, &mut rng, &ok)?;
        nets = Some(next);
        Ok(())
    })?;
    let d = encoder_flops(isize, cfg.nc, cfg.ndf, cfg.extralayers, 1);
    let flops = batch as f64 * (3.0 * netg_flops(&cfg) + 10.0 * d);
    Ok(Throughput::new(
        &named("ganomaly train step", precision),
        batch,
        &mut times,
        flops,
    ))
}

/// GANomaly scoring: the generator in eval mode (running batch-norm statistics), ‖z − ẑ‖ per image.
pub fn ganomaly_score(device: &Device, batch: usize, isize: usize, plan: Plan) -> Result<Throughput> {
    let cfg = GanomalyConfig {
        isize,
        ..Default::default()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let netg = NetG::new(cfg.isize, cfg.nz, cfg.nc, cfg.ngf, cfg.extralayers, device);
    let dim = cfg.nc * isize * isize;
    let data = uniform(batch * dim, &mut rng);
    let mut times = timed(plan, || {
        let x = Tensor::from_data(TensorData::new(data.clone(), [batch, cfg.nc, isize, isize]), device);
        let out = netg.forward(x, BnMode::Running);
        let scores = (out.latent_i - out.latent_o)
            .reshape([batch, cfg.nz])
            .abs()
            .mean_dim(1)
            .into_data();
        scores
            .try_to_vec::<f32>()
            .map_err(|e| Error::Backend(format!("reading scores: {e:?}")))?;
        Ok(())
    })?;
    let flops = batch as f64 * netg_flops(&cfg);
    Ok(Throughput::new("ganomaly scoring (eval)", batch, &mut times, flops))
}

/// One DCEC pretraining step: the default convolutional autoencoder (32-64-128, kernels 5-5-3,
/// embedding 10) on `batch` images of `side`², MSE reconstruction, backward, Adam; products in
/// `precision`.
pub fn dcec_pretrain(
    device: &Device,
    batch: usize,
    side: usize,
    plan: Plan,
    precision: Precision,
) -> Result<Throughput> {
    let cfg = DeepClusterConfig {
        batch_size: batch,
        ..Default::default()
    };
    let input = InputShape { c: 1, h: side, w: side };
    let ad = device.clone().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut ae = Some(Autoencoder::init(&cfg, input, &ad, &mut rng)?);
    let mut opt = crate::nn::fast::adam(0.9, 0.999, 1e-8, None);
    let data = uniform(batch * input.dim(), &mut rng);
    let mut times = timed(plan, || {
        let x: Tensor<2> = Tensor::from_data(TensorData::new(data.clone(), [batch, input.dim()]), &ad);
        let net = ae.take().ok_or_else(|| Error::Backend("lost the autoencoder".into()))?;
        let _precision = precision.scope();
        let loss = (net.decode(net.encode(x.clone())) - x).square().mean();
        let grads = crate::nn::gradients(loss.backward(), &net);
        ae = Some(opt.step(cfg.lr, net, grads));
        // Read the loss, as training does and as the PyTorch side does: on a GPU this waits for the
        // queued work, so a step is not timed by how fast it is enqueued.
        loss.into_data()
            .try_to_vec::<f32>()
            .map_err(|e| Error::Backend(format!("reading the loss: {e:?}")))?;
        Ok(())
    })?;
    let flops = batch as f64 * 3.0 * conv_ae_flops(&cfg, input)?;
    Ok(Throughput::new(
        &named("dcec pretrain step", precision),
        batch,
        &mut times,
        flops,
    ))
}

/// The backend's single-precision matrix-multiply rate: an `n × n` by `n × n` product.
pub fn gemm(device: &Device, n: usize, plan: Plan) -> Result<Throughput> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let a: Tensor<2> = Tensor::from_data(TensorData::new(uniform(n * n, &mut rng), [n, n]), device);
    let b: Tensor<2> = Tensor::from_data(TensorData::new(uniform(n * n, &mut rng), [n, n]), device);
    let mut times = timed(plan, || {
        let c = a.clone().matmul(b.clone()).slice([0..1, 0..1]).into_data();
        c.try_to_vec::<f32>()
            .map_err(|e| Error::Backend(format!("reading a product: {e:?}")))?;
        Ok(())
    })?;
    let flops = 2.0 * (n as f64).powi(3);
    Ok(Throughput::new(&format!("sgemm {n}x{n}"), 1, &mut times, flops))
}

/// Peak resident memory of this process so far (Linux `VmHWM`), in bytes.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flop_counts_follow_the_layer_shapes() {
        // isize 32, nc 1, ndf 64: conv 1→64 to 16², 64→128 to 8², 128→256 to 4², 256→nz to 1².
        let enc = 2.0
            * (16.0 * 64.0 * 256.0 + 64.0 * 128.0 * 16.0 * 64.0 + 128.0 * 256.0 * 16.0 * 16.0 + 256.0 * 100.0 * 16.0);
        assert_eq!(encoder_flops(32, 1, 64, 0, 100), enc);
        // Decoder mirrors it: nz→256 from 1², 256→128 from 4², 128→64 from 8², 64→1 from 16².
        let dec = 2.0
            * (100.0 * 256.0 * 16.0 + 256.0 * 128.0 * 16.0 * 16.0 + 128.0 * 64.0 * 16.0 * 64.0 + 64.0 * 16.0 * 256.0);
        assert_eq!(decoder_flops(32, 100, 1, 64, 0), dec);
        // DCEC on 28²: 1→32 5×5 to 14², 32→64 5×5 to 7², 64→128 3×3 to 3² (valid), dense 1152↔10.
        let conv = 2.0 * (32.0 * 25.0 * 196.0 + 32.0 * 64.0 * 25.0 * 49.0 + 64.0 * 128.0 * 9.0 * 9.0);
        let dense = 2.0 * 2.0 * 1152.0 * 10.0;
        let input = InputShape { c: 1, h: 28, w: 28 };
        assert_eq!(
            conv_ae_flops(&DeepClusterConfig::default(), input).unwrap(),
            2.0 * conv + dense
        );
    }

    #[test]
    fn a_tiny_step_of_each_kind_runs_and_reports_consistent_rates() {
        let device = Device::flex();
        let plan = Plan { warmup: 0, steps: 1 };
        for t in [
            ganomaly_train(&device, 4, 16, plan, Precision::F32).unwrap(),
            ganomaly_train(&device, 4, 16, plan, Precision::Bf16).unwrap(),
            ganomaly_score(&device, 4, 16, plan).unwrap(),
            dcec_pretrain(&device, 4, 28, plan, Precision::Bf16).unwrap(),
            gemm(&device, 32, plan).unwrap(),
        ] {
            assert!(t.seconds > 0.0 && t.flops > 0.0, "{t:?}");
            assert!((t.images_per_second * t.seconds - t.batch as f64).abs() < 1e-6, "{t:?}");
        }
        assert!(peak_rss().is_none_or(|b| b > 1 << 20));
    }
}
