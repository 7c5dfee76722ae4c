//! Results: the records an evaluation produces ([`record`]), the JSON-lines file they are kept in
//! ([`file`]) and the tables ([`table`]) and sensitivity curves ([`sensitivity`]) made from them.

pub mod file;
pub mod record;
pub mod sensitivity;
pub mod table;

pub use file::{append_details, append_records, latest_wins};
pub use record::{
    DataFile, Detail, EmbeddingMap, HistoryRecord, ImageGrid, MetricRecord, Results, RunInfo, RunKey, ScoresRecord,
    Series,
};
pub use table::{csv_table, higher_is_better, keys, markdown_table, mean_sd, mean_sd_text, metrics, stat};
