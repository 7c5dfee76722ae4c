//! Scatter plots of 2-D points coloured by group (e.g. a t-SNE of an embedding coloured by true
//! class or by cluster), with a legend.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{FONT, Figure, draw_err, figure, legend};
use crate::error::{Error, Result};

/// Tableau's 20 categorical colours (matplotlib `tab20`, dark shades first): distinct for up to
/// 10 groups, then the light shades; more groups cycle.
const PALETTE: [(u8, u8, u8); 20] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
    (174, 199, 232),
    (255, 187, 120),
    (152, 223, 138),
    (255, 152, 150),
    (197, 176, 213),
    (196, 156, 148),
    (247, 182, 210),
    (199, 199, 199),
    (219, 219, 141),
    (158, 218, 229),
];

/// The colour of group `g`.
pub fn color(g: u32) -> RGBColor {
    let (r, gr, b) = PALETTE[g as usize % PALETTE.len()];
    RGBColor(r, gr, b)
}

/// Checks the points and their groups.
fn check(xy: &[f32], groups: &[u32]) -> Result<()> {
    if xy.len() != groups.len() * 2 {
        return Err(Error::shape(
            "scatter plot: coordinates",
            format!("{}, two per point", groups.len() * 2),
            xy.len(),
        ));
    }
    if groups.is_empty() {
        return Err(Error::InvalidData("scatter plot: no points".into()));
    }
    if let Some(i) = xy.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite {
            context: "scatter plot".into(),
            row: i / 2,
            col: i % 2,
            value: xy[i] as f64,
        });
    }
    Ok(())
}

/// A `size` scatter plot of the points `xy` (`n × 2`, row-major), point `i` coloured by
/// `groups[i]`, with `names[g]` in the legend (the group id when `names` is shorter).
pub fn scatter(title: &str, xy: &[f32], groups: &[u32], names: &[String], size: (u32, u32)) -> Result<Figure> {
    check(xy, groups)?;
    figure!(size, |root| draw(root, title, xy, groups, names))
}

/// Writes [`scatter`] as a PNG file at `path`.
pub fn scatter_png(
    path: &Path,
    title: &str,
    xy: &[f32],
    groups: &[u32],
    names: &[String],
    size: (u32, u32),
) -> Result<()> {
    let fig = scatter(title, xy, groups, names, size)?;
    crate::output::write_file(path, &fig.png)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    xy: &[f32],
    groups: &[u32],
    names: &[String],
) -> Result<()> {
    let (mut x0, mut x1, mut y0, mut y1) = (f32::INFINITY, f32::NEG_INFINITY, f32::INFINITY, f32::NEG_INFINITY);
    for p in xy.chunks_exact(2) {
        (x0, x1, y0, y1) = (x0.min(p[0]), x1.max(p[0]), y0.min(p[1]), y1.max(p[1]));
    }
    let pad = |a: f32, b: f32| ((b - a) * 0.03).max(1e-3);
    let (px, py) = (pad(x0, x1), pad(y0, y1));
    root.fill(&WHITE).map_err(draw_err)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 22))
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(40)
        .build_cartesian_2d((x0 - px)..(x1 + px), (y0 - py)..(y1 + py))
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .label_style((FONT, 12))
        .draw()
        .map_err(draw_err)?;
    let mut ids: Vec<u32> = groups.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let radius = if groups.len() > 2000 { 2 } else { 3 };
    for &g in &ids {
        let c = color(g);
        let pts = xy
            .chunks_exact(2)
            .zip(groups)
            .filter(|&(_, &gi)| gi == g)
            .map(|(p, _)| Circle::new((p[0], p[1]), radius, c.mix(0.75).filled()));
        let label = names.get(g as usize).cloned().unwrap_or_else(|| g.to_string());
        chart
            .draw_series(pts)
            .map_err(draw_err)?
            .label(label)
            .legend(move |(x, y)| Circle::new((x, y), 4, c.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight, 13)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_png_with_the_requested_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.png");
        let xy: Vec<f32> = (0..40).map(|i| (i as f32 * 0.37).sin()).collect();
        let groups: Vec<u32> = (0..20).map(|i| i % 3).collect();
        let names = vec!["zero".to_string(), "one".into(), "two".into()];
        scatter_png(&path, "test", &xy, &groups, &names, (320, 240)).unwrap();
        let img = image::open(&path).unwrap();
        assert_eq!((img.width(), img.height()), (320, 240));
        assert!(scatter_png(&path, "bad", &xy[..10], &groups, &names, (320, 240)).is_err());
        let fig = scatter("svg too", &xy, &groups, &names, (320, 240)).unwrap();
        assert!(fig.svg.starts_with("<svg") && fig.svg.contains("svg too") && fig.svg.contains("zero"));
    }
}
