//! Score histograms: normal and anomalous samples as two overlaid distributions (each normalised
//! to its own count, since anomalies are rare), with the fitted threshold marked.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::scatter::color;
use super::{FONT, Figure, draw_err, figure, legend};
use crate::error::{Error, Result};

/// Number of bins over the score range.
pub const BINS: usize = 40;

/// Fraction of each group's scores per bin over `[lo, hi]`: `(edges, normal, anomalous)`.
pub fn binned(scores: &[f32], anomaly: &[bool], lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let width = ((hi - lo) / BINS as f64).max(f64::MIN_POSITIVE);
    let edges: Vec<f64> = (0..=BINS).map(|i| lo + width * i as f64).collect();
    let (mut normal, mut anom) = (vec![0.0; BINS], vec![0.0; BINS]);
    for (&s, &a) in scores.iter().zip(anomaly) {
        let b = (((s as f64 - lo) / width) as usize).min(BINS - 1);
        if a { anom[b] += 1.0 } else { normal[b] += 1.0 }
    }
    for v in [&mut normal, &mut anom] {
        let total: f64 = v.iter().sum();
        if total > 0.0 {
            v.iter_mut().for_each(|c| *c /= total);
        }
    }
    (edges, normal, anom)
}

/// A histogram of `scores` split by `anomaly`, with a vertical line at `threshold`.
pub fn score_histogram(
    title: &str,
    scores: &[f32],
    anomaly: &[bool],
    threshold: f32,
    size: (u32, u32),
) -> Result<Figure> {
    if scores.len() != anomaly.len() || scores.is_empty() {
        return Err(Error::shape(
            "score histogram: labels",
            format!("{}, one per score (at least one)", scores.len()),
            anomaly.len(),
        ));
    }
    let finite = scores.iter().copied().filter(|s| s.is_finite());
    let (mut lo, mut hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), s| {
        (a.min(s as f64), b.max(s as f64))
    });
    if !lo.is_finite() {
        return Err(Error::InvalidData("score histogram: no finite scores".into()));
    }
    if threshold.is_finite() {
        (lo, hi) = (lo.min(threshold as f64), hi.max(threshold as f64));
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    let (edges, normal, anom) = binned(scores, anomaly, lo, hi);
    figure!(size, |root| draw(root, title, &edges, &normal, &anom, threshold as f64))
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    edges: &[f64],
    normal: &[f64],
    anom: &[f64],
    threshold: f64,
) -> Result<()> {
    let top = normal.iter().chain(anom).copied().fold(0.0, f64::max).max(1e-9) * 1.08;
    let (lo, hi) = (edges[0], edges[edges.len() - 1]);
    root.fill(&WHITE).map_err(draw_err)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(lo..hi, 0f64..top)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .x_desc("anomaly score")
        .y_desc("fraction of the group")
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 14))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(draw_err)?;
    for (name, counts, c) in [("normal", normal, color(0)), ("anomalous", anom, color(3))] {
        let bars = counts
            .iter()
            .enumerate()
            .filter(|(_, v)| **v > 0.0)
            .map(|(i, &v)| Rectangle::new([(edges[i], 0.0), (edges[i + 1], v)], c.mix(0.45).filled()));
        chart
            .draw_series(bars)
            .map_err(draw_err)?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], c.mix(0.45).filled()));
    }
    if threshold.is_finite() {
        chart
            .draw_series(LineSeries::new(
                [(threshold, 0.0), (threshold, top)],
                BLACK.stroke_width(2),
            ))
            .map_err(draw_err)?
            .label(format!("threshold {threshold:.4}"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], BLACK.stroke_width(2)));
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight, 13)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_group_sums_to_one_and_lands_in_its_bin() {
        let scores = [0.0, 0.1, 0.99, 1.0, 0.5];
        let anomaly = [false, false, true, true, false];
        let (edges, n, a) = binned(&scores, &anomaly, 0.0, 1.0);
        assert_eq!(edges.len(), BINS + 1);
        assert!((n.iter().sum::<f64>() - 1.0).abs() < 1e-12 && (a.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(a[BINS - 1], 1.0, "0.99 and the maximum 1.0 share the last bin");
        assert!((n[0] - 1.0 / 3.0).abs() < 1e-12 && (n[BINS / 2] - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn marks_the_threshold_and_rejects_mismatched_input() {
        let fig = score_histogram("h", &[0.1, 0.2, 0.9], &[false, false, true], 0.5, (300, 200)).unwrap();
        assert!(fig.svg.contains("threshold 0.5000"));
        assert!(score_histogram("h", &[0.1], &[false, true], 0.5, (300, 200)).is_err());
    }
}
