//! Isolation Forest (Liu, Ting & Zhou, "Isolation Forest", ICDM 2008), with scikit-learn's
//! `IsolationForest` defaults and tree-growing rules.
//!
//! Anomalies are few and different, so random axis-parallel splits isolate them in fewer steps:
//! each of `n_estimators` trees is grown on ψ sub-sampled rows, and a sample's score is
//! s(x, ψ) = 2^(−E[h(x)] / c(ψ)), where h is its path length and c(ψ) the average path length of
//! a ψ-sample tree. Scores lie in (0, 1]; higher = more anomalous (scikit-learn's `score_samples`
//! is the negative). Fitting is parallel over trees, scoring over blocks of rows; both give the
//! same result for any thread count.

mod config;
mod forest;
mod simd;
mod tree;
mod weights;

pub use config::{IForestConfig, MaxSamples};
pub use forest::IForest;
pub use tree::average_path_length;
