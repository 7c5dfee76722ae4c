//! MATLAB v7.3 MAT-files: HDF5 files (after a 512-byte MATLAB header) with one dataset per variable.
//!
//! Read with the pure-Rust `hdf5-reader` crate (no libhdf5). MATLAB stores arrays column-major, so
//! an HDF5 reader sees the dimensions reversed (`X` of 95156 × 3 appears as 3 × 95156) and the data
//! in MATLAB's column-major order. The variable's `MATLAB_class` attribute, where present, must name
//! a numeric class (`double`, `single`, `int*`, `uint*`, `logical`).

use hdf5_reader::{Datatype, Hdf5File, OpenOptions};

use super::Matrix;
use crate::error::{Error, Result};
use std::path::Path;

/// Largest decompression ratio accepted for a dataset (zlib tops out near 1032:1); a larger claim
/// means a corrupt header, and is refused before allocating.
const MAX_RATIO: u64 = 1100;

/// MATLAB classes whose data is an ordinary numeric array.
const NUMERIC_CLASSES: &[&str] = &[
    "double", "single", "logical", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
];

/// Reads datasets `/X` and `/y` (if present) from the file's bytes.
pub(super) fn read_xy(path: &Path, bytes: Vec<u8>) -> Result<(Option<Matrix>, Option<Matrix>)> {
    let fail = |reason: String| Error::format(path, reason);
    let file_len = bytes.len() as u64;
    // Every read is bounded by what the file could hold after decompression.
    let budget = usize::try_from(file_len.saturating_mul(MAX_RATIO)).unwrap_or(usize::MAX);
    let options = OpenOptions::default()
        .with_max_read_bytes(budget)
        .with_max_chunk_bytes(budget.min(hdf5_reader::DEFAULT_MAX_CHUNK_BYTES));
    let file = Hdf5File::from_vec_with_options(bytes, options)
        .map_err(|e| fail(format!("cannot open as MATLAB 7.3 (HDF5): {e}")))?;
    let root = file
        .root_group()
        .map_err(|e| fail(format!("cannot read the HDF5 root group: {e}")))?;
    let (_, names) = root
        .member_names()
        .map_err(|e| fail(format!("cannot list the file's variables: {e}")))?;
    let read = |name: &str| -> Result<Option<Matrix>> {
        if !names.iter().any(|n| n == name) {
            return Ok(None);
        }
        let what = |reason: String| fail(format!("variable `{name}`: {reason}"));
        let ds = file.dataset(name).map_err(|e| what(format!("cannot open ({e})")))?;
        if let Ok(class) = ds.attribute("MATLAB_class").and_then(|a| a.read_string()) {
            if !NUMERIC_CLASSES.contains(&class.as_str()) {
                return Err(what(format!("MATLAB class `{class}` is not a numeric matrix")));
            }
        }
        let shape = ds.shape().to_vec();
        let count = shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d));
        match count {
            Some(c) if c.saturating_mul(8) <= file_len.saturating_mul(MAX_RATIO) => {}
            _ => {
                return Err(what(format!(
                    "dimensions {shape:?} are too large for a {file_len}-byte file"
                )));
            }
        }
        let values = read_f64(&ds).map_err(|e| what(format!("cannot read as numbers: {e}")))?;
        let dims: Vec<usize> = shape.iter().rev().map(|&d| d as usize).collect();
        if values.len() as u64 != count.unwrap_or(0) {
            return Err(what(format!("dimensions {dims:?} but {} values", values.len())));
        }
        Ok(Some(Matrix { dims, values }))
    };
    let x = read("X")?;
    if x.is_none() {
        let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        return Err(fail(format!(
            "no variable `X` in the file (variables: {})",
            names.join(", ")
        )));
    }
    Ok((x, read("y")?))
}

/// A dataset's values as f64, whatever its numeric element type.
fn read_f64(ds: &hdf5_reader::Dataset) -> std::result::Result<Vec<f64>, String> {
    fn conv<T: hdf5_reader::H5Type + Copy + Into<f64>>(
        ds: &hdf5_reader::Dataset,
    ) -> std::result::Result<Vec<f64>, String> {
        let a = ds.read_array::<T>().map_err(|e| e.to_string())?;
        Ok(a.iter().map(|&v| v.into()).collect())
    }
    match ds.dtype() {
        Datatype::FloatingPoint { size: 8, .. } => conv::<f64>(ds),
        Datatype::FloatingPoint { size: 4, .. } => conv::<f32>(ds),
        Datatype::FixedPoint { size: 1, signed, .. } => {
            if *signed {
                conv::<i8>(ds)
            } else {
                conv::<u8>(ds)
            }
        }
        Datatype::FixedPoint { size: 2, signed, .. } => {
            if *signed {
                conv::<i16>(ds)
            } else {
                conv::<u16>(ds)
            }
        }
        Datatype::FixedPoint { size: 4, signed, .. } => {
            if *signed {
                conv::<i32>(ds)
            } else {
                conv::<u32>(ds)
            }
        }
        Datatype::FixedPoint { size: 8, signed, .. } => {
            let a: Vec<f64> = if *signed {
                ds.read_array::<i64>()
                    .map_err(|e| e.to_string())?
                    .iter()
                    .map(|&v| v as f64)
                    .collect()
            } else {
                ds.read_array::<u64>()
                    .map_err(|e| e.to_string())?
                    .iter()
                    .map(|&v| v as f64)
                    .collect()
            };
            Ok(a)
        }
        other => Err(format!("element type {other:?} is not a number")),
    }
}
