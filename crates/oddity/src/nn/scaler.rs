//! Per-feature standardisation (z-scores), fitted on training data and stored with the model.

use serde::{Deserialize, Serialize};

/// `(x − mean) / std` per feature; a constant feature gets std 1 (scikit-learn's StandardScaler).
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
}
