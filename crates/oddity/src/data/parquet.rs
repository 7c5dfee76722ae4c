//! Parquet files, read record batch by record batch through the arrow reader.
//!
//! Numeric columns (every integer and float width, booleans as 0/1) are features; the label column
//! ([`LoadOptions::label_column`], default the last column) may be a string, integer, float,
//! boolean or dictionary column and goes through [`parse_labels`] in its string form. A null in a
//! feature or the label is an error naming the row and column.

use std::path::Path;

use bytes::Bytes;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrowPrimitiveType};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::metadata::ParquetMetaData;

use super::csv::label_index;
use crate::data::{Dataset, Labels, LoadOptions, parse_labels};
use crate::error::{Error, Result};

/// Rows per record batch.
const BATCH: usize = 8192;

thread_local! {
    /// Set while this thread runs a decoder whose panics are caught and turned into errors.
    static QUIET_PANICS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, catching a panic without the panic hook printing it (the default hook writes
/// "thread … panicked at …" to stderr even when the panic is caught, which broke the CLI's
/// one-line errors; found by fuzzing). Other threads' panics are reported as before.
fn quietly<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET_PANICS.with(|q| q.get()) {
                previous(info);
            }
        }));
    });
    QUIET_PANICS.with(|q| q.set(true));
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET_PANICS.with(|q| q.set(false));
    out
}

/// Loads a Parquet file (see the module docs).
///
/// The arrow/parquet decoders can panic on damaged data pages (found by fuzzing version 60);
/// such a panic is caught and reported as a damaged file instead of unwinding into the caller.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Dataset> {
    quietly(|| read(path, opts)).unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(Error::format(
            path,
            format!("damaged Parquet file: the decoder failed ({msg})"),
        ))
    })
}

fn read(path: &Path, opts: &LoadOptions) -> Result<Dataset> {
    // The whole file in memory: reading a `File` costs the decoder a syscall per page header, and a
    // damaged file declaring millions of tiny pages took 34 s (fuzzer find); the rows end up in
    // memory anyway, and compressed bytes are never larger than the decoded dataset by much.
    let file = Bytes::from(std::fs::read(path).map_err(|e| Error::io(path, e))?);
    let file_len = file.len() as u64;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| Error::format(path, format!("not a readable Parquet file: {e}")))?;
    check_chunks(path, file_len, builder.metadata())?;
    let schema = builder.schema().clone();
    let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    if columns.is_empty() {
        return Err(Error::format(path, "no columns"));
    }
    let label = label_index(path, &columns, opts)?;
    let features: Vec<usize> = (0..columns.len()).filter(|&c| Some(c) != label).collect();
    if features.is_empty() {
        return Err(Error::format(path, "no feature columns (the only column is the label)"));
    }
    for &c in &features {
        let dt = schema.field(c).data_type();
        if !is_numeric(dt) {
            let what = if is_text(dt) {
                "holds strings".to_string()
            } else {
                format!("has type {dt}")
            };
            return Err(Error::format(
                path,
                format!(
                    "feature column `{}` {what}: only numeric and boolean columns can be features",
                    columns[c]
                ),
            ));
        }
    }
    if let Some(c) = label {
        let dt = schema.field(c).data_type();
        if !is_numeric(dt) && !is_text(dt) && !matches!(dt, DataType::Dictionary(..)) {
            return Err(Error::format(
                path,
                format!("label column `{}` has unsupported type {dt}", columns[c]),
            ));
        }
    }

    let reader = builder
        .with_batch_size(BATCH)
        .build()
        .map_err(|e| Error::format(path, format!("not a readable Parquet file: {e}")))?;
    let d = features.len();
    let mut x: Vec<f32> = Vec::new();
    let mut raw_labels: Vec<String> = Vec::new();
    let mut n = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| Error::format(path, format!("reading Parquet data after row {n}: {e}")))?;
        let m = batch.num_rows();
        let start = x.len();
        x.resize(start + m * d, 0.0);
        let out = &mut x[start..];
        for (j, &c) in features.iter().enumerate() {
            let col = batch.column(c).as_ref();
            check_nulls(path, col, n, &columns[c])?;
            write_feature(col, d, j, out).map_err(|e| match e {
                Unwritable::Type(dt) => Error::format(
                    path,
                    format!("feature column `{}` has unsupported type {dt}", columns[c]),
                ),
                Unwritable::Range(r, reason) => {
                    Error::format(path, format!("row {}, column `{}`: {reason}", n + r + 1, columns[c]))
                }
            })?;
        }
        if let Some(c) = label {
            let col = batch.column(c).as_ref();
            check_nulls(path, col, n, &columns[c])?;
            raw_labels.extend(label_strings(col).map_err(|dt| {
                Error::format(path, format!("label column `{}` has unsupported type {dt}", columns[c]))
            })?);
        }
        n += m;
    }
    if n == 0 {
        return Err(Error::format(path, "no data rows"));
    }

    let labels = match label {
        Some(c) => parse_labels(path, &columns[c], &raw_labels, opts.anomaly_label.as_deref())?,
        None => Labels::None,
    };
    let names = features.iter().map(|&c| columns[c].clone()).collect();
    Dataset::tabular(path.display().to_string(), d, x, labels)?.with_feature_names(names)
}

/// Rejects column chunks whose byte ranges are negative or past the end of the file: the reader
/// would panic on the former (a damaged footer), and fail less clearly on the latter.
fn check_chunks(path: &Path, file_len: u64, meta: &ParquetMetaData) -> Result<()> {
    for (g, group) in meta.row_groups().iter().enumerate() {
        for col in group.columns() {
            let start = col.dictionary_page_offset().unwrap_or(col.data_page_offset());
            let len = col.compressed_size();
            let end = u64::try_from(start)
                .ok()
                .zip(u64::try_from(len).ok())
                .and_then(|(s, l)| s.checked_add(l));
            if end.is_none_or(|end| end > file_len) {
                return Err(Error::format(
                    path,
                    format!(
                        "damaged Parquet footer: row group {g}, column `{}` claims bytes {start}..+{len} \
                         of a {file_len}-byte file",
                        col.column_path()
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn is_numeric(dt: &DataType) -> bool {
    dt.is_integer() || dt.is_floating() || *dt == DataType::Boolean
}

fn is_text(dt: &DataType) -> bool {
    matches!(dt, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Error if `col` (rows `before + 1 ..` of the file) holds a null.
fn check_nulls(path: &Path, col: &dyn Array, before: usize, name: &str) -> Result<()> {
    if col.null_count() == 0 {
        return Ok(());
    }
    match (0..col.len()).find(|&r| col.is_null(r)) {
        Some(r) => Err(Error::format(
            path,
            format!("row {}, column `{name}`: missing value (null)", before + r + 1),
        )),
        None => Ok(()),
    }
}

/// Why a column cannot be written as a feature.
enum Unwritable {
    /// Not a numeric or boolean column.
    Type(DataType),
    /// A float64 value f32 cannot hold: its row in the batch (from 0) and the message.
    Range(usize, String),
}

/// Writes column `col` as feature `j` of the row-major `[rows, d]` block `out`.
fn write_feature(col: &dyn Array, d: usize, j: usize, out: &mut [f32]) -> Result<(), Unwritable> {
    fn prim<T: ArrowPrimitiveType>(col: &dyn Array, d: usize, j: usize, out: &mut [f32], f: impl Fn(T::Native) -> f32) {
        for (slot, &v) in out.iter_mut().skip(j).step_by(d).zip(col.as_primitive::<T>().values()) {
            *slot = f(v);
        }
    }
    match col.data_type() {
        DataType::Int8 => prim::<Int8Type>(col, d, j, out, |v| v as f32),
        DataType::Int16 => prim::<Int16Type>(col, d, j, out, |v| v as f32),
        DataType::Int32 => prim::<Int32Type>(col, d, j, out, |v| v as f32),
        DataType::Int64 => prim::<Int64Type>(col, d, j, out, |v| v as f32),
        DataType::UInt8 => prim::<UInt8Type>(col, d, j, out, |v| v as f32),
        DataType::UInt16 => prim::<UInt16Type>(col, d, j, out, |v| v as f32),
        DataType::UInt32 => prim::<UInt32Type>(col, d, j, out, |v| v as f32),
        DataType::UInt64 => prim::<UInt64Type>(col, d, j, out, |v| v as f32),
        DataType::Float16 => prim::<Float16Type>(col, d, j, out, f32::from),
        DataType::Float32 => prim::<Float32Type>(col, d, j, out, |v| v),
        DataType::Float64 => {
            let values = col.as_primitive::<Float64Type>().values();
            for (r, (slot, &v)) in out.iter_mut().skip(j).step_by(d).zip(values).enumerate() {
                *slot = crate::data::narrow_f64(v).map_err(|reason| Unwritable::Range(r, reason))?;
            }
        }
        DataType::Boolean => {
            let b = col.as_boolean();
            for (r, slot) in out.iter_mut().skip(j).step_by(d).take(b.len()).enumerate() {
                *slot = if b.value(r) { 1.0 } else { 0.0 };
            }
        }
        other => return Err(Unwritable::Type(other.clone())),
    }
    Ok(())
}

/// The string form of each value of a label column; `Err(type)` for types without one.
fn label_strings(col: &dyn Array) -> Result<Vec<String>, DataType> {
    fn prim<T: ArrowPrimitiveType>(col: &dyn Array) -> Vec<String>
    where
        T::Native: ToString,
    {
        col.as_primitive::<T>().values().iter().map(|v| v.to_string()).collect()
    }
    Ok(match col.data_type() {
        DataType::Utf8 => col
            .as_string::<i32>()
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect(),
        DataType::LargeUtf8 => col
            .as_string::<i64>()
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect(),
        DataType::Utf8View => col
            .as_string_view()
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect(),
        DataType::Boolean => col
            .as_boolean()
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect(),
        DataType::Int8 => prim::<Int8Type>(col),
        DataType::Int16 => prim::<Int16Type>(col),
        DataType::Int32 => prim::<Int32Type>(col),
        DataType::Int64 => prim::<Int64Type>(col),
        DataType::UInt8 => prim::<UInt8Type>(col),
        DataType::UInt16 => prim::<UInt16Type>(col),
        DataType::UInt32 => prim::<UInt32Type>(col),
        DataType::UInt64 => prim::<UInt64Type>(col),
        DataType::Float16 => prim::<Float16Type>(col),
        DataType::Float32 => prim::<Float32Type>(col),
        DataType::Float64 => prim::<Float64Type>(col),
        DataType::Dictionary(..) => {
            let Some(dict) = col.as_any_dictionary_opt() else {
                return Err(col.data_type().clone());
            };
            let values = label_strings(dict.values().as_ref())?;
            dict.normalized_keys()
                .iter()
                .map(|&k| values.get(k).cloned().unwrap_or_default())
                .collect()
        }
        other => return Err(other.clone()),
    })
}
