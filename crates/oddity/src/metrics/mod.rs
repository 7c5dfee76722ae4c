//! Evaluation metrics, matching scikit-learn / scipy to floating-point rounding.
//!
//! - [`ranking`]: anomaly-score quality — [`roc_auc`], [`average_precision`], [`roc_curve`], [`pr_curve`].
//!   Higher score = more anomalous; `labels[i] == true` marks an anomaly (the positive class).
//! - [`clustering`]: agreement of a clustering with ground-truth classes — [`clustering_accuracy`], [`nmi`],
//!   [`ari`].
//! - [`scaling`]: [`min_max_scale`] for putting scores of different detectors on one scale, [`erf`].
//!
//! All functions reject mismatched lengths ([`Error::Shape`](crate::Error::Shape)) and empty input
//! ([`Error::InvalidData`](crate::Error::InvalidData)); the ranking metrics also reject non-finite scores
//! ([`Error::NonFinite`](crate::Error::NonFinite), naming the index as `row`) and inputs with a single class.

pub mod clustering;
pub mod ranking;
pub mod scaling;

pub use clustering::{ari, clustering_accuracy, nmi};
pub use ranking::{Curve, average_precision, pr_curve, roc_auc, roc_curve};
pub use scaling::{erf, min_max_scale};
