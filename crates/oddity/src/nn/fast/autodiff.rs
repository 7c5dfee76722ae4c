//! What the fast operations share: `flex` tensors in and out, and recording an operation as a node of
//! burn's autodiff graph (`burn_autodiff::ops::Backward`, the extension point burn's own operations use).

use std::borrow::Cow;

use burn::tensor::DType;
use burn_autodiff::Autodiff;
use burn_autodiff::checkpoint::strategy::NoCheckpointing;
use burn_autodiff::ops::{Backward, OpsKind};
use burn_backend::tensor::FloatTensor;
use burn_flex::{Flex, FlexTensor, Layout};
use burn_std::{Bytes, Shape};

use super::Routed;

/// A `flex` tensor inside an autodiff graph.
pub type AdTensor = FloatTensor<Autodiff<Flex>>;

/// The f32 values of a tensor in row-major order (copied only when not contiguous).
pub fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(t.to_contiguous().storage::<f32>().to_vec()),
    }
}

/// A contiguous f32 tensor.
pub fn tensor(data: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::new(
        Bytes::from_elems(data),
        Layout::contiguous(Shape::from(shape.to_vec())),
        DType::F32,
    )
}

/// True when any input is part of an autodiff graph (then the output must be too).
pub fn any_tracked(inputs: &[Option<&Routed>]) -> bool {
    inputs.iter().flatten().any(|r| matches!(r, Routed::Tracked(_)))
}

/// An input as an autodiff tensor: a plain one becomes an untracked leaf (a constant).
pub fn lift(r: Routed) -> AdTensor {
    match r {
        Routed::Plain(f) => AdTensor::new(f),
        Routed::Tracked(a) => a,
    }
}

/// Records `output = op(inputs)` in the graph; `backward` gets `state` and the output's gradient.
pub fn record<const N: usize, O: Backward<Flex, N>>(
    op: O,
    inputs: [&AdTensor; N],
    state: O::State,
    output: FlexTensor,
) -> AdTensor {
    match op
        .prepare::<NoCheckpointing>(inputs.map(|t| t.node()))
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(state, output),
        OpsKind::UnTracked(prep) => prep.finish(output),
    }
}
