//! 2-D convolutions and transposed convolutions (f32, groups = 1) as one batched GEMM per product
//! (see [`super::kernels`]), forward and backward.

use std::borrow::Cow;
use std::mem::MaybeUninit;

use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::tensor::Tensor;
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops};
use burn_flex::{Flex, FlexTensor};
use burn_std::ops::{ConvOptions, ConvTransposeOptions};

use rayon::prelude::*;

use super::autodiff::{AdTensor, any_tracked, lift, record, tensor, values};
use super::kernels::{self, Geometry, Mat};
use super::layout::{dims4, nhwc_tensor, nhwc_values};
use super::norm::Activation;
use super::{Routed, all_f32, count_fast_call, fast_kernels, restore, route, unroute};

/// `layer.forward(x)`, through the fast kernels where they apply.
pub fn conv2d(layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    conv2d_act(layer, x, Activation::Identity)
}

/// `act(layer.forward(x))`: on the fast path the bias and the activation are applied to each chunk
/// of the output as its product finishes (in cache), and the backward step starts from the
/// activation's gradient — no pass of their own over the layer's output.
pub fn conv2d_act(layer: &Conv2d, x: Tensor<4>, act: Activation) -> Tensor<4> {
    // burn computes `Same` padding privately; those layers (none in oddity's models) stay on burn.
    let [top, left, bottom, right] = match layer.padding {
        PaddingConfig2d::Valid => [0; 4],
        PaddingConfig2d::Explicit(t, l, b, r) => [t, l, b, r],
        PaddingConfig2d::Same => return act.burn(layer.forward(x)),
    };
    let options = ConvOptions::new_with_padding(
        layer.stride,
        [(top, bottom), (left, right)],
        layer.dilation,
        layer.groups,
    );
    let bias = layer.bias.as_ref().map(|b| b.val());
    match run(Op::Conv(options.clone()), x, layer.weight.val(), bias, act) {
        Ok(y) => y,
        Err((x, w, b)) => act.burn(burn::tensor::module::conv2d(x, w, b, options)),
    }
}

/// `layer.forward(x)` of a transposed convolution, through the fast kernels where they apply.
pub fn conv_transpose2d(layer: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    conv_transpose2d_act(layer, x, Activation::Identity)
}

/// `act(layer.forward(x))` of a transposed convolution (see [`conv2d_act`]).
pub fn conv_transpose2d_act(layer: &ConvTranspose2d, x: Tensor<4>, act: Activation) -> Tensor<4> {
    let options = ConvTransposeOptions::new(
        layer.stride,
        layer.padding,
        layer.padding_out,
        layer.dilation,
        layer.groups,
    );
    let bias = layer.bias.as_ref().map(|b| b.val());
    match run(Op::Transposed(options.clone()), x, layer.weight.val(), bias, act) {
        Ok(y) => y,
        Err((x, w, b)) => act.burn(burn::tensor::module::conv_transpose2d(x, w, b, options)),
    }
}

type Unrouted = (Tensor<4>, Tensor<4>, Option<Tensor<1>>);

/// Runs `op` on the fast path, or gives the inputs back untouched when it does not apply.
fn run(op: Op, x: Tensor<4>, w: Tensor<4>, b: Option<Tensor<1>>, act: Activation) -> Result<Tensor<4>, Unrouted> {
    if !fast_kernels() {
        return Err((x, w, b));
    }
    let Some(mut plan) = Plan::new(&op, &x.dims(), &w.dims()) else {
        return Err((x, w, b));
    };
    plan.bf16 = super::precision::bf16_products();
    plan.act = act;
    if b.as_ref().is_some_and(|b| b.dims()[0] != plan.c_out) {
        return Err((x, w, b));
    }
    let f32_only = |x: &Routed, w: &Routed, b: Option<&Routed>| {
        all_f32(&[Some(x), Some(w), b].into_iter().flatten().collect::<Vec<_>>())
    };
    let fast = |x, w, b| {
        count_fast_call();
        Ok(unroute(apply(plan, x, w, b)))
    };
    match (route(x), route(w), b.map(route)) {
        (Ok(x), Ok(w), None) if f32_only(&x, &w, None) => fast(x, w, None),
        (Ok(x), Ok(w), Some(Ok(b))) if f32_only(&x, &w, Some(&b)) => fast(x, w, Some(b)),
        (x, w, b) => Err((restore(x), restore(w), b.map(restore))),
    }
}

/// What a layer computes; the weight layout follows burn's (`[out, in, kh, kw]` for a convolution,
/// `[in, out, kh, kw]` for a transposed one).
#[derive(Clone, Debug)]
pub enum Op {
    Conv(ConvOptions<2>),
    Transposed(ConvTransposeOptions<2>),
}

/// Sizes of one call, checked against each other.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub geometry: Geometry,
    /// Channels of the layer's input (`x`).
    pub c_in: usize,
    /// Channels of the layer's output.
    pub c_out: usize,
    pub transposed: bool,
    /// Products in bf16 (a [`super::Precision::Bf16`] scope was open when the forward ran).
    pub bf16: bool,
    /// Applied to the output (after the bias).
    pub act: Activation,
}

impl Plan {
    /// `None` where the fast path does not apply (grouped convolutions, inconsistent shapes): the
    /// caller then uses burn's own operation, which reports shape errors its usual way.
    pub fn new(op: &Op, x: &[usize], w: &[usize]) -> Option<Self> {
        let [b, c_in, h, wd] = <[usize; 4]>::try_from(x).ok()?;
        let [w0, w1, kh, kw] = <[usize; 4]>::try_from(w).ok()?;
        match op {
            Op::Conv(o) => {
                if o.groups != 1 || w1 != c_in {
                    return None;
                }
                let [pt, pl] = o.padding_begin();
                let [pb, pr] = o.padding_end();
                let out = |size: usize, pad: usize, k: usize, s: usize, d: usize| -> Option<usize> {
                    let span = d.checked_mul(k.checked_sub(1)?)? + 1;
                    Some((size + pad).checked_sub(span)? / s + 1)
                };
                let (s, d) = (o.stride, o.dilation);
                let out_h = out(h, pt + pb, kh, s[0], d[0])?;
                let out_w = out(wd, pl + pr, kw, s[1], d[1])?;
                Some(Self {
                    geometry: Geometry {
                        batch: b,
                        channels: c_in,
                        in_h: h,
                        in_w: wd,
                        k_h: kh,
                        k_w: kw,
                        out_h,
                        out_w,
                        stride: s,
                        pad: [pt, pl],
                        dilation: d,
                    },
                    c_in,
                    c_out: w0,
                    transposed: false,
                    bf16: false,
                    act: Activation::Identity,
                })
            }
            Op::Transposed(o) => {
                if o.groups != 1 || w0 != c_in {
                    return None;
                }
                let (s, d, p, po) = (o.stride, o.dilation, o.padding, o.padding_out);
                let size = |i: usize, k: usize, a: usize| -> Option<usize> {
                    ((i.checked_sub(1)?) * s[a] + d[a] * (k.checked_sub(1)?) + po[a] + 1).checked_sub(2 * p[a])
                };
                let (y_h, y_w) = (size(h, kh, 0)?, size(wd, kw, 1)?);
                // The transposed layer is the adjoint of a convolution from y (c_out channels) to x.
                Some(Self {
                    geometry: Geometry {
                        batch: b,
                        channels: w1,
                        in_h: y_h,
                        in_w: y_w,
                        k_h: kh,
                        k_w: kw,
                        out_h: h,
                        out_w: wd,
                        stride: s,
                        pad: p,
                        dilation: d,
                    },
                    c_in,
                    c_out: w1,
                    transposed: true,
                    bf16: false,
                    act: Activation::Identity,
                })
            }
        }
    }

    fn kk(&self) -> usize {
        self.geometry.k_h * self.geometry.k_w
    }

    /// Output shape `[B, c_out, H, W]`.
    pub fn out_shape(&self) -> [usize; 4] {
        let g = &self.geometry;
        if self.transposed {
            [g.batch, self.c_out, g.in_h, g.in_w]
        } else {
            [g.batch, self.c_out, g.out_h, g.out_w]
        }
    }
}

/// A product in the plan's precision.
#[allow(clippy::too_many_arguments)]
fn matmul(bf16: bool, dst: &mut [f32], a: Mat, b: Mat, m: usize, k: usize, n: usize, accumulate: bool, threads: usize) {
    if bf16 {
        super::bf16::matmul_into(dst, a, b, m, k, n, accumulate, threads);
    } else {
        kernels::matmul_into(dst, a, b, m, k, n, accumulate, threads);
    }
}

/// [`matmul`] without `accumulate`, into values not yet initialised (its first `m·n` are written).
#[allow(clippy::too_many_arguments)]
fn matmul_fresh(
    bf16: bool,
    dst: &mut [MaybeUninit<f32>],
    a: Mat,
    b: Mat,
    m: usize,
    k: usize,
    n: usize,
    threads: usize,
) {
    if bf16 {
        let dst = kernels::zero_init(&mut dst[..m * n]);
        super::bf16::matmul_into(dst, a, b, m, k, n, false, threads);
    } else {
        kernels::matmul_uninit(dst, a, b, m, k, n, threads);
    }
}

/// The layer's output, as an NHWC view ([`super::layout`]).
pub fn forward(plan: &Plan, x: &FlexTensor, w: &FlexTensor, bias: Option<&FlexTensor>) -> FlexTensor {
    let g = &plan.geometry;
    let x_rows = nhwc_values(x);
    let w = values(w);
    let [_, c_out, out_h, out_w] = plan.out_shape();
    let out_per_image = c_out * out_h * out_w;
    let mut out = kernels::uninit(g.batch * out_per_image);
    let per_chunk = g.images_per_chunk();
    // A convolution's weight goes to the product as B = Wᵀ stored row-major ([kk·c_in × c_out]).
    let wm = if plan.transposed {
        kernels::weight_to_matrix(&w, plan.c_in, plan.c_out, plan.kk())
    } else {
        kernels::weight_to_matrix_t(&w, plan.c_out, plan.c_in, plan.kk())
    };
    let bias = bias.map(values);
    // The output of the chunk of images starting at `first`, then its bias and activation.
    let chunk = |first: usize, out: &mut [MaybeUninit<f32>], threads: usize| {
        let sub = g.with_batch(out.len() / out_per_image);
        let mut scratch = Scratch::take(sub.rows() * g.cols());
        let cols = scratch.as_mut();
        if plan.transposed {
            // cols[rows, kk·c_out] = x · W, scattered (col2im) into y.
            let x = &x_rows[first * g.rows_per_image() * plan.c_in..];
            matmul(
                plan.bf16,
                cols,
                Mat::rows(x, plan.c_in),
                Mat::rows(&wm, g.cols()),
                sub.rows(),
                plan.c_in,
                g.cols(),
                false,
                threads,
            );
            kernels::col2im_into(cols, &sub, out);
        } else {
            // y[rows, c_out] = im2col(x) · Wᵀ.
            kernels::im2col_into(&x_rows[first * g.in_image_len()..], &sub, cols);
            matmul_fresh(
                plan.bf16,
                out,
                Mat::rows(cols, g.cols()),
                Mat::rows(&wm, plan.c_out),
                sub.rows(),
                g.cols(),
                plan.c_out,
                threads,
            );
        }
        // SAFETY: the product or col2im above wrote every value of the chunk.
        let out = unsafe { kernels::assume_init_mut(out) };
        epilogue(out, c_out, bias.as_deref(), plan.act, threads);
    };
    let threads = rayon::current_num_threads();
    if g.batch > per_chunk && threads > 1 {
        // Several chunks: side by side, one thread each (better use of the cores than splitting each
        // product), in a multiple of `threads` pieces of near-equal size — 256 images in chunks of at most
        // 202 went as 202 + 54, one core idle most of the layer. Every output value is computed the same
        // way whatever the pieces (the products' blocking depends on k alone).
        let pieces = g.batch.div_ceil(per_chunk).next_multiple_of(threads).min(g.batch);
        let mut parts = Vec::with_capacity(pieces);
        let mut rest = &mut out[..];
        for i in 0..pieces {
            let (first, end) = (i * g.batch / pieces, (i + 1) * g.batch / pieces);
            let (part, tail) = rest.split_at_mut((end - first) * out_per_image);
            parts.push((first, part));
            rest = tail;
        }
        parts.into_par_iter().for_each(|(first, o)| chunk(first, o, 1));
    } else {
        for (i, o) in out.chunks_mut(per_chunk * out_per_image).enumerate() {
            chunk(i * per_chunk, o, threads);
        }
    }
    // SAFETY: the chunks cover the batch, and each wrote its whole part (product or col2im).
    nhwc_tensor(unsafe { kernels::init(out) }, plan.out_shape())
}

/// `y = act(y + bias)` over rows of `c` channels; the rows in parallel when `threads > 1`.
fn epilogue(y: &mut [f32], c: usize, bias: Option<&[f32]>, act: Activation, threads: usize) {
    // One copy of the loop per activation, so each compiles to vector code.
    fn run(y: &mut [f32], c: usize, bias: Option<&[f32]>, parallel: bool, f: impl Fn(f32) -> f32 + Sync) {
        let rows = |y: &mut [f32]| match bias {
            Some(b) => y
                .chunks_mut(c)
                .for_each(|row| row.iter_mut().zip(b).for_each(|(v, b)| *v = f(*v + b))),
            None => y.iter_mut().for_each(|v| *v = f(*v)),
        };
        if parallel {
            y.par_chunks_mut(c * 1024).for_each(rows);
        } else {
            rows(y);
        }
    }
    if y.is_empty() || c == 0 {
        return;
    }
    let parallel = threads > 1 && y.len() >= 1 << 16;
    match (act, bias) {
        (Activation::Identity, None) => {}
        (Activation::Identity, _) => run(y, c, bias, parallel, |z| z),
        (Activation::Relu, _) => run(y, c, bias, parallel, |z| Activation::Relu.apply(z)),
        (Activation::LeakyRelu(a), _) => run(y, c, bias, parallel, move |z| Activation::LeakyRelu(a).apply(z)),
    }
}

thread_local! {
    /// The im2col buffer, kept between calls on this thread (a few MiB; see `images_per_chunk`).
    static SCRATCH: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
}

/// This thread's im2col buffer while a layer runs (its values are stale: every user overwrites
/// what it reads); handed back on drop. A nested call simply gets a fresh one.
struct Scratch {
    buf: Vec<f32>,
    len: usize,
}

impl Scratch {
    fn take(len: usize) -> Self {
        let mut buf = SCRATCH.take();
        if buf.len() < len {
            buf = kernels::zeroed(len);
        }
        Self { buf, len }
    }

    fn as_mut(&mut self) -> &mut [f32] {
        &mut self.buf[..self.len]
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        SCRATCH.set(std::mem::take(&mut self.buf));
    }
}

/// `(first image, images)` of each chunk of a batch.
fn chunks(batch: usize, per_chunk: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..batch)
        .step_by(per_chunk.max(1))
        .map(move |first| (first, per_chunk.min(batch - first)))
}

/// Gradients of the layer's input, weight and bias (each computed only when asked for); the input's
/// as an NHWC view.
pub struct Grads {
    pub x: Option<FlexTensor>,
    pub w: Option<FlexTensor>,
    pub bias: Option<FlexTensor>,
}

/// `y` is the layer's output, needed when it has an activation (`plan.act`): `dy` is the gradient
/// of the activated output.
pub fn backward(
    plan: &Plan,
    x: &FlexTensor,
    w: &FlexTensor,
    y: Option<&FlexTensor>,
    dy: &FlexTensor,
    need: [bool; 3],
) -> Grads {
    let g = &plan.geometry;
    let (x_shape, w_shape) = (dims4(x), dims4(w));
    let wv = values(w);
    let dy_rows = match (plan.act, y) {
        (Activation::Identity, _) | (_, None) => nhwc_values(dy),
        (act, Some(y)) => Cow::Owned(super::norm::act_grad(&nhwc_values(y), &nhwc_values(dy), act)),
    };
    let bias = need[2].then(|| {
        let mut sums = vec![0.0f32; plan.c_out];
        for row in dy_rows.chunks(plan.c_out) {
            sums.iter_mut().zip(row).for_each(|(s, v)| *s += v);
        }
        tensor(sums, &[plan.c_out])
    });
    let x_rows = need[1].then(|| nhwc_values(x));
    let per_chunk = g.images_per_chunk();
    let cols_len = per_chunk * g.rows_per_image() * g.cols();
    let rows_in = |first: usize| first * g.rows_per_image();
    let mut dx = need[0].then(|| kernels::uninit(x_shape.iter().product()));
    let mut dwm = need[1].then(|| vec![0.0f32; g.cols() * if plan.transposed { plan.c_in } else { plan.c_out }]);
    // The input and weight gradients are two products of equal cost: they run side by side, each
    // on half of the threads (better use of 2 cores than splitting each small product in two). One
    // asked for alone (a first layer's weights; a frozen network's input) gets all of them.
    let threads = rayon::current_num_threads();
    let per_product = if need[0] && need[1] {
        (threads / 2).max(1)
    } else {
        threads
    };
    if plan.transposed {
        // forward: cols = x_rows · Wm, y = col2im(cols)  ⇒  dcols = im2col(dy),
        // dx_rows = dcols · Wmᵀ, dWm = x_rowsᵀ · dcols.
        // dx's B = Wmᵀ, stored row-major ([kk·c_out × c_in]) as in `forward`.
        let wmt = need[0].then(|| kernels::weight_to_matrix_t(&wv, plan.c_in, plan.c_out, plan.kk()));
        let mut scratch = Scratch::take(cols_len);
        let cols = scratch.as_mut();
        for (i, (first, n)) in chunks(g.batch, per_chunk).enumerate() {
            let sub = g.with_batch(n);
            kernels::im2col_into(&dy_rows[first * g.in_image_len()..], &sub, cols);
            let cols = &*cols;
            rayon::join(
                || {
                    if let (Some(dx), Some(wmt)) = (dx.as_mut(), wmt.as_ref()) {
                        matmul_fresh(
                            plan.bf16,
                            &mut dx[rows_in(first) * plan.c_in..],
                            Mat::rows(cols, g.cols()),
                            Mat::rows(wmt, plan.c_in),
                            sub.rows(),
                            g.cols(),
                            plan.c_in,
                            per_product,
                        );
                    }
                },
                || {
                    if let (Some(dwm), Some(x_rows)) = (dwm.as_mut(), x_rows.as_ref()) {
                        matmul(
                            plan.bf16,
                            dwm,
                            Mat::t(&x_rows[rows_in(first) * plan.c_in..], plan.c_in),
                            Mat::rows(cols, g.cols()),
                            plan.c_in,
                            sub.rows(),
                            g.cols(),
                            i > 0,
                            per_product,
                        );
                    }
                },
            );
        }
    } else {
        // forward: y_rows = cols · Wmᵀ  ⇒  dcols = dy_rows · Wm (then col2im), dWm = dy_rowsᵀ · cols.
        // The two gradients share no buffer: each runs through all chunks on its own side of one join
        // (a join per chunk left a core waiting whenever one side's chunk ran longer).
        let wm = kernels::weight_to_matrix(&wv, plan.c_out, plan.c_in, plan.kk());
        let dy_chunk = |first: usize| &dy_rows[rows_in(first) * plan.c_out..];
        // dWm over the `count` images from `start`, written into `out`.
        let weight_grad = |start: usize, count: usize, out: &mut [f32], threads: usize| {
            let Some(x_rows) = x_rows.as_ref() else { return };
            let mut scratch = Scratch::take(cols_len);
            let cols = scratch.as_mut();
            for (i, (first, n)) in chunks(count, per_chunk).enumerate() {
                let (first, sub) = (start + first, g.with_batch(n));
                kernels::im2col_into(&x_rows[first * g.in_image_len()..], &sub, cols);
                matmul(
                    plan.bf16,
                    out,
                    Mat::t(dy_chunk(first), plan.c_out),
                    Mat::rows(cols, g.cols()),
                    plan.c_out,
                    sub.rows(),
                    g.cols(),
                    i > 0,
                    threads,
                );
            }
        };
        match (dx.as_mut(), dwm.as_mut()) {
            // The weight gradient alone (a first layer): the two halves of the batch side by side, each
            // into its own sum, added in order — whatever the thread count, so results do not depend on
            // it. One product split over two threads left a core idle most of the time (m = c_out,
            // n = kh·kw on a one-channel input: too few blocks to share).
            (None, Some(dwm)) if g.batch >= 2 => {
                let half = g.batch / 2;
                let mut second = vec![0.0f32; dwm.len()];
                rayon::join(
                    || weight_grad(0, half, dwm, 1),
                    || weight_grad(half, g.batch - half, &mut second, 1),
                );
                dwm.iter_mut().zip(&second).for_each(|(a, b)| *a += b);
            }
            (dx, dwm) => {
                rayon::join(
                    || {
                        let Some(dx) = dx else { return };
                        let mut scratch = Scratch::take(cols_len);
                        let dcols = scratch.as_mut();
                        for (first, n) in chunks(g.batch, per_chunk) {
                            let sub = g.with_batch(n);
                            matmul(
                                plan.bf16,
                                dcols,
                                Mat::rows(dy_chunk(first), plan.c_out),
                                Mat::rows(&wm, g.cols()),
                                sub.rows(),
                                plan.c_out,
                                g.cols(),
                                false,
                                per_product,
                            );
                            kernels::col2im_into(dcols, &sub, &mut dx[first * g.in_image_len()..]);
                        }
                    },
                    || {
                        if let Some(dwm) = dwm {
                            weight_grad(0, g.batch, dwm, per_product);
                        }
                    },
                );
            }
        }
    }
    let (a, c) = if plan.transposed {
        (plan.c_in, plan.c_out)
    } else {
        (plan.c_out, plan.c_in)
    };
    Grads {
        // SAFETY: the chunks cover the batch, and each wrote its images' part (product or col2im).
        x: dx.map(|d| nhwc_tensor(unsafe { kernels::init(d) }, x_shape)),
        w: dwm.map(|m| tensor(kernels::matrix_to_weight(&m, a, c, plan.kk()), &w_shape)),
        bias,
    }
}

/// What the backward step keeps: the sizes, the layer's input and weight, and its output when it
/// has an activation.
#[derive(Clone, Debug)]
struct State {
    plan: Plan,
    x: FlexTensor,
    w: FlexTensor,
    y: Option<FlexTensor>,
}

/// Backward step of a convolution without bias (`N = 2`: x, w) or with one (`N = 3`: x, w, bias).
#[derive(Debug)]
struct ConvBackward<const N: usize>;

impl<const N: usize> Backward<Flex, N> for ConvBackward<N> {
    type State = State;

    fn backward(self, ops: Ops<State, N>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<Flex>(&ops.node);
        let need = [0, 1, 2].map(|i| ops.parents.get(i).is_some_and(Option::is_some));
        let State { plan, x, w, y } = ops.state;
        let g = backward(&plan, &x, &w, y.as_ref(), &dy, need);
        for (parent, grad) in ops.parents.iter().zip([g.x, g.w, g.bias]) {
            if let (Some(node), Some(grad)) = (parent, grad) {
                grads.register::<Flex>(node.id, grad);
            }
        }
    }
}

/// The layer's output; tracked when any input is.
fn apply(plan: Plan, x: Routed, w: Routed, b: Option<Routed>) -> Routed {
    if !any_tracked(&[Some(&x), Some(&w), b.as_ref()]) {
        return Routed::Plain(forward(&plan, x.flex(), w.flex(), b.as_ref().map(Routed::flex)));
    }
    let (x, w, b): (AdTensor, AdTensor, Option<AdTensor>) = (lift(x), lift(w), b.map(lift));
    let out = forward(&plan, x.primitive(), w.primitive(), b.as_ref().map(|b| b.primitive()));
    let state = State {
        plan,
        x: x.primitive().clone(),
        w: w.primitive().clone(),
        y: (plan.act != Activation::Identity).then(|| out.clone()),
    };
    Routed::Tracked(match &b {
        None => record(ConvBackward::<2>, [&x, &w], state, out),
        Some(b) => record(ConvBackward::<3>, [&x, &w, b], state, out),
    })
}
