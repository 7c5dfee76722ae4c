//! `.tar.xz` archives holding one CSV or ARFF file, as ADRepository distributes its larger sets.
//!
//! The archive is streamed: xz decoding feeds the tar reader, whose entry feeds the CSV/ARFF
//! reader directly; nothing is unpacked to disk or held as text in memory.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use liblzma::read::XzDecoder;

use crate::data::{Dataset, LoadOptions, arff, csv};
use crate::error::{Error, Result};

/// Loads the single `.csv` or `.arff` inside an xz-compressed tar. The dataset (and any error
/// about the data) is named `ARCHIVE/INNER`. Entries named `._*` or under `__MACOSX/` (macOS
/// metadata) are ignored; zero or several data files is an error listing the entries.
pub fn load_tar_xz(path: &Path, opts: &LoadOptions) -> Result<Dataset> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let decoder = XzDecoder::new_multi_decoder(BufReader::with_capacity(1 << 16, file));
    let mut tar = tar::Archive::new(decoder);
    let bad = |e: std::io::Error| Error::format(path, format!("not a readable xz-compressed tar archive: {e}"));

    let mut data_files: Vec<String> = Vec::new();
    let mut others: Vec<String> = Vec::new();
    let mut dataset: Option<Dataset> = None;
    for entry in tar.entries().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        let name = entry.path().map_err(bad)?.to_string_lossy().into_owned();
        let kind = data_kind(&name).filter(|_| entry.header().entry_type().is_file());
        let Some(kind) = kind else {
            others.push(name);
            continue;
        };
        data_files.push(name.clone());
        if data_files.len() > 1 {
            continue; // keep listing; the error below names every data file
        }
        let source: PathBuf = path.join(&name);
        let read = match kind {
            Kind::Csv => csv::from_reader(entry, &source, opts),
            Kind::Arff => arff::from_reader(BufReader::with_capacity(1 << 20, entry), &source, opts),
        };
        dataset = Some(read.map_err(|e| name_archive(path, e))?);
    }
    if data_files.len() != 1 {
        let found = if data_files.is_empty() && others.is_empty() {
            "an empty archive".to_string()
        } else {
            [data_files.as_slice(), others.as_slice()].concat().join(", ")
        };
        return Err(Error::format(
            path,
            format!(
                "expected exactly one .csv or .arff file in the archive, found {} ({found})",
                data_files.len()
            ),
        ));
    }
    // Read to the end so the xz integrity check covers the whole stream.
    std::io::copy(&mut tar.into_inner(), &mut std::io::sink()).map_err(bad)?;
    dataset.ok_or_else(|| Error::format(path, "no data file was read"))
}

enum Kind {
    Csv,
    Arff,
}

fn data_kind(name: &str) -> Option<Kind> {
    let lower = name.to_ascii_lowercase();
    let file = lower.rsplit('/').next().unwrap_or(&lower);
    if file.starts_with("._") || lower.starts_with("__macosx/") {
        None
    } else if file.ends_with(".csv") {
        Some(Kind::Csv)
    } else if file.ends_with(".arff") {
        Some(Kind::Arff)
    } else {
        None
    }
}

/// Decompression failures surface as I/O errors of the inner reader: report them as a damaged archive.
fn name_archive(path: &Path, e: Error) -> Error {
    match e {
        Error::Io { source, .. } => Error::format(path, format!("not a readable xz-compressed tar archive: {source}")),
        other => other,
    }
}
