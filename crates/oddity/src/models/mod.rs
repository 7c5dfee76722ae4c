//! The models. Each lives in its own folder.
pub mod iforest;
