//! Line charts of training curves: one line per run (model, seed) over steps (epochs, episodes).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::scatter::color;
use super::{FONT, Figure, draw_err, figure, legend};
use crate::error::{Error, Result};

/// One chart, a line per `(legend label, steps, values)`; `x_desc` names the step unit.
pub fn line_chart(
    title: &str,
    x_desc: &str,
    lines: &[(String, Vec<u64>, Vec<f64>)],
    size: (u32, u32),
) -> Result<Figure> {
    let pts: Vec<(f64, f64)> = lines
        .iter()
        .flat_map(|(_, s, v)| s.iter().zip(v).map(|(&s, &v)| (s as f64, v)))
        .filter(|p| p.1.is_finite())
        .collect();
    if pts.is_empty() {
        return Err(Error::InvalidData(format!("line chart `{title}`: no finite points")));
    }
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in &pts {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let pad = ((y1 - y0) * 0.05).max(1e-6);
    figure!(size, |root| draw(
        root,
        title,
        x_desc,
        lines,
        (x0, x1, y0 - pad, y1 + pad)
    ))
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    lines: &[(String, Vec<u64>, Vec<f64>)],
    (x0, x1, y0, y1): (f64, f64, f64, f64),
) -> Result<()> {
    root.fill(&WHITE).map_err(draw_err)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 14))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(draw_err)?;
    for (i, (label, steps, values)) in lines.iter().enumerate() {
        let c = color(i as u32);
        let pts = steps
            .iter()
            .zip(values)
            .filter(|(_, v)| v.is_finite())
            .map(|(&s, &v)| (s as f64, v));
        chart
            .draw_series(LineSeries::new(pts, c.stroke_width(2)))
            .map_err(draw_err)?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], c.stroke_width(2)));
    }
    if lines.len() > 1 || !lines.iter().all(|l| l.0.is_empty()) {
        legend(&mut chart, SeriesLabelPosition::UpperRight, 12)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_every_line_and_rejects_an_empty_chart() {
        let lines = vec![
            ("seed 0".to_string(), vec![1, 2, 3], vec![1.0, 0.5, 0.25]),
            ("seed 1".to_string(), vec![1, 2, 3], vec![1.1, 0.6, f64::NAN]),
        ];
        let fig = line_chart("loss", "epoch", &lines, (300, 200)).unwrap();
        assert!(fig.svg.contains("seed 0") && fig.svg.contains("seed 1") && fig.svg.contains("epoch"));
        let empty = vec![("x".to_string(), vec![1], vec![f64::NAN])];
        assert!(line_chart("loss", "epoch", &empty, (300, 200)).is_err());
    }
}
