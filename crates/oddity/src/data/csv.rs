//! CSV files: a header row, numeric feature columns and (by default) a label column.
//!
//! The label column is [`LoadOptions::label_column`] (default: the last column) and goes through
//! [`parse_labels`]; with [`LoadOptions::no_labels`] every column is a feature. Feature cells are
//! parsed straight from the byte record to `f32`, without a `String` per cell.

use std::io::Read;
use std::path::Path;

use crate::data::{Dataset, Labels, LoadOptions, parse_labels};
use crate::error::{Error, Result};

/// Loads a CSV file (see the module docs).
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Dataset> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    from_reader(file, path, opts)
}

/// Reads CSV text from `reader`; `source` names it in the dataset and in error messages.
pub fn from_reader<R: Read>(reader: R, source: &Path, opts: &LoadOptions) -> Result<Dataset> {
    let mut rdr = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(reader);
    let header: Vec<String> = rdr
        .byte_headers()
        .map_err(|e| csv_error(source, e, 0))?
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_string())
        .collect();
    if header.is_empty() || header.iter().all(|h| h.is_empty()) {
        return Err(Error::format(
            source,
            "empty file: expected a header row with column names",
        ));
    }
    let label_col = label_index(source, &header, opts)?;
    let features: Vec<usize> = (0..header.len()).filter(|&c| Some(c) != label_col).collect();
    if features.is_empty() {
        return Err(Error::format(
            source,
            "no feature columns (the only column is the label)",
        ));
    }

    let mut x: Vec<f32> = Vec::new();
    let mut raw_labels: Vec<String> = Vec::new();
    let mut record = ::csv::ByteRecord::new();
    let mut row = 0usize;
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(source, e, row + 1)),
        }
        row += 1;
        if record.len() != header.len() {
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            return Err(Error::format(
                source,
                format!(
                    "row {row} (line {line}) has {} fields but the header has {} columns",
                    record.len(),
                    header.len()
                ),
            ));
        }
        for &c in &features {
            let cell = record.get(c).unwrap_or_default();
            x.push(parse_cell(source, cell, row, &header[c])?);
        }
        if let Some(c) = label_col {
            raw_labels.push(String::from_utf8_lossy(record.get(c).unwrap_or_default()).into_owned());
        }
    }
    if row == 0 {
        return Err(Error::format(source, "no data rows after the header"));
    }

    let labels = match label_col {
        Some(c) => parse_labels(source, &header[c], &raw_labels, opts.anomaly_label.as_deref())?,
        None => Labels::None,
    };
    let names = features.iter().map(|&c| header[c].clone()).collect();
    Dataset::tabular(source.display().to_string(), features.len(), x, labels)?.with_feature_names(names)
}

/// Index of the label column, `None` when the file is unlabelled.
pub(crate) fn label_index(source: &Path, columns: &[String], opts: &LoadOptions) -> Result<Option<usize>> {
    match (&opts.label_column, opts.no_labels) {
        (Some(_), true) => Err(Error::config("label_column", "cannot be combined with no_labels")),
        (_, true) => Ok(None),
        (None, false) => Ok(columns.len().checked_sub(1)),
        (Some(name), false) if name.trim().is_empty() => Err(Error::config(
            "label_column",
            "must not be empty (use no_labels for unlabelled files)",
        )),
        (Some(name), false) => match columns.iter().position(|c| c == name.trim()) {
            Some(i) => Ok(Some(i)),
            None => Err(Error::format(
                source,
                format!("no label column `{name}` (columns: {})", list_columns(columns)),
            )),
        },
    }
}

/// `a, b, c`, shortened in the middle for very wide files.
pub(crate) fn list_columns(columns: &[String]) -> String {
    const SHOW: usize = 40;
    if columns.len() <= SHOW {
        return columns.join(", ");
    }
    format!(
        "{}, ... ({} more) ..., {}",
        columns[..SHOW - 5].join(", "),
        columns.len() - SHOW,
        columns[columns.len() - 5..].join(", ")
    )
}

fn parse_cell(source: &Path, cell: &[u8], row: usize, column: &str) -> Result<f32> {
    let text = std::str::from_utf8(cell).map(str::trim);
    match text {
        Ok(t) if !t.is_empty() => crate::data::parse_f32(t)
            .map_err(|reason| Error::format(source, format!("row {row}, column `{column}`: {reason}"))),
        Ok(_) => Err(Error::format(
            source,
            format!("row {row}, column `{column}`: empty value"),
        )),
        Err(_) => Err(Error::format(
            source,
            format!("row {row}, column `{column}`: not valid UTF-8 text"),
        )),
    }
}

fn csv_error(source: &Path, e: ::csv::Error, row: usize) -> Error {
    let at = if row == 0 {
        "header".to_string()
    } else {
        format!("row {row}")
    };
    let msg = e.to_string();
    match e.into_kind() {
        ::csv::ErrorKind::Io(io) => Error::io(source, io),
        _ => Error::format(source, format!("{at}: malformed CSV ({msg})")),
    }
}
