//! # oddity — deep anomaly detection in Rust
//!
//! Loaders for real benchmark formats ([`data`]), ranking and clustering metrics ([`metrics`]),
//! a common detector contract ([`detector`]) with model directories ([`persist`]), and the
//! models themselves ([`models`]).
//!
//! ```no_run
//! use oddity::data::{load, LoadOptions};
//! use oddity::detector::{Common, Detector, FitContext};
//! use oddity::models::iforest::{IForest, IForestConfig};
//! use oddity::progress::Silent;
//!
//! let data = load("odds/cardio.mat", &LoadOptions::default())?.into_all()?;
//! let ctx = FitContext::new(42, &Silent);
//! let det = Detector::<IForest>::fit(IForestConfig::default(), Common::default(), &data, &ctx)?;
//! let scores = det.score(&data)?;
//! let auc = oddity::metrics::roc_auc(data.require_anomaly_flags()?, &scores)?;
//! println!("ROC-AUC {auc:.3}");
//! # Ok::<(), oddity::Error>(())
//! ```

pub mod backend;
pub mod budget;
pub mod checkpoint;
pub mod data;
pub mod detector;
pub mod error;
pub mod eval;
pub mod json;
pub mod metrics;
pub mod models;
pub mod nn;
pub mod output;
pub mod parallel;
pub mod persist;
pub mod plot;
pub mod progress;
pub mod registry;
pub mod report;
pub mod results;
pub mod speed;
pub mod tsne;

pub use error::{Error, Result};
