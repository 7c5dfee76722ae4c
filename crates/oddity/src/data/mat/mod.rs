//! MATLAB `.mat` files as distributed by ODDS: variables `X` (n × d) and `y` (n × 1 or 1 × n, 0/1).
//!
//! Level 5 files (v5 / v7, optionally zlib-compressed) are parsed by hand ([`v5`]); v7.3 files are
//! HDF5 with a 512-byte MATLAB header and are read with the pure-Rust `hdf5-reader` crate ([`v73`]).

mod v5;
mod v73;

use std::path::Path;

use crate::data::{Dataset, Labels};
use crate::error::{Error, Result};

/// HDF5 superblock signature; MATLAB v7.3 files carry it at offset 512.
const HDF5_SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// A numeric MATLAB matrix: dimensions and values in column-major order.
#[derive(Debug)]
struct Matrix {
    dims: Vec<usize>,
    values: Vec<f64>,
}

/// Loads `X` and `y` from a MATLAB v5 / v7 / v7.3 `.mat` file.
pub fn load(path: &Path) -> Result<Dataset> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let (x, y) = if bytes.get(512..520) == Some(HDF5_SIGNATURE) || bytes.starts_with(HDF5_SIGNATURE) {
        v73::read_xy(path, bytes)?
    } else if bytes.starts_with(b"MATLAB 7.3") {
        return Err(Error::format(
            path,
            "MATLAB 7.3 header but no HDF5 data at byte 512 (truncated?)",
        ));
    } else {
        v5::read_xy(path, &bytes)?
    };
    let x = x.ok_or_else(|| Error::format(path, "no variable `X` (features) in the file"))?;
    let (n, d) = match x.dims[..] {
        [n, d] => (n, d),
        _ => {
            return Err(Error::format(
                path,
                format!("`X` must be a 2-D matrix, found dimensions {:?}", x.dims),
            ));
        }
    };
    // column-major [n, d] -> row-major
    let values: Vec<f32> = (0..n * d)
        .map(|k| {
            crate::data::narrow_f64(x.values[(k % d) * n + k / d])
                .map_err(|reason| Error::format(path, format!("`X` {}: {reason}", crate::data::row_col(k, d))))
        })
        .collect::<Result<_>>()?;
    let labels = match y {
        None => Labels::None,
        Some(y) => {
            if !matches!(y.dims[..], [_, 1] | [1, _]) {
                return Err(Error::format(
                    path,
                    format!("`y` must be a vector, found dimensions {:?}", y.dims),
                ));
            }
            let flags = super::npy::flags_from(&y.values)
                .map_err(|(row, v)| Error::format(path, format!("`y` must hold 0 or 1, found {v} at row {row}")))?;
            if flags.len() != n {
                return Err(Error::format(
                    path,
                    format!("`X` has {n} rows but `y` has {} labels", flags.len()),
                ));
            }
            Labels::Anomaly(flags)
        }
    };
    Dataset::tabular(path.display().to_string(), d, values, labels)
}
