//! Score scaling.

/// Min–max scaling to `[0, 1]`: `(s − min) / (max − min)`, computed in `f64`.
///
/// A constant vector (`max == min`) maps to **all zeros** rather than NaN; an empty slice gives an empty vector.
/// Scores are expected to be finite: NaN entries are ignored when finding min/max and stay NaN; if an infinity
/// is present the result is not meaningful.
pub fn min_max_scale(scores: &[f32]) -> Vec<f32> {
    let (lo, hi) = scores
        .iter()
        .filter(|s| !s.is_nan())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &s| {
            (lo.min(f64::from(s)), hi.max(f64::from(s)))
        });
    let range = hi - lo;
    scores
        .iter()
        .map(|&s| {
            if s.is_nan() {
                f32::NAN
            } else if range > 0.0 {
                ((f64::from(s) - lo) / range) as f32
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_to_unit_interval() {
        assert_eq!(min_max_scale(&[2.0, 4.0, 3.0, 6.0]), vec![0.0, 0.5, 0.25, 1.0]);
        assert_eq!(min_max_scale(&[-1.0, 1.0]), vec![0.0, 1.0]);
    }

    #[test]
    fn constant_vector_maps_to_zeros() {
        assert_eq!(min_max_scale(&[7.5, 7.5, 7.5]), vec![0.0, 0.0, 0.0]);
        assert_eq!(min_max_scale(&[3.0]), vec![0.0]);
        assert!(min_max_scale(&[]).is_empty());
    }

    #[test]
    fn extreme_range_does_not_overflow() {
        // max − min overflows f32 but not f64.
        assert_eq!(min_max_scale(&[-f32::MAX, 0.0, f32::MAX]), vec![0.0, 0.5, 1.0]);
    }

    #[test]
    fn nan_is_ignored_and_kept() {
        let out = min_max_scale(&[1.0, f32::NAN, 3.0]);
        assert_eq!(out[0], 0.0);
        assert!(out[1].is_nan());
        assert_eq!(out[2], 1.0);
    }
}
