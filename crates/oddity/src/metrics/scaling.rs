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

/// The error function, to about 1e-15 relative: a positive-term series below 2, the continued
/// fraction of `erfc` above (no cancellation in either).
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return -erf(-x);
    }
    let two_over_sqrt_pi = std::f64::consts::FRAC_2_SQRT_PI;
    if x < 2.0 {
        // erf(x) = 2/√π · e^(−x²) · Σ (2x²)^n x / (1·3·…·(2n+1))
        let (mut term, mut sum, mut n) = (x, x, 0.0);
        while term > sum * 1e-17 {
            n += 1.0;
            term *= 2.0 * x * x / (2.0 * n + 1.0);
            sum += term;
        }
        return two_over_sqrt_pi * (-x * x).exp() * sum;
    }
    if x > 6.0 {
        return 1.0;
    }
    // erfc(x) = e^(−x²) / (√π · (x + (1/2)/(x + 1/(x + (3/2)/(x + …)))))
    let mut fraction = x;
    for k in (1..=80).rev() {
        fraction = x + f64::from(k) / 2.0 / fraction;
    }
    1.0 - two_over_sqrt_pi / 2.0 * (-x * x).exp() / fraction
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        // math.erf in Python (C's erf).
        for (x, want) in [
            (0.0, 0.0),
            (0.1, 0.1124629160182849),
            (0.5, 0.5204998778130465),
            (1.0, 0.8427007929497149),
            (1.9, 0.9927904292352575),
            (2.0, 0.9953222650189527),
            (2.5, 0.999593047982555),
            (3.0, 0.9999779095030014),
            (-1.0, -0.8427007929497149),
            (7.0, 1.0),
        ] {
            assert!(
                (erf(x) - want).abs() <= 1e-15 * want.abs().max(1e-300),
                "erf({x}) = {}",
                erf(x)
            );
        }
        assert!(erf(f64::NAN).is_nan());
        assert_eq!(erf(f64::INFINITY), 1.0);
    }

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
