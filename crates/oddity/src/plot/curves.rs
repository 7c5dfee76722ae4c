//! ROC and precision–recall curves of several models on the same axes, AUC in the legend.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::scatter::color;
use super::{FONT, Figure, draw_err, figure, legend};
use crate::error::Result;
use crate::metrics::Curve;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurveKind {
    /// False-positive rate → true-positive rate, joined by straight lines (trapezoids).
    Roc,
    /// Recall → precision, drawn as steps: precision Pₙ holds from recall Rₙ₋₁ to Rₙ, so the area
    /// under the drawn line is the average precision `Σ (Rₙ − Rₙ₋₁) Pₙ`.
    Pr,
}

/// The polyline drawn for `curve`, in increasing `x`; its trapezoid area is ROC-AUC ([`CurveKind::Roc`])
/// or average precision ([`CurveKind::Pr`]).
pub fn plotted_points(kind: CurveKind, curve: &Curve) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = curve.x.iter().copied().zip(curve.y.iter().copied()).collect();
    match kind {
        CurveKind::Roc => pts,
        CurveKind::Pr => {
            // pr_curve runs from the lowest threshold (recall 1) to the point (0, 1).
            pts.reverse();
            let mut out = Vec::with_capacity(pts.len() * 2);
            let mut prev_x = 0.0;
            for (i, &(x, y)) in pts.iter().enumerate() {
                if i == 0 {
                    out.push((x, y));
                    continue;
                }
                out.push((prev_x, y));
                out.push((x, y));
                prev_x = x;
            }
            out
        }
    }
}

/// Area under a polyline by the trapezoid rule.
pub fn trapezoid(points: &[(f64, f64)]) -> f64 {
    points
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
        .sum()
}

/// One chart with a line per `(legend label, curve)`.
pub fn ranking_curves(kind: CurveKind, title: &str, curves: &[(String, Curve)], size: (u32, u32)) -> Result<Figure> {
    let lines: Vec<(String, Vec<(f64, f64)>)> = curves
        .iter()
        .map(|(label, c)| (label.clone(), plotted_points(kind, c)))
        .collect();
    figure!(size, |root| draw(root, kind, title, &lines))
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    kind: CurveKind,
    title: &str,
    lines: &[(String, Vec<(f64, f64)>)],
) -> Result<()> {
    let (xl, yl) = match kind {
        CurveKind::Roc => ("false-positive rate", "true-positive rate"),
        CurveKind::Pr => ("recall", "precision"),
    };
    root.fill(&WHITE).map_err(draw_err)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..1f64, 0f64..1.02f64)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .x_desc(xl)
        .y_desc(yl)
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 14))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(draw_err)?;
    if kind == CurveKind::Roc {
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.3)))
            .map_err(draw_err)?;
    }
    for (i, (label, pts)) in lines.iter().enumerate() {
        let c = color(i as u32);
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
            .map_err(draw_err)?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], c.stroke_width(2)));
    }
    legend(
        &mut chart,
        match kind {
            CurveKind::Roc => SeriesLabelPosition::LowerRight,
            CurveKind::Pr => SeriesLabelPosition::UpperRight,
        },
        13,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{average_precision, pr_curve, roc_auc, roc_curve};
    use rand::{Rng, SeedableRng};

    /// Seeded scores with ties and overlap between the classes.
    fn sample(n: usize, seed: u64) -> (Vec<bool>, Vec<f32>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let labels: Vec<bool> = (0..n).map(|_| rng.random_bool(0.2)).collect();
        let scores = labels
            .iter()
            .map(|&a| ((rng.random::<f32>() + if a { 0.4 } else { 0.0 }) * 20.0).round() / 20.0)
            .collect();
        (labels, scores)
    }

    #[test]
    fn area_under_the_drawn_roc_line_is_roc_auc() {
        for seed in 0..5 {
            let (l, s) = sample(500, seed);
            let pts = plotted_points(CurveKind::Roc, &roc_curve(&l, &s).unwrap());
            assert!(
                (trapezoid(&pts) - roc_auc(&l, &s).unwrap()).abs() < 1e-12,
                "seed {seed}"
            );
        }
    }

    #[test]
    fn area_under_the_drawn_pr_steps_is_average_precision() {
        for seed in 0..5 {
            let (l, s) = sample(500, seed);
            let pts = plotted_points(CurveKind::Pr, &pr_curve(&l, &s).unwrap());
            assert!(pts.windows(2).all(|w| w[1].0 >= w[0].0), "x increases");
            assert!(
                (trapezoid(&pts) - average_precision(&l, &s).unwrap()).abs() < 1e-12,
                "seed {seed}"
            );
        }
    }

    #[test]
    fn chart_has_both_formats_and_the_legend() {
        let (l, s) = sample(200, 9);
        let c = roc_curve(&l, &s).unwrap();
        let fig = ranking_curves(CurveKind::Roc, "ROC", &[("model A (AUC 0.8)".into(), c)], (400, 300)).unwrap();
        assert_eq!(&fig.png[1..4], b"PNG");
        assert!(fig.svg.contains("model A (AUC 0.8)"));
    }
}
