//! The models. Each lives in its own folder.
pub mod dplan;
pub mod ganomaly;
pub mod iforest;
