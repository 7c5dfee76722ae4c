//! 2-D t-SNE of an embedding, for pictures: the Barnes-Hut t-SNE of the `bhtsne` crate (θ = 0.5,
//! 1,000 iterations, early exaggeration 12 for 250 iterations, learning rate
//! max(n / 12 / 4, 50), as scikit-learn's `TSNE` defaults), on a seeded random subsample.
//!
//! The initial layout is drawn here from the seed (N(0, 10⁻⁴), as the crate's own random
//! initialisation but seeded), so the same seed gives the same picture.

use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};

/// Default perplexity: scikit-learn's `TSNE(perplexity=30)`.
pub const PERPLEXITY: f32 = 30.0;
/// Default subsample size for t-SNE pictures.
pub const DEFAULT_SAMPLES: usize = 5000;

/// `min(max_samples, n)` sample indices drawn without replacement with `seed`, in increasing order.
pub fn subsample(n: usize, max_samples: usize, seed: u64) -> Vec<usize> {
    if max_samples >= n {
        return (0..n).collect();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut idx = sample(&mut rng, n, max_samples).into_vec();
    idx.sort_unstable();
    idx
}

/// Barnes-Hut t-SNE of `n × d` points `x` to 2-D; returns `n × 2` coordinates. The perplexity is
/// lowered to (n − 1) / 3 for small `n` (the crate needs 3·perplexity neighbours).
pub fn tsne_2d(x: &[f32], d: usize, perplexity: f32, seed: u64) -> Result<Vec<f32>> {
    if d == 0 || !x.len().is_multiple_of(d) {
        return Err(Error::shape(
            "t-SNE: input",
            format!("rows of {d} values"),
            format!("{} values", x.len()),
        ));
    }
    let n = x.len() / d;
    if n < 5 {
        return Err(Error::InvalidData(format!("t-SNE needs at least 5 points, got {n}")));
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite {
            context: "t-SNE input".into(),
            row: i / d,
            col: i % d,
            value: x[i] as f64,
        });
    }
    if !(perplexity.is_finite() && perplexity > 0.0) {
        return Err(Error::config("perplexity", format!("must be > 0, got {perplexity}")));
    }
    let perplexity = perplexity.min(((n - 1) / 3) as f32).max(1.0);
    let rows: Vec<&[f32]> = x.chunks_exact(d).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let init: Vec<f32> = (0..n * 2)
        .map(|_| {
            // Box–Muller, N(0, 1e-4²)
            let u1: f64 = 1.0 - rng.random::<f64>();
            let u2: f64 = rng.random();
            (1e-4 * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
        })
        .collect();
    let mut tsne = bhtsne::tSNE::<f32, &[f32], 2>::new(&rows);
    tsne.perplexity(perplexity)
        .epochs(1000)
        .initial_embedding(init)
        .barnes_hut(0.5, |a, b| {
            a.iter()
                .zip(b.iter())
                .map(|(p, q)| (p - q) * (p - q))
                .sum::<f32>()
                .sqrt()
        });
    Ok(tsne.embedding())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_two_blobs_and_is_seeded() {
        let mut x = Vec::new();
        for i in 0..60 {
            let c = if i < 30 { 0.0 } else { 20.0 };
            x.extend([
                c + (i as f32 * 0.7).sin(),
                c + (i as f32 * 1.3).cos(),
                (i as f32 * 0.1).sin(),
            ]);
        }
        let y = tsne_2d(&x, 3, 10.0, 3).unwrap();
        assert_eq!(y.len(), 120);
        let mean = |r: std::ops::Range<usize>| {
            let m = r.len() as f32;
            r.fold((0.0, 0.0), |(a, b), i| (a + y[2 * i] / m, b + y[2 * i + 1] / m))
        };
        let (a, b) = (mean(0..30), mean(30..60));
        let gap = ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
        let spread = (0..30)
            .map(|i| ((y[2 * i] - a.0).powi(2) + (y[2 * i + 1] - a.1).powi(2)).sqrt())
            .fold(0.0f32, f32::max);
        assert!(gap > spread, "blobs overlap: gap {gap}, spread {spread}");
        assert_eq!(subsample(10, 20, 1).len(), 10);
        let s = subsample(100, 10, 1);
        assert_eq!((s.len(), s.clone()), (10, subsample(100, 10, 1)));
        assert!(tsne_2d(&x[..12], 3, 30.0, 0).is_err());
    }
}
