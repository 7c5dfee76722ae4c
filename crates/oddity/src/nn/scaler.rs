//! Per-feature affine scaling `(x − offset) / scale` — z-scores or min-max — fitted on training
//! data and stored with the model.

use serde::{Deserialize, Serialize};

/// `(x − mean) / std` per feature. [`Standardizer::fit`] gives z-scores (a constant feature gets
/// std 1, as scikit-learn's StandardScaler); [`Standardizer::fit_min_max`] maps the training range
/// to [0, 1] (`mean` = min, `std` = max − min, 1 for a constant feature).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Standardizer {
    /// Fits on `x` `[n × d]` (population std, like scikit-learn).
    pub fn fit(x: &[f32], n: usize, d: usize) -> Self {
        let mut mean = vec![0f64; d];
        for row in x.chunks_exact(d).take(n) {
            mean.iter_mut().zip(row).for_each(|(m, &v)| *m += v as f64);
        }
        mean.iter_mut().for_each(|m| *m /= n.max(1) as f64);
        let mut var = vec![0f64; d];
        for row in x.chunks_exact(d).take(n) {
            var.iter_mut()
                .zip(row)
                .zip(&mean)
                .for_each(|((s, &v), m)| *s += (v as f64 - m).powi(2));
        }
        let std = var
            .iter()
            .map(|s| {
                let sd = (s / n.max(1) as f64).sqrt();
                if sd > 1e-12 { sd as f32 } else { 1.0 }
            })
            .collect();
        Standardizer {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            std,
        }
    }

    /// Min-max scaling to [0, 1] over `x` `[n × d]`.
    pub fn fit_min_max(x: &[f32], n: usize, d: usize) -> Self {
        let mut lo = vec![f32::INFINITY; d];
        let mut hi = vec![f32::NEG_INFINITY; d];
        for row in x.chunks_exact(d).take(n) {
            for (j, &v) in row.iter().enumerate() {
                lo[j] = lo[j].min(v);
                hi[j] = hi[j].max(v);
            }
        }
        let std = lo
            .iter()
            .zip(&hi)
            .map(|(l, h)| if h - l > 0.0 { h - l } else { 1.0 })
            .collect();
        let mean = lo.into_iter().map(|l| if l.is_finite() { l } else { 0.0 }).collect();
        Standardizer { mean, std }
    }

    /// No scaling: offset 0, scale 1.
    pub fn identity(d: usize) -> Self {
        Standardizer {
            mean: vec![0.0; d],
            std: vec![1.0; d],
        }
    }

    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Standardised copy of `x` `[n × d]`.
    pub fn transform(&self, x: &[f32]) -> Vec<f32> {
        let d = self.dim();
        let mut out = x.to_vec();
        for row in out.chunks_exact_mut(d) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = (*v - m) / s;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_mean_unit_variance_and_constant_columns() {
        let x = [1.0, 5.0, 3.0, 5.0, 5.0, 5.0];
        let s = Standardizer::fit(&x, 3, 2);
        assert_eq!(s.std[1], 1.0);
        let t = s.transform(&x);
        let col0: Vec<f32> = t.iter().step_by(2).copied().collect();
        assert!(col0.iter().sum::<f32>().abs() < 1e-6);
        let var = col0.iter().map(|v| v * v).sum::<f32>() / 3.0;
        assert!((var - 1.0).abs() < 1e-5);
        assert!(t.iter().skip(1).step_by(2).all(|&v| v == 0.0));
    }

    #[test]
    fn min_max_maps_the_training_range_to_unit_interval() {
        let x = [1.0, 5.0, 3.0, 5.0, 2.0, 5.0];
        let s = Standardizer::fit_min_max(&x, 3, 2);
        assert_eq!(s.transform(&x), vec![0.0, 0.0, 1.0, 0.0, 0.5, 0.0]);
        assert_eq!(Standardizer::identity(2).transform(&x), x.to_vec());
    }
}
