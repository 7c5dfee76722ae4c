//! 2-D convolutions for the image models, faster on the `flex` CPU backend.
//!
//! [`conv2d`] and [`conv_transpose2d`] take burn's own layers (`burn::nn::conv::{Conv2d,
//! ConvTranspose2d}`, so weights and model files are unchanged) and compute the same function. On a
//! `flex` tensor — with or without autodiff — they run [`flex`]'s batched-GEMM kernels, registering
//! their own backward step with burn's autodiff graph; on any other backend (the GPU features) they
//! call burn's implementation. Why: ../shared/notes/speed-profile-2026-12-02.md and docs/bench/speed.md.

mod autodiff;
mod flex;
mod kernels;
#[cfg(test)]
mod tests;

use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::tensor::Tensor;
use burn_dispatch::{BackendTensor, DispatchAutodiffContext, DispatchTensor, DispatchTensorKind};
use burn_flex::FlexTensor;
use burn_std::ops::{ConvOptions, ConvTransposeOptions};

pub use flex::Op;

thread_local! {
    static FAST: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// Turns the fast kernels off (burn's own convolutions) or back on for calls made from this thread,
/// for side-by-side measurements (`oddity bench speed --burn-conv`) and tests. On by default.
pub fn set_fast_kernels(on: bool) {
    FAST.with(|f| f.set(on));
}

#[cfg(test)]
thread_local! {
    /// Calls that took the fast path on this thread (tests check the path they compare is taken).
    static FAST_CALLS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// `layer.forward(x)`, through the fast kernels where they apply.
pub fn conv2d(layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    // burn computes `Same` padding privately; those layers (none in oddity's models) stay on burn.
    let [top, left, bottom, right] = match layer.padding {
        PaddingConfig2d::Valid => [0; 4],
        PaddingConfig2d::Explicit(t, l, b, r) => [t, l, b, r],
        PaddingConfig2d::Same => return layer.forward(x),
    };
    let options = ConvOptions::new_with_padding(
        layer.stride,
        [(top, bottom), (left, right)],
        layer.dilation,
        layer.groups,
    );
    let bias = layer.bias.as_ref().map(|b| b.val());
    match run(Op::Conv(options.clone()), x, layer.weight.val(), bias) {
        Ok(y) => y,
        Err((x, w, b)) => burn::tensor::module::conv2d(x, w, b, options),
    }
}

/// `layer.forward(x)` of a transposed convolution, through the fast kernels where they apply.
pub fn conv_transpose2d(layer: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    let options = ConvTransposeOptions::new(
        layer.stride,
        layer.padding,
        layer.padding_out,
        layer.dilation,
        layer.groups,
    );
    let bias = layer.bias.as_ref().map(|b| b.val());
    match run(Op::Transposed(options.clone()), x, layer.weight.val(), bias) {
        Ok(y) => y,
        Err((x, w, b)) => burn::tensor::module::conv_transpose2d(x, w, b, options),
    }
}

type Unrouted = (Tensor<4>, Tensor<4>, Option<Tensor<1>>);

/// A tensor as the fast path sees it.
enum Routed {
    /// A `flex` tensor outside autodiff.
    Plain(FlexTensor),
    /// A `flex` tensor inside an autodiff graph without gradient checkpointing.
    Tracked(autodiff::AdTensor),
}

/// Takes a tensor apart for the fast path, or gives it back as it was.
fn route<const D: usize>(t: Tensor<D>) -> Result<Routed, Tensor<D>> {
    use burn::tensor::GradientCheckpointingStrategy as S;
    let d = t.into_dispatch();
    let back = |kind, autodiff| Err(Tensor::from_dispatch(DispatchTensor { kind, autodiff }));
    match (d.kind, d.autodiff) {
        (DispatchTensorKind::Flex(BackendTensor::Float(f)), DispatchAutodiffContext::Disabled) => Ok(Routed::Plain(f)),
        (DispatchTensorKind::Autodiff(inner), ctx @ DispatchAutodiffContext::Enabled(S::Disabled)) => match *inner {
            DispatchTensorKind::Flex(BackendTensor::Autodiff(a)) => Ok(Routed::Tracked(a)),
            kind => back(DispatchTensorKind::Autodiff(Box::new(kind)), ctx),
        },
        (kind, autodiff) => back(kind, autodiff),
    }
}

/// The inverse of [`route`].
fn unroute<const D: usize>(r: Routed) -> Tensor<D> {
    let d = match r {
        Routed::Plain(f) => DispatchTensor {
            kind: DispatchTensorKind::Flex(BackendTensor::Float(f)),
            autodiff: DispatchAutodiffContext::Disabled,
        },
        Routed::Tracked(a) => DispatchTensor {
            kind: DispatchTensorKind::Autodiff(Box::new(DispatchTensorKind::Flex(BackendTensor::Autodiff(a)))),
            autodiff: DispatchAutodiffContext::Enabled(burn::tensor::GradientCheckpointingStrategy::Disabled),
        },
    };
    Tensor::from_dispatch(d)
}

fn restore<const D: usize>(r: Result<Routed, Tensor<D>>) -> Tensor<D> {
    r.map_or_else(|t| t, unroute)
}

impl Routed {
    fn flex(&self) -> &FlexTensor {
        match self {
            Routed::Plain(f) => f,
            Routed::Tracked(a) => a.primitive(),
        }
    }
}

/// Runs `op` on the fast path, or gives the inputs back untouched when it does not apply.
fn run(op: Op, x: Tensor<4>, w: Tensor<4>, b: Option<Tensor<1>>) -> Result<Tensor<4>, Unrouted> {
    if !FAST.with(std::cell::Cell::get) {
        return Err((x, w, b));
    }
    let Some(plan) = flex::Plan::new(&op, &x.dims(), &w.dims()) else {
        return Err((x, w, b));
    };
    if b.as_ref().is_some_and(|b| b.dims()[0] != plan.c_out) {
        return Err((x, w, b));
    }
    let f32_only = |x: &Routed, w: &Routed, b: Option<&Routed>| {
        flex::all_f32(
            &[Some(x), Some(w), b]
                .into_iter()
                .flatten()
                .map(Routed::flex)
                .collect::<Vec<_>>(),
        )
    };
    let fast = |x, w, b| {
        #[cfg(test)]
        FAST_CALLS.with(|c| c.set(c.get() + 1));
        Ok(unroute(autodiff::apply(plan, x, w, b)))
    };
    match (route(x), route(w), b.map(route)) {
        (Ok(x), Ok(w), None) if f32_only(&x, &w, None) => fast(x, w, None),
        (Ok(x), Ok(w), Some(Ok(b))) if f32_only(&x, &w, Some(&b)) => fast(x, w, Some(b)),
        (x, w, b) => Err((restore(x), restore(w), b.map(restore))),
    }
}
