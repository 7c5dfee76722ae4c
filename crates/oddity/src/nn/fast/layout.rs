//! Channels-last (NHWC) storage behind burn's NCHW tensors.
//!
//! The kernels compute in NHWC: a convolution's GEMM writes one row of `C` channels per pixel, and
//! batch norm's statistics run along those rows. Their outputs keep that memory order and are handed to
//! burn as a strided *view* with NCHW shape (strides `[H·W·C, 1, W·C, C]`), so the next fast layer
//! reads them without a copy; any burn operation sees an ordinary NCHW tensor (burn-flex handles strided
//! layouts) and copies only if it needs to.

use std::borrow::Cow;

use burn::tensor::DType;
use burn_flex::{FlexTensor, Layout};
use burn_std::{Bytes, Shape};

use super::autodiff::values;
use super::kernels;

/// The NCHW dimensions of a 4-D tensor.
pub fn dims4(t: &FlexTensor) -> [usize; 4] {
    let s = t.layout().shape();
    [s[0], s[1], s[2], s[3]]
}

/// The tensor's values in NHWC order: borrowed when the tensor already is an NHWC view (or when NCHW
/// and NHWC coincide: one channel or one pixel), else transposed once.
pub fn nhwc_values(t: &FlexTensor) -> Cow<'_, [f32]> {
    let [b, c, h, w] = dims4(t);
    let layout = t.layout();
    let numel = b * c * h * w;
    let storage = t.storage::<f32>();
    if layout.start_offset() == 0 && storage.len() == numel && layout.strides() == nhwc_strides([b, c, h, w]) {
        return Cow::Borrowed(storage);
    }
    let nchw = values(t);
    if c == 1 || h * w == 1 {
        return nchw;
    }
    Cow::Owned(kernels::nchw_to_nhwc(&nchw, b, c, h * w))
}

/// An NCHW tensor of shape `dims` over values stored in NHWC order.
pub fn nhwc_tensor(data: Vec<f32>, dims: [usize; 4]) -> FlexTensor {
    debug_assert_eq!(data.len(), dims.iter().product::<usize>());
    FlexTensor::new(
        Bytes::from_elems(data),
        Layout::new(Shape::from(dims.to_vec()), nhwc_strides(dims), 0),
        DType::F32,
    )
}

fn nhwc_strides([_, c, h, w]: [usize; 4]) -> Vec<isize> {
    vec![(h * w * c) as isize, 1, (w * c) as isize, c as isize]
}
