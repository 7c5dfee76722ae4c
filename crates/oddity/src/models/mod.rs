//! The models. Each lives in its own folder.
pub mod deep_cluster;
pub mod ganomaly;
pub mod iforest;
