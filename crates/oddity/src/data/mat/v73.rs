//! MATLAB v7.3 MAT-files: HDF5 files (after a 512-byte MATLAB header) with one dataset per variable.
//!
//! MATLAB stores arrays column-major, so an HDF5 reader sees the dimensions reversed (`X` of
//! 95156 × 3 appears as 3 × 95156) and the data in MATLAB's column-major order. `hdf5-metno` turns off
//! libhdf5's printing of error stacks itself; errors come back as values.

use std::path::Path;

use super::Matrix;
use crate::error::{Error, Result};

/// Largest decompression ratio accepted for a dataset (zlib tops out near 1032:1); a larger claim
/// means a corrupt header, and is refused before allocating.
const MAX_RATIO: u64 = 1100;

/// Reads datasets `/X` and `/y` (if present).
pub(super) fn read_xy(path: &Path) -> Result<(Option<Matrix>, Option<Matrix>)> {
    let fail = |reason: String| Error::format(path, reason);
    let file = hdf5::File::open(path).map_err(|e| fail(format!("cannot open as MATLAB 7.3 (HDF5): {e}")))?;
    let file_len = std::fs::metadata(path).map_err(|e| Error::io(path, e))?.len();
    let read = |name: &str| -> Result<Option<Matrix>> {
        if !file.link_exists(name) {
            return Ok(None);
        }
        let what = |reason: String| fail(format!("variable `{name}`: {reason}"));
        let ds = file
            .dataset(name)
            .map_err(|e| what(format!("not a numeric dataset ({e})")))?;
        let shape = ds.space().map_err(|e| what(e.to_string()))?.shape();
        let count = shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d as u64));
        match count {
            Some(c) if c.saturating_mul(8) <= file_len.saturating_mul(MAX_RATIO) => {}
            _ => {
                return Err(what(format!(
                    "dimensions {shape:?} are too large for a {file_len}-byte file"
                )));
            }
        }
        let values = ds
            .read_raw::<f64>()
            .map_err(|e| what(format!("cannot read as numbers: {e}")))?;
        let dims: Vec<usize> = shape.iter().rev().copied().collect();
        if values.len() as u64 != count.unwrap_or(0) {
            return Err(what(format!("dimensions {dims:?} but {} values", values.len())));
        }
        Ok(Some(Matrix { dims, values }))
    };
    let x = read("X")?;
    if x.is_none() {
        let names = file.member_names().unwrap_or_default();
        let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        return Err(fail(format!(
            "no variable `X` in the file (variables: {})",
            names.join(", ")
        )));
    }
    Ok((x, read("y")?))
}
