//! NumPy arrays → [`Dataset`]: float32 or float64, any strides (C or Fortran order), copied once
//! into the row-major f32 buffer the library owns.

use numpy::{PyReadonlyArray1, PyReadonlyArrayDyn};
use oddity::data::{Dataset, Labels, Layout};
use oddity::{Error, Result};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// A borrowed float array, f32 or f64.
pub enum Floats<'py> {
    F32(PyReadonlyArrayDyn<'py, f32>),
    F64(PyReadonlyArrayDyn<'py, f64>),
}

impl<'py> Floats<'py> {
    pub fn extract(x: &Bound<'py, PyAny>) -> PyResult<Self> {
        if let Ok(a) = x.extract::<PyReadonlyArrayDyn<'py, f32>>() {
            return Ok(Floats::F32(a));
        }
        if let Ok(a) = x.extract::<PyReadonlyArrayDyn<'py, f64>>() {
            return Ok(Floats::F64(a));
        }
        Err(PyValueError::new_err(
            "X must be a float32 or float64 numpy array (the Python layer converts other inputs)",
        ))
    }

    fn shape(&self) -> Vec<usize> {
        match self {
            Floats::F32(a) => a.as_array().shape().to_vec(),
            Floats::F64(a) => a.as_array().shape().to_vec(),
        }
    }

    /// Sample layout from the shape: `[n, d]`, `[n, h, w]` (one channel) or `[n, c, h, w]`.
    pub fn layout(&self) -> PyResult<Layout> {
        match self.shape().as_slice() {
            [_, d] => Ok(Layout::Tabular { d: *d }),
            [_, h, w] => Ok(Layout::Images { c: 1, h: *h, w: *w }),
            [_, c, h, w] => Ok(Layout::Images { c: *c, h: *h, w: *w }),
            s => Err(PyValueError::new_err(format!(
                "X must have shape [n, d], [n, h, w] or [n, c, h, w], got {} dimensions",
                s.len()
            ))),
        }
    }

    /// Row-major f32 values; callable without the GIL (borrows only the array's memory).
    pub fn view(&self) -> View<'_> {
        match self {
            Floats::F32(a) => View::F32(a.as_array()),
            Floats::F64(a) => View::F64(a.as_array()),
        }
    }
}

/// The array's values, readable from any thread.
pub enum View<'a> {
    F32(numpy::ndarray::ArrayViewD<'a, f32>),
    F64(numpy::ndarray::ArrayViewD<'a, f64>),
}

impl View<'_> {
    /// Copies into a row-major buffer (one pass; a plain memcpy for C-contiguous float32).
    pub fn to_vec(&self) -> Vec<f32> {
        match self {
            View::F32(a) => match a.as_slice() {
                Some(s) => s.to_vec(),
                None => a.iter().copied().collect(),
            },
            View::F64(a) => a.iter().map(|&v| v as f32).collect(),
        }
    }
}

/// Anomaly flags from a 0/1 array (already checked on the Python side).
pub fn labels(y: Option<PyReadonlyArray1<'_, u8>>) -> PyResult<Labels> {
    match y {
        None => Ok(Labels::None),
        Some(y) => {
            let y = y.as_array();
            if let Some(bad) = y.iter().find(|&&v| v > 1) {
                return Err(PyValueError::new_err(format!(
                    "y must hold 0 (unlabelled) or 1 (labelled anomaly), found {bad}"
                )));
            }
            Ok(Labels::Anomaly(y.iter().map(|&v| v == 1).collect()))
        }
    }
}

/// Builds the dataset (checks non-empty, finite, one label per sample).
pub fn dataset(name: &str, layout: Layout, view: &View<'_>, labels: Labels) -> Result<Dataset> {
    let x = view.to_vec();
    if layout.dim() > 0 && x.len() / layout.dim() == 0 {
        return Err(Error::InvalidData(format!("{name}: no samples (empty data)")));
    }
    Dataset::new(name, layout, x, labels)
}
