//! Pictures as PNG files, drawn with plotters' pure-Rust bitmap backend; text uses the DejaVu Sans
//! font shipped in `assets/` (no system font libraries).

pub mod scatter;

use std::sync::Once;

pub use scatter::scatter_png;

/// The font family name plots use.
pub const FONT: &str = "sans-serif";

static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Registers the shipped font with plotters (once per process).
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType file shipped with the crate; a failure leaves text undrawn.
        let _ = plotters::style::register_font(FONT, plotters::style::FontStyle::Normal, FONT_BYTES);
    });
}
