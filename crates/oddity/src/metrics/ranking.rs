//! Ranking metrics for anomaly scores: ROC-AUC, average precision and their curves.
//!
//! `labels[i] == true` marks a positive (anomaly); a higher score means "more anomalous". All four functions
//! sort once (O(n log n)) and group tied scores into one threshold, exactly as scikit-learn's
//! `_binary_clf_curve` does, so results equal sklearn's up to floating-point rounding.
//!
//! Unlike sklearn, every function here needs both classes present: sklearn raises for ROC-AUC but only warns
//! (and returns NaN curves or a degenerate AP) otherwise; we return [`Error::InvalidData`] instead.

use serde::Serialize;

use crate::error::{Error, Result};

/// Points of a ROC or precision–recall curve, in scikit-learn's order, for plotting.
///
/// `x`, `y` and `thresholds` always have the same length. A sample counts as predicted positive at a point
/// when `score >= threshold`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Curve {
    /// False-positive rate ([`roc_curve`]) or recall ([`pr_curve`]).
    pub x: Vec<f64>,
    /// True-positive rate ([`roc_curve`]) or precision ([`pr_curve`]).
    pub y: Vec<f64>,
    /// The score threshold of each point; `+inf` marks the "nothing predicted positive" point.
    pub thresholds: Vec<f32>,
}

impl Curve {
    /// Area under the points by the trapezoid rule (for a ROC curve this equals [`roc_auc`]).
    pub fn trapezoid_area(&self) -> f64 {
        self.x
            .windows(2)
            .zip(self.y.windows(2))
            .map(|(x, y)| (x[1] - x[0]) * (y[1] + y[0]) / 2.0)
            .sum()
    }
}

/// Cumulative counts after including every sample with `score >= threshold` (descending thresholds).
#[derive(Debug, Clone, Copy)]
struct Step {
    tp: u64,
    fp: u64,
    threshold: f32,
}

/// Validated, sorted input: one [`Step`] per distinct score, plus the class totals.
struct Steps {
    steps: Vec<Step>,
    positives: u64,
    negatives: u64,
}

/// Checks the input and groups it by distinct score, highest first (sklearn's `_binary_clf_curve`).
fn steps(what: &str, labels: &[bool], scores: &[f32]) -> Result<Steps> {
    if labels.len() != scores.len() {
        return Err(Error::shape(
            format!("{what}: scores"),
            format!("{}, one per label", labels.len()),
            scores.len(),
        ));
    }
    if labels.is_empty() {
        return Err(Error::InvalidData(format!("{what}: no samples")));
    }
    if let Some((i, &s)) = scores.iter().enumerate().find(|(_, s)| !s.is_finite()) {
        return Err(Error::NonFinite {
            context: format!("{what} scores"),
            row: i,
            col: 0,
            value: f64::from(s),
        });
    }
    let positives = labels.iter().filter(|&&l| l).count() as u64;
    let negatives = labels.len() as u64 - positives;
    if positives == 0 || negatives == 0 {
        let only = if positives == 0 { "negatives" } else { "positives" };
        return Err(Error::InvalidData(format!(
            "{what}: labels contain only {only}; both classes are needed"
        )));
    }

    // `+ 0.0` turns -0.0 into +0.0 so that total_cmp treats them as the tie they are.
    let mut pairs: Vec<(f32, bool)> = scores.iter().map(|&s| s + 0.0).zip(labels.iter().copied()).collect();
    pairs.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));

    let mut steps = Vec::new();
    let (mut tp, mut fp) = (0u64, 0u64);
    for (i, &(score, label)) in pairs.iter().enumerate() {
        if label {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_group = pairs.get(i + 1).is_none_or(|next| next.0 != score);
        if last_of_group {
            steps.push(Step {
                tp,
                fp,
                threshold: score,
            });
        }
    }
    Ok(Steps {
        steps,
        positives,
        negatives,
    })
}

/// Area under the ROC curve, equal to `sklearn.metrics.roc_auc_score`.
///
/// Computed in the Mann–Whitney form — the probability that a random positive scores above a random
/// negative, ties counting one half (average ranks) — with exact integer arithmetic and one final division.
///
/// # Errors
/// [`Error::Shape`] on a length mismatch, [`Error::InvalidData`] on empty input or a single class,
/// [`Error::NonFinite`] on a NaN/infinite score (its index is the error's `row`).
pub fn roc_auc(labels: &[bool], scores: &[f32]) -> Result<f64> {
    let s = steps("roc_auc", labels, scores)?;
    // 2·U = Σ over tie groups of dp · (2 · #negatives strictly below + dn).
    let (mut twice_u, mut prev_tp, mut prev_fp) = (0u128, 0u64, 0u64);
    for step in &s.steps {
        let (dp, dn) = (step.tp - prev_tp, step.fp - prev_fp);
        let below = s.negatives - step.fp;
        twice_u += u128::from(dp) * (2 * u128::from(below) + u128::from(dn));
        (prev_tp, prev_fp) = (step.tp, step.fp);
    }
    let denom = 2 * u128::from(s.positives) * u128::from(s.negatives);
    Ok(twice_u as f64 / denom as f64)
}

/// Average precision, equal to `sklearn.metrics.average_precision_score`: the step sum
/// `Σₙ (Rₙ − Rₙ₋₁) · Pₙ` over distinct score thresholds (tied scores form one threshold), without
/// interpolation.
///
/// # Errors
/// As [`roc_auc`]. With a single class sklearn only warns (returning 0 or 1); this returns
/// [`Error::InvalidData`].
pub fn average_precision(labels: &[bool], scores: &[f32]) -> Result<f64> {
    let s = steps("average_precision", labels, scores)?;
    let total = s.positives as f64;
    let (mut ap, mut prev_recall) = (0.0f64, 0.0f64);
    for step in &s.steps {
        let recall = step.tp as f64 / total;
        let precision = step.tp as f64 / (step.tp + step.fp) as f64;
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
    }
    Ok(ap.max(0.0))
}

/// The ROC curve as `sklearn.metrics.roc_curve(..., drop_intermediate=False)`: one point per distinct score
/// (highest first), preceded by `(0, 0)` at threshold `+inf`; `x` = false-positive rate, `y` = true-positive
/// rate. The trapezoid area under it equals [`roc_auc`].
///
/// # Errors
/// As [`roc_auc`] (sklearn warns and returns NaN rates for a single class).
pub fn roc_curve(labels: &[bool], scores: &[f32]) -> Result<Curve> {
    let s = steps("roc_curve", labels, scores)?;
    let (p, n) = (s.positives as f64, s.negatives as f64);
    let mut curve = Curve {
        x: Vec::with_capacity(s.steps.len() + 1),
        y: Vec::with_capacity(s.steps.len() + 1),
        thresholds: Vec::with_capacity(s.steps.len() + 1),
    };
    curve.x.push(0.0);
    curve.y.push(0.0);
    curve.thresholds.push(f32::INFINITY);
    for step in &s.steps {
        curve.x.push(step.fp as f64 / n);
        curve.y.push(step.tp as f64 / p);
        curve.thresholds.push(step.threshold);
    }
    Ok(curve)
}

/// The precision–recall curve as `sklearn.metrics.precision_recall_curve`: one point per distinct score in
/// increasing threshold order (so recall decreases), then the final point recall 0, precision 1; `x` =
/// recall, `y` = precision.
///
/// sklearn gives that final point no threshold (its `thresholds` is one shorter); here it gets `+inf` so all
/// three vectors have the same length.
///
/// # Errors
/// As [`roc_auc`] (sklearn accepts all-positive labels and warns on all-negative ones).
pub fn pr_curve(labels: &[bool], scores: &[f32]) -> Result<Curve> {
    let s = steps("pr_curve", labels, scores)?;
    let total = s.positives as f64;
    let mut curve = Curve {
        x: Vec::with_capacity(s.steps.len() + 1),
        y: Vec::with_capacity(s.steps.len() + 1),
        thresholds: Vec::with_capacity(s.steps.len() + 1),
    };
    for step in s.steps.iter().rev() {
        curve.x.push(step.tp as f64 / total);
        curve.y.push(step.tp as f64 / (step.tp + step.fp) as f64);
        curve.thresholds.push(step.threshold);
    }
    curve.x.push(0.0);
    curve.y.push(1.0);
    curve.thresholds.push(f32::INFINITY);
    Ok(curve)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: bool = true;
    const F: bool = false;

    #[test]
    fn auc_perfect_reversed_and_tied() {
        let labels = [F, F, T, T];
        assert_eq!(roc_auc(&labels, &[0.1, 0.2, 0.8, 0.9]).unwrap(), 1.0);
        assert_eq!(roc_auc(&labels, &[0.9, 0.8, 0.2, 0.1]).unwrap(), 0.0);
        assert_eq!(roc_auc(&labels, &[0.5; 4]).unwrap(), 0.5);
    }

    #[test]
    fn auc_by_hand_with_tie() {
        // Pairs (pos, neg): pos 0.8 beats negs 0.1, 0.4 and ties 0.8 → 2.5; pos 0.35 beats 0.1 → 1. Total 3.5 / 6.
        let labels = [F, T, F, T, F];
        let scores = [0.1, 0.35, 0.4, 0.8, 0.8];
        assert!((roc_auc(&labels, &scores).unwrap() - 3.5 / 6.0).abs() < 1e-15);
    }

    #[test]
    fn negative_zero_ties_with_zero() {
        // One positive at -0.0, one negative at +0.0: a tie, so AUC 0.5 (not 0 or 1).
        assert_eq!(roc_auc(&[T, F], &[-0.0, 0.0]).unwrap(), 0.5);
        assert_eq!(roc_curve(&[T, F], &[-0.0, 0.0]).unwrap().x.len(), 2);
    }

    #[test]
    fn ap_by_hand() {
        // Descending: 0.9 T, 0.8 F, 0.7 T, 0.1 F → P=1 at R=.5, P=2/3 at R=1 → AP = .5 + .5·2/3.
        let ap = average_precision(&[T, F, T, F], &[0.9, 0.8, 0.7, 0.1]).unwrap();
        assert!((ap - (0.5 + 1.0 / 3.0)).abs() < 1e-15);
        // All tied: one threshold, recall 1 at precision 1/2.
        assert_eq!(average_precision(&[T, F, T, F], &[1.0; 4]).unwrap(), 0.5);
        assert_eq!(average_precision(&[F, T], &[0.0, 1.0]).unwrap(), 1.0);
    }

    #[test]
    fn roc_curve_points_and_area() {
        let labels = [F, T, F, T, F];
        let scores = [0.1, 0.35, 0.4, 0.8, 0.8];
        let c = roc_curve(&labels, &scores).unwrap();
        assert_eq!(c.thresholds, vec![f32::INFINITY, 0.8, 0.4, 0.35, 0.1]);
        assert_eq!(c.x, vec![0.0, 1.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0, 1.0]);
        assert_eq!(c.y, vec![0.0, 0.5, 0.5, 1.0, 1.0]);
        assert!((c.trapezoid_area() - roc_auc(&labels, &scores).unwrap()).abs() < 1e-15);
    }

    #[test]
    fn pr_curve_points() {
        let c = pr_curve(&[T, F, T, F], &[0.9, 0.8, 0.7, 0.1]).unwrap();
        assert_eq!(c.thresholds, vec![0.1, 0.7, 0.8, 0.9, f32::INFINITY]);
        assert_eq!(c.x, vec![1.0, 1.0, 0.5, 0.5, 0.0]);
        assert_eq!(c.y, vec![0.5, 2.0 / 3.0, 0.5, 1.0, 1.0]);
    }

    #[test]
    fn rejects_length_mismatch() {
        assert!(matches!(roc_auc(&[T, F], &[1.0]), Err(Error::Shape { .. })));
        assert!(matches!(pr_curve(&[T], &[1.0, 2.0]), Err(Error::Shape { .. })));
    }

    #[test]
    fn rejects_empty() {
        assert!(matches!(average_precision(&[], &[]), Err(Error::InvalidData(_))));
    }

    #[test]
    fn rejects_non_finite_naming_index() {
        let err = roc_auc(&[T, F, T], &[0.1, f32::NAN, 0.3]).unwrap_err();
        assert!(matches!(err, Error::NonFinite { row: 1, .. }), "{err}");
        let err = roc_curve(&[T, F, T], &[0.1, 0.2, f32::NEG_INFINITY]).unwrap_err();
        assert!(matches!(err, Error::NonFinite { row: 2, .. }), "{err}");
    }

    #[test]
    fn rejects_single_class() {
        for labels in [[T, T, T], [F, F, F]] {
            let scores = [0.1, 0.2, 0.3];
            assert!(matches!(roc_auc(&labels, &scores), Err(Error::InvalidData(_))));
            assert!(matches!(
                average_precision(&labels, &scores),
                Err(Error::InvalidData(_))
            ));
            assert!(matches!(roc_curve(&labels, &scores), Err(Error::InvalidData(_))));
            assert!(matches!(pr_curve(&labels, &scores), Err(Error::InvalidData(_))));
        }
    }
}
