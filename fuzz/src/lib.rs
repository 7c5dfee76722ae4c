//! Shared harness for the fuzz targets; see [`entries`].
pub mod entries;
