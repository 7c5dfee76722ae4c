//! Reports people would rather look at than read: results files with details (scores, training
//! curves, image grids, embeddings, provenance; see [`crate::results`]) and the HTML report built
//! from them ([`html::build`]).

pub mod folder;
pub mod history;
pub mod html;
pub mod images;
pub mod provenance;

pub use history::HistoryRecorder;
pub use html::{Written, build};
pub use provenance::RunClock;
