//! Charts drawn with plotters, each as PNG (bitmap backend) and SVG; text uses the DejaVu Sans font
//! shipped in `assets/` (no system font libraries).

pub mod curves;
pub mod histogram;
pub mod lines;
pub mod scatter;

use std::io::Cursor;
use std::path::Path;
use std::sync::Once;

use image::{ImageEncoder, codecs::png::PngEncoder};

pub use curves::{CurveKind, ranking_curves};
pub use histogram::score_histogram;
pub use lines::line_chart;
pub use scatter::{scatter, scatter_png};

use crate::error::{Error, Result};

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

/// One chart in two formats.
#[derive(Debug, Clone)]
pub struct Figure {
    pub png: Vec<u8>,
    pub svg: String,
}

impl Figure {
    /// Encodes an RGB buffer of `size` as PNG.
    pub(crate) fn new(size: (u32, u32), rgb: &[u8], svg: String) -> Result<Figure> {
        Ok(Figure {
            png: encode_png(rgb, size.0, size.1, image::ExtendedColorType::Rgb8)?,
            svg,
        })
    }

    /// Writes `<stem>.png` and `<stem>.svg`.
    pub fn write(&self, stem: &Path) -> Result<()> {
        let png = stem.with_extension("png");
        crate::output::write_file(&png, &self.png)?;
        crate::output::write_file(&stem.with_extension("svg"), self.svg.as_bytes())
    }
}

/// PNG bytes of a `w × h` image of `color` pixels.
pub fn encode_png(pixels: &[u8], w: u32, h: u32, color: image::ExtendedColorType) -> Result<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    PngEncoder::new(&mut out)
        .write_image(pixels, w, h, color)
        .map_err(|e| Error::InvalidData(format!("encoding a PNG: {e}")))?;
    Ok(out.into_inner())
}

/// The legend every chart uses: white box, black border, at `position`, labels in `size` pt.
pub(crate) fn legend<'a, DB: plotters::prelude::DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut plotters::prelude::ChartContext<'a, DB, CT>,
    position: plotters::prelude::SeriesLabelPosition,
    size: u32,
) -> Result<()> {
    use plotters::style::{BLACK, Color, WHITE};
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, size))
        .draw()
        .map_err(draw_err)
}

/// A drawing error as text.
pub(crate) fn draw_err(e: impl std::fmt::Display) -> Error {
    Error::InvalidData(format!("drawing a chart: {e}"))
}

/// Draws `$draw` (a closure taking a plotters `DrawingArea`) once on a bitmap and once on an SVG
/// string of `$size` pixels, giving a [`Figure`].
macro_rules! figure {
    ($size:expr, $draw:expr) => {{
        $crate::plot::register_font();
        let size: (u32, u32) = $size;
        let mut rgb = vec![255u8; (size.0 * size.1 * 3) as usize];
        {
            let root = plotters::prelude::BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
            $draw(&root)?;
            root.present().map_err($crate::plot::draw_err)?;
        }
        let mut svg = String::new();
        {
            let root = plotters::prelude::SVGBackend::with_string(&mut svg, size).into_drawing_area();
            $draw(&root)?;
            root.present().map_err($crate::plot::draw_err)?;
        }
        $crate::plot::Figure::new(size, &rgb, svg)
    }};
}
pub(crate) use figure;
