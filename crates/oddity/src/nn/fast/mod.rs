//! The image models' layers on fast `flex` CPU kernels: 2-D convolutions as GEMMs over chunks of the
//! batch ([`conv2d`], [`conv_transpose2d`]) and batch norm fused with its activation
//! ([`batch_norm_act`]), forward and backward; Adam as one pass per parameter ([`adam`]).
//!
//! Each function takes burn's own layers and tensors (weights and model files are unchanged) and
//! computes the same function as burn's composition. On a `flex` tensor — with or without autodiff —
//! it runs the kernels here and registers its own backward step with burn's autodiff graph
//! (`burn_autodiff::ops::Backward`); on any other backend (the GPU features) it calls burn. Outputs
//! are NHWC views with NCHW shape ([`layout`]), so consecutive fast layers pass data without layout
//! copies. Why: burn-flex runs these layers as many small per-image GEMMs and elementwise passes
//! (../shared/notes/speed-profile-2026-12-02.md, docs/bench/speed.md).

mod adam;
mod autodiff;
pub mod bf16;
mod conv;
mod kernels;
mod layout;
mod norm;
mod precision;
#[cfg(test)]
mod tests;

use burn::tensor::Tensor;
use burn_dispatch::{BackendTensor, DispatchAutodiffContext, DispatchTensor, DispatchTensorKind};
use burn_flex::FlexTensor;

pub use adam::adam;
pub use conv::{conv_transpose2d, conv_transpose2d_act, conv2d, conv2d_act};
pub use kernels::shape_log as gemm_shapes;
pub use norm::{Activation, BatchNormOutput, activation, batch_norm_act, batch_norm_eval_act};
pub use precision::{Precision, PrecisionScope};

thread_local! {
    static FAST: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// Turns the fast kernels off (burn's own operations) or back on for calls made from this thread,
/// for side-by-side measurements (`oddity bench speed --burn-ops`) and tests. On by default.
pub fn set_fast_kernels(on: bool) {
    FAST.with(|f| f.set(on));
}

fn fast_kernels() -> bool {
    FAST.with(std::cell::Cell::get)
}

#[cfg(test)]
thread_local! {
    /// Calls that took the fast path on this thread (tests check the path they compare is taken).
    static FAST_CALLS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Calls that took the fast path on this thread so far.
#[cfg(test)]
pub(crate) fn fast_calls() -> usize {
    FAST_CALLS.with(std::cell::Cell::get)
}

fn count_fast_call() {
    #[cfg(test)]
    FAST_CALLS.with(|c| c.set(c.get() + 1));
}

/// A tensor as the fast path sees it.
pub(crate) enum Routed {
    /// A `flex` tensor outside autodiff.
    Plain(FlexTensor),
    /// A `flex` tensor inside an autodiff graph without gradient checkpointing.
    Tracked(autodiff::AdTensor),
}

/// Takes a tensor apart for the fast path, or gives it back as it was.
pub(crate) fn route<const D: usize>(t: Tensor<D>) -> Result<Routed, Tensor<D>> {
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
pub(crate) fn unroute<const D: usize>(r: Routed) -> Tensor<D> {
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

pub(crate) fn restore<const D: usize>(r: Result<Routed, Tensor<D>>) -> Tensor<D> {
    r.map_or_else(|t| t, unroute)
}

impl Routed {
    pub(crate) fn flex(&self) -> &FlexTensor {
        match self {
            Routed::Plain(f) => f,
            Routed::Tracked(a) => a.primitive(),
        }
    }
}

/// True when every tensor is an f32 `flex` tensor (the only kind the kernels handle).
fn all_f32(ts: &[&Routed]) -> bool {
    ts.iter().all(|t| t.flex().dtype() == burn::tensor::DType::F32)
}
