//! The models. Each lives in its own folder.
pub mod deep_cluster;
pub mod deep_sad;
pub mod devnet;
pub mod dplan;
pub mod ganomaly;
pub mod iforest;
pub mod repen;
pub(crate) mod tabular;
