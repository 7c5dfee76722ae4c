//! Batch normalisation fused with the activation after it (one pass for statistics, one for the
//! output; two for the backward), and the activation alone — on f32 `flex` tensors, computed in NHWC
//! order (outputs are NHWC views, [`super::layout`]).
//!
//! Same function as burn's `batch_norm_train` / `batch_norm` followed by `relu` / `leaky_relu`:
//! biased batch variance, `(x − mean) / sqrt(var + ε) · γ + β`. Statistics are summed in f64 per
//! channel over fixed blocks of rows, combined in block order, so results do not depend on the thread
//! count.

use burn::tensor::Tensor;
use burn::tensor::activation::{leaky_relu, relu};
use burn::tensor::module::{batch_norm, batch_norm_train};
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops};
use burn_flex::{Flex, FlexTensor};
use rayon::prelude::*;

use super::autodiff::{AdTensor, any_tracked, lift, record, tensor, values};
use super::kernels;
use super::layout::{dims4, nhwc_tensor, nhwc_values};
use super::{Routed, all_f32, count_fast_call, fast_kernels, restore, route, unroute};

/// The activation applied after batch norm (or alone, [`activation`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Identity,
    Relu,
    /// LeakyReLU with this negative slope (> 0).
    LeakyRelu(f32),
}

impl Activation {
    #[inline]
    pub(super) fn apply(self, z: f32) -> f32 {
        match self {
            Activation::Identity => z,
            Activation::Relu => z.max(0.0),
            Activation::LeakyRelu(a) => {
                if z > 0.0 {
                    z
                } else {
                    a * z
                }
            }
        }
    }

    /// The derivative, read from the output (its sign is the input's for these activations).
    #[inline]
    fn slope_at_output(self, y: f32) -> f32 {
        match self {
            Activation::Identity => 1.0,
            Activation::Relu => f32::from(y > 0.0),
            Activation::LeakyRelu(a) => {
                if y > 0.0 {
                    1.0
                } else {
                    a
                }
            }
        }
    }

    /// burn's own activation (the fallback path).
    pub(super) fn burn(self, x: Tensor<4>) -> Tensor<4> {
        match self {
            Activation::Identity => x,
            Activation::Relu => relu(x),
            Activation::LeakyRelu(a) => leaky_relu(x, a as f64),
        }
    }
}

/// `act(batch_norm_train(x))` and the batch statistics (mean and biased variance per channel,
/// outside the graph: they only feed the running statistics).
pub struct BatchNormOutput {
    pub output: Tensor<4>,
    pub mean: Tensor<1>,
    pub variance: Tensor<1>,
}

/// Batch norm with the statistics of this batch, then `act`.
pub fn batch_norm_act(
    x: Tensor<4>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    epsilon: f64,
    act: Activation,
) -> BatchNormOutput {
    let [_, c, _, _] = x.dims();
    let fits = fast_kernels() && gamma.dims() == [c] && beta.dims() == [c];
    let slow = |x, gamma, beta| {
        let out = batch_norm_train(x, gamma, beta, epsilon);
        BatchNormOutput {
            output: act.burn(out.output),
            mean: out.mean,
            variance: out.variance,
        }
    };
    if !fits {
        return slow(x, gamma, beta);
    }
    match (route(x), route(gamma), route(beta)) {
        (Ok(x), Ok(g), Ok(b)) if all_f32(&[&x, &g, &b]) => {
            count_fast_call();
            train(x, g, b, epsilon, act)
        }
        (x, g, b) => slow(restore(x), restore(g), restore(b)),
    }
}

/// Batch norm with given (running) statistics, then `act`: inference.
pub fn batch_norm_eval_act(
    x: Tensor<4>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    mean: Tensor<1>,
    variance: Tensor<1>,
    epsilon: f64,
    act: Activation,
) -> Tensor<4> {
    let [_, c, _, _] = x.dims();
    let fits = fast_kernels() && [&gamma, &beta, &mean, &variance].iter().all(|t| t.dims() == [c]);
    let slow = |x, g, b, m, v| act.burn(batch_norm(x, g, b, m, v, epsilon));
    if !fits {
        return slow(x, gamma, beta, mean, variance);
    }
    match (route(x), route(gamma), route(beta), route(mean), route(variance)) {
        // Only outside autodiff: scoring. Under autodiff burn's op records the gradients.
        (
            Ok(Routed::Plain(x)),
            Ok(Routed::Plain(g)),
            Ok(Routed::Plain(b)),
            Ok(Routed::Plain(m)),
            Ok(Routed::Plain(v)),
        ) if [&x, &g, &b, &m, &v]
            .iter()
            .all(|t| t.dtype() == burn::tensor::DType::F32) =>
        {
            count_fast_call();
            let (g, b, m, v) = (values(&g), values(&b), values(&m), values(&v));
            let scale: Vec<f32> = g
                .iter()
                .zip(v.iter())
                .map(|(g, v)| g / (v + epsilon as f32).sqrt())
                .collect();
            let shift: Vec<f32> = b
                .iter()
                .zip(m.iter())
                .zip(&scale)
                .map(|((b, m), s)| b - m * s)
                .collect();
            let dims = dims4(&x);
            let out = affine_act(&nhwc_values(&x), &scale, &shift, act);
            unroute(Routed::Plain(nhwc_tensor(out, dims)))
        }
        (x, g, b, m, v) => slow(restore(x), restore(g), restore(b), restore(m), restore(v)),
    }
}

/// `act(x)` alone.
pub fn activation(x: Tensor<4>, act: Activation) -> Tensor<4> {
    if !fast_kernels() {
        return act.burn(x);
    }
    match route(x) {
        Ok(x) if all_f32(&[&x]) => {
            count_fast_call();
            let dims = dims4(x.flex());
            let c = dims[1];
            let out = nhwc_tensor(
                affine_act(&nhwc_values(x.flex()), &vec![1.0; c], &vec![0.0; c], act),
                dims,
            );
            if !any_tracked(&[Some(&x)]) {
                return unroute(Routed::Plain(out));
            }
            let x = lift(x);
            let state = ActState {
                act,
                y: out.clone(),
                dims,
            };
            unroute(Routed::Tracked(record(ActBackward, [&x], state, out)))
        }
        x => act.burn(restore(x)),
    }
}

/// Rows (pixels) per block of the per-channel sums: fixed, so the summation order is too.
const STAT_ROWS: usize = 512;

/// `act(x · scale[c] + shift[c])` over NHWC rows of `c = scale.len()` channels.
fn affine_act(x: &[f32], scale: &[f32], shift: &[f32], act: Activation) -> Vec<f32> {
    // One copy of the loop per activation, so each compiles to vector code.
    fn with(x: &[f32], scale: &[f32], shift: &[f32], f: impl Fn(f32) -> f32 + Sync) -> Vec<f32> {
        let c = scale.len().max(1);
        let mut out = kernels::uninit(x.len());
        out.par_chunks_mut(c * STAT_ROWS)
            .zip(x.par_chunks(c * STAT_ROWS))
            .for_each(|(o, x)| {
                for (o, x) in o.chunks_mut(c).zip(x.chunks(c)) {
                    // Rows of at most `c` values: the zip covers each one whole.
                    for (((o, x), s), t) in o.iter_mut().zip(x).zip(scale).zip(shift) {
                        o.write(f(x * s + t));
                    }
                }
            });
        // SAFETY: `out` and `x` have one length; every value was written above.
        unsafe { kernels::init(out) }
    }
    match act {
        Activation::Identity => with(x, scale, shift, |z| Activation::Identity.apply(z)),
        Activation::Relu => with(x, scale, shift, |z| Activation::Relu.apply(z)),
        Activation::LeakyRelu(a) => with(x, scale, shift, move |z| Activation::LeakyRelu(a).apply(z)),
    }
}

/// `dy · act'(y)` elementwise, one copy of the loop per activation (see [`affine_act`]).
pub(super) fn act_grad(y: &[f32], dy: &[f32], act: Activation) -> Vec<f32> {
    fn with(y: &[f32], dy: &[f32], slope: impl Fn(f32) -> f32 + Sync) -> Vec<f32> {
        assert_eq!(y.len(), dy.len(), "activation gradient: output and gradient lengths");
        let mut dx = kernels::uninit(y.len());
        dx.par_chunks_mut(4096)
            .zip(y.par_chunks(4096).zip(dy.par_chunks(4096)))
            .for_each(|(o, (y, dy))| {
                o.iter_mut().zip(y.iter().zip(dy)).for_each(|(o, (y, dy))| {
                    o.write(dy * slope(*y));
                });
            });
        // SAFETY: `dx`, `y` and `dy` have one length; every value was written above.
        unsafe { kernels::init(dx) }
    }
    match act {
        Activation::Identity => with(y, dy, |y| Activation::Identity.slope_at_output(y)),
        Activation::Relu => with(y, dy, |y| Activation::Relu.slope_at_output(y)),
        Activation::LeakyRelu(a) => with(y, dy, move |y| Activation::LeakyRelu(a).slope_at_output(y)),
    }
}

/// Per channel, `Σ f(row values)` over NHWC rows in f64: blocks of [`STAT_ROWS`] rows in parallel,
/// combined in block order.
fn channel_sums(c: usize, rows: usize, f: impl Fn(usize, &mut [f64]) + Sync) -> Vec<f64> {
    let blocks: Vec<Vec<f64>> = (0..rows.div_ceil(STAT_ROWS))
        .into_par_iter()
        .map(|blk| {
            let mut acc = vec![0.0f64; c];
            for r in blk * STAT_ROWS..((blk + 1) * STAT_ROWS).min(rows) {
                f(r, &mut acc);
            }
            acc
        })
        .collect();
    let mut total = vec![0.0f64; c];
    for acc in blocks {
        total.iter_mut().zip(acc).for_each(|(t, a)| *t += a);
    }
    total
}

/// Per channel: (mean, 1/sqrt(var + ε), biased var) of NHWC rows, summed in f64.
fn channel_stats(x: &[f32], c: usize, epsilon: f64) -> Vec<(f32, f32, f32)> {
    let rows = x.len() / c.max(1);
    let n = rows as f64;
    let row = |r: usize| &x[r * c..][..c];
    let mean: Vec<f64> = channel_sums(c, rows, |r, acc| {
        acc.iter_mut().zip(row(r)).for_each(|(a, &v)| *a += v as f64);
    })
    .into_iter()
    .map(|s| s / n)
    .collect();
    let var = channel_sums(c, rows, |r, acc| {
        for ((a, &v), m) in acc.iter_mut().zip(row(r)).zip(&mean) {
            *a += (v as f64 - m).powi(2);
        }
    });
    mean.iter()
        .zip(var)
        .map(|(m, v)| {
            let v = v / n;
            (*m as f32, (1.0 / (v + epsilon).sqrt()) as f32, v as f32)
        })
        .collect()
}

fn train(x: Routed, g: Routed, b: Routed, epsilon: f64, act: Activation) -> BatchNormOutput {
    let dims = dims4(x.flex());
    let c = dims[1];
    let xv = nhwc_values(x.flex());
    let stats = channel_stats(&xv, c, epsilon);
    let (gv, bv) = (values(g.flex()).into_owned(), values(b.flex()).into_owned());
    let scale: Vec<f32> = (0..c).map(|i| gv[i] * stats[i].1).collect();
    let shift: Vec<f32> = (0..c).map(|i| bv[i] - stats[i].0 * scale[i]).collect();
    let out = nhwc_tensor(affine_act(&xv, &scale, &shift, act), dims);
    drop(xv);
    let mean = tensor(stats.iter().map(|s| s.0).collect(), &[c]);
    let variance = tensor(stats.iter().map(|s| s.2).collect(), &[c]);
    if !any_tracked(&[Some(&x), Some(&g), Some(&b)]) {
        return BatchNormOutput {
            output: unroute(Routed::Plain(out)),
            mean: unroute(Routed::Plain(mean)),
            variance: unroute(Routed::Plain(variance)),
        };
    }
    let (x, g, b) = (lift(x), lift(g), lift(b));
    let state = BnState {
        act,
        dims,
        x: x.primitive().clone(),
        y: out.clone(),
        gamma: gv,
        mean: stats.iter().map(|s| s.0).collect(),
        rstd: stats.iter().map(|s| s.1).collect(),
    };
    let output = record(BnBackward, [&x, &g, &b], state, out);
    BatchNormOutput {
        output: unroute(Routed::Tracked(output)),
        mean: unroute(Routed::Tracked(AdTensor::new(mean))),
        variance: unroute(Routed::Tracked(AdTensor::new(variance))),
    }
}

#[derive(Clone, Debug)]
struct BnState {
    act: Activation,
    dims: [usize; 4],
    x: FlexTensor,
    y: FlexTensor,
    gamma: Vec<f32>,
    mean: Vec<f32>,
    rstd: Vec<f32>,
}

#[derive(Debug)]
struct BnBackward;

impl Backward<Flex, 3> for BnBackward {
    type State = BnState;

    fn backward(self, ops: Ops<BnState, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<Flex>(&ops.node);
        let s = ops.state;
        let c = s.dims[1];
        let (x, y, dy) = (nhwc_values(&s.x), nhwc_values(&s.y), nhwc_values(&dy));
        let rows = x.len() / c.max(1);
        let n = rows as f64;
        // dz = dy · act'(y); per channel: Σ dz and Σ dz·x̂.
        let mut dz = act_grad(&y, &dy, s.act);
        drop((y, dy));
        let row = |r: usize| r * c..(r + 1) * c;
        let s1 = channel_sums(c, rows, |r, acc| {
            acc.iter_mut().zip(&dz[row(r)]).for_each(|(a, dz)| *a += *dz as f64);
        });
        let s2 = channel_sums(c, rows, |r, acc| {
            let p = row(r);
            for (ch, ((a, x), dz)) in acc.iter_mut().zip(&x[p.clone()]).zip(&dz[p]).enumerate() {
                *a += (dz * (x - s.mean[ch]) * s.rstd[ch]) as f64;
            }
        });
        let sums: Vec<(f64, f64)> = s1.into_iter().zip(s2).collect();
        let [node_x, node_g, node_b] = &ops.parents;
        if let Some(node) = node_x {
            let coef: Vec<(f32, f32, f32, f32)> = (0..c)
                .map(|ch| {
                    let (mean_dz, mean_dz_xhat) = ((sums[ch].0 / n) as f32, (sums[ch].1 / n) as f32);
                    (s.gamma[ch] * s.rstd[ch], mean_dz, mean_dz_xhat * s.rstd[ch], s.mean[ch])
                })
                .collect();
            // dx = γ·r·(dz − mean dz − x̂·mean(dz·x̂)), written over dz.
            dz.par_chunks_mut(c * STAT_ROWS).enumerate().for_each(|(blk, out)| {
                let base = blk * STAT_ROWS * c;
                for (r, o) in out.chunks_mut(c).enumerate() {
                    let x = &x[base + r * c..][..c];
                    for ((o, x), (k, mean_dz, slope, m)) in o.iter_mut().zip(x).zip(&coef) {
                        *o = k * (*o - mean_dz - (x - m) * slope);
                    }
                }
            });
            grads.register::<Flex>(node.id, nhwc_tensor(dz, s.dims));
        }
        if let Some(node) = node_g {
            grads.register::<Flex>(node.id, tensor(sums.iter().map(|v| v.1 as f32).collect(), &[c]));
        }
        if let Some(node) = node_b {
            grads.register::<Flex>(node.id, tensor(sums.iter().map(|v| v.0 as f32).collect(), &[c]));
        }
    }
}

#[derive(Clone, Debug)]
struct ActState {
    act: Activation,
    y: FlexTensor,
    dims: [usize; 4],
}

#[derive(Debug)]
struct ActBackward;

impl Backward<Flex, 1> for ActBackward {
    type State = ActState;

    fn backward(self, ops: Ops<ActState, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<Flex>(&ops.node);
        let [Some(node)] = &ops.parents else { return };
        let s = ops.state;
        let (y, dy) = (nhwc_values(&s.y), nhwc_values(&dy));
        let dx = act_grad(&y, &dy, s.act);
        grads.register::<Flex>(node.id, nhwc_tensor(dx, s.dims));
    }
}
