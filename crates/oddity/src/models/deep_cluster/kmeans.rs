//! Seeded k-means (Lloyd) with greedy k-means++ seeding and restarts, as scikit-learn's `KMeans`
//! that DEC / IDEC / DCEC call (`KMeans(n_clusters, n_init=20)`).
//!
//! Written here rather than taken from a crate: linfa-clustering would bring ndarray and the linfa
//! stack for ~150 lines of code, and we need a fixed seed stream per restart (so the result does
//! not depend on the thread count) and f32 embeddings in a flat buffer, which is what we have.
//!
//! Follows scikit-learn: greedy k-means++ (2 + ⌊ln k⌋ candidates per centre, keep the one that
//! lowers the potential most); Lloyd iterations until the squared centre shift is at most
//! `1e-4 · mean per-feature variance` or `max_iter`; an empty cluster is moved to the sample
//! farthest from its centre; the restart with the lowest inertia wins (the first on ties).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::progress::{Progress, Silent};

/// scikit-learn's default relative tolerance.
const TOL: f64 = 1e-4;

/// A fitted k-means.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeans {
    /// `k × d` centres, row-major.
    pub centroids: Vec<f32>,
    /// Nearest centre of each sample.
    pub labels: Vec<u32>,
    /// Sum of squared distances to the nearest centre.
    pub inertia: f64,
    pub k: usize,
    pub d: usize,
}

fn sq_dist(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Index of the nearest of the `k` centres and its squared distance.
pub fn nearest(x: &[f32], centroids: &[f32], d: usize) -> (usize, f32) {
    let mut best = (0, f32::INFINITY);
    for (j, c) in centroids.chunks_exact(d).enumerate() {
        let dist = sq_dist(x, c);
        if dist < best.1 {
            best = (j, dist);
        }
    }
    best
}

/// Runs k-means with `n_init` restarts on `n × d` points `x`. Restart `r` draws from its own
/// stream seeded by `(seed, r)`, so the result is the same for any number of threads.
pub fn kmeans(x: &[f32], d: usize, k: usize, n_init: usize, max_iter: usize, seed: u64) -> Result<KMeans> {
    kmeans_with_progress(x, d, k, n_init, max_iter, seed, &Silent)
}

/// [`kmeans`], advancing `progress` by one as each restart begins and per Lloyd iteration, so a
/// cancelling [`Progress`] stops it within one iteration (and skips the restarts not begun: rayon
/// still runs every job after a panic, so each must give up at once).
pub fn kmeans_with_progress(
    x: &[f32],
    d: usize,
    k: usize,
    n_init: usize,
    max_iter: usize,
    seed: u64,
    progress: &dyn Progress,
) -> Result<KMeans> {
    check_points("k-means", x, d, k)?;
    let tol = TOL * mean_variance(x, d);
    let runs: Vec<KMeans> = (0..n_init.max(1))
        .into_par_iter()
        .map(|r| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(r as u64 + 1);
            progress.advance(1);
            let init = kmeans_pp(x, d, k, &mut rng);
            lloyd(x, d, k, init, max_iter, tol, progress)
        })
        .collect();
    runs.into_iter()
        .reduce(|best, r| if r.inertia < best.inertia { r } else { best })
        .ok_or_else(|| Error::Backend("k-means ran no restart".into()))
}

/// The number of `d`-value rows in `x`, or a typed error when they are ragged or fewer than `k`.
pub(super) fn check_points(what: &str, x: &[f32], d: usize, k: usize) -> Result<usize> {
    if d == 0 || x.is_empty() || !x.len().is_multiple_of(d) {
        return Err(Error::shape(
            format!("{what}: input"),
            format!("rows of {d} values"),
            format!("{} values", x.len()),
        ));
    }
    let n = x.len() / d;
    if k == 0 || k > n {
        return Err(Error::config(
            "n_clusters",
            format!("is {k} but there are only {n} samples to cluster"),
        ));
    }
    Ok(n)
}

fn mean_variance(x: &[f32], d: usize) -> f64 {
    let n = (x.len() / d) as f64;
    let mut mean = vec![0f64; d];
    for row in x.chunks_exact(d) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = 0f64;
    for row in x.chunks_exact(d) {
        for (m, &v) in mean.iter().zip(row) {
            var += (v as f64 - m).powi(2);
        }
    }
    var / (n * d as f64)
}

/// Draws an index with probability proportional to `w` (all ≥ 0); uniform if they sum to 0.
fn draw(w: &[f64], total: f64, rng: &mut impl Rng) -> usize {
    if total <= 0.0 {
        return rng.random_range(0..w.len());
    }
    let mut t = rng.random::<f64>() * total;
    for (i, &wi) in w.iter().enumerate() {
        t -= wi;
        if t < 0.0 {
            return i;
        }
    }
    w.iter().rposition(|&wi| wi > 0.0).unwrap_or(w.len() - 1)
}

/// Greedy k-means++ seeding (Arthur & Vassilvitskii 2007, as scikit-learn's `_kmeans_plusplus`).
fn kmeans_pp(x: &[f32], d: usize, k: usize, rng: &mut impl Rng) -> Vec<f32> {
    let n = x.len() / d;
    let row = |i: usize| &x[i * d..(i + 1) * d];
    let trials = 2 + (k as f64).ln().floor() as usize;
    let mut centres = Vec::with_capacity(k * d);
    let first = rng.random_range(0..n);
    centres.extend_from_slice(row(first));
    let mut closest: Vec<f64> = (0..n).map(|i| sq_dist(row(i), row(first)) as f64).collect();
    let mut potential: f64 = closest.iter().sum();
    for _ in 1..k {
        let mut best: Option<(f64, usize, Vec<f64>)> = None;
        for _ in 0..trials {
            let cand = draw(&closest, potential, rng);
            let c = row(cand);
            let updated: Vec<f64> = (0..n)
                .into_par_iter()
                .map(|i| closest[i].min(sq_dist(row(i), c) as f64))
                .collect();
            let pot: f64 = updated.iter().sum();
            if best.as_ref().is_none_or(|(b, _, _)| pot < *b) {
                best = Some((pot, cand, updated));
            }
        }
        if let Some((pot, cand, updated)) = best {
            centres.extend_from_slice(row(cand));
            closest = updated;
            potential = pot;
        }
    }
    centres
}

/// Assigns every sample to its nearest centre: labels and squared distances.
fn assign(x: &[f32], d: usize, centres: &[f32]) -> (Vec<u32>, Vec<f32>) {
    x.par_chunks_exact(d)
        .map(|r| {
            let (j, dist) = nearest(r, centres, d);
            (j as u32, dist)
        })
        .unzip()
}

/// Per-cluster sums (f64, `k × d`) and sizes of the rows of `x` under `labels`.
fn sums_and_counts(x: &[f32], d: usize, labels: &[u32], k: usize) -> (Vec<f64>, Vec<usize>) {
    let mut sums = vec![0f64; k * d];
    let mut counts = vec![0usize; k];
    for (r, &l) in x.chunks_exact(d).zip(labels) {
        let l = l as usize;
        counts[l] += 1;
        for (s, &v) in sums[l * d..(l + 1) * d].iter_mut().zip(r) {
            *s += v as f64;
        }
    }
    (sums, counts)
}

/// Mean of each cluster's rows, `k × d` (an empty cluster's mean is 0).
pub(super) fn means(x: &[f32], d: usize, labels: &[u32], k: usize) -> Vec<f32> {
    let (sums, counts) = sums_and_counts(x, d, labels, k);
    sums.chunks_exact(d)
        .zip(&counts)
        .flat_map(|(s, &c)| s.iter().map(move |v| (v / c.max(1) as f64) as f32))
        .collect()
}

fn lloyd(
    x: &[f32],
    d: usize,
    k: usize,
    mut centres: Vec<f32>,
    max_iter: usize,
    tol: f64,
    progress: &dyn Progress,
) -> KMeans {
    let (mut labels, mut dists) = assign(x, d, &centres);
    for _ in 0..max_iter {
        progress.advance(1);
        let (sums, counts) = sums_and_counts(x, d, &labels, k);
        let mut fresh = vec![0f32; k * d];
        let mut taken: Vec<usize> = Vec::new();
        for j in 0..k {
            if counts[j] > 0 {
                for t in 0..d {
                    fresh[j * d + t] = (sums[j * d + t] / counts[j] as f64) as f32;
                }
            } else {
                // Empty cluster: the sample farthest from its centre, not already used.
                let far = (0..dists.len())
                    .filter(|i| !taken.contains(i))
                    .max_by(|&a, &b| dists[a].total_cmp(&dists[b]).then(b.cmp(&a)))
                    .unwrap_or(0);
                taken.push(far);
                fresh[j * d..(j + 1) * d].copy_from_slice(&x[far * d..(far + 1) * d]);
            }
        }
        let shift: f64 = centres.iter().zip(&fresh).map(|(a, b)| ((a - b) as f64).powi(2)).sum();
        centres = fresh;
        (labels, dists) = assign(x, d, &centres);
        if shift <= tol {
            break;
        }
    }
    let inertia = dists.iter().map(|&v| v as f64).sum();
    KMeans {
        centroids: centres,
        labels,
        inertia,
        k,
        d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three tight blobs far apart: every restart finds them.
    #[test]
    fn finds_separated_blobs_deterministically() {
        let mut x = Vec::new();
        let centres = [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)];
        for i in 0..90 {
            let (cx, cy) = centres[i % 3];
            let e = (i as f32 * 0.37).sin() * 0.1;
            x.extend([cx + e, cy - e]);
        }
        let km = kmeans(&x, 2, 3, 5, 300, 1).unwrap();
        for i in 0..90 {
            assert_eq!(km.labels[i], km.labels[i % 3], "sample {i}");
        }
        assert!(km.inertia < 90.0 * 0.05);
        assert_eq!(km, kmeans(&x, 2, 3, 5, 300, 1).unwrap());
    }

    #[test]
    fn too_many_clusters_is_a_config_error() {
        let e = kmeans(&[0.0, 1.0, 2.0], 1, 4, 1, 10, 0).unwrap_err();
        assert!(
            matches!(e, Error::InvalidConfig { ref field, .. } if field == "n_clusters"),
            "{e}"
        );
    }

    #[test]
    fn duplicate_points_leave_no_cluster_empty() {
        // Five identical points and one other, k = 3: empty clusters get moved, nothing panics.
        let x = [0.0, 0.0, 0.0, 0.0, 0.0, 5.0];
        let km = kmeans(&x, 1, 3, 3, 50, 0).unwrap();
        assert_eq!(km.labels.len(), 6);
        assert!(km.inertia.abs() < 1e-9);
    }
}
