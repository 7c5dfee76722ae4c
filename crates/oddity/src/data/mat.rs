//! Placeholder: the mat loader is being written (replaced before merge).
#![allow(unused)]
use crate::data::{Dataset, LoadOptions, Loaded};
use crate::error::{Error, Result};
use std::path::Path;
fn pending(path: &Path) -> Error {
    Error::UnsupportedFormat {
        path: path.to_path_buf(),
        reason: "loader pending".into(),
    }
}
pub fn load(path: &Path) -> Result<Dataset> {
    Err(pending(path))
}
