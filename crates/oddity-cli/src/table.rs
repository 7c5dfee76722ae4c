//! Plain-text tables for terminal output.

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

/// A table with the given header.
pub fn new(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(header.to_vec());
    t
}
