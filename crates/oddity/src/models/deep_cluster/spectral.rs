//! Spectral clustering of an embedding on its k-nearest-neighbour graph, as scikit-learn's
//! `SpectralClustering(affinity="nearest_neighbors")`: connectivity to the `n_neighbors` nearest
//! points (the point itself counted), symmetrised as ½(C + Cᵀ); the K leading eigenvectors of the
//! normalised affinity D^-½ W D^-½ (the K smallest of the normalised Laplacian), each row scaled
//! by D^-½ (scikit-learn's `spectral_embedding`); k-means on those rows.
//!
//! Used to initialise deep clustering (`init = spectral`): clusters of the pretrained embedding
//! that follow its local manifold (the pose arcs of COIL-20's objects) rather than k-means' convex
//! cells. The graph is sparse (n·n_neighbors edges), the eigenvectors come from subspace iteration
//! on it with Rayleigh–Ritz steps, so MNIST's 70,000 points work as well as COIL-20's 1,440.
//!
//! Deterministic for any thread count: rows are processed in parallel, sums over rows run in
//! fixed chunks added in order, and the random start is seeded.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::kmeans;
use crate::error::{Error, Result};

/// Rows per chunk of the Gram sums (fixed, so the sums do not depend on the thread count).
const CHUNK: usize = 256;
/// Largest number of subspace iterations.
const MAX_ITER: usize = 3000;
/// Iterations between Rayleigh–Ritz convergence checks.
const CHECK_EVERY: usize = 10;
/// Stop when no leading Ritz value moved more than this between two checks.
const RITZ_TOL: f64 = 1e-10;

/// Cluster labels of the `n × d` points `x` (row-major) into `k` clusters.
pub fn spectral(
    x: &[f32],
    d: usize,
    k: usize,
    n_neighbors: usize,
    n_init: usize,
    max_iter: usize,
    seed: u64,
) -> Result<Vec<u32>> {
    let n = kmeans::check_points("spectral clustering", x, d, k)?;
    if n_neighbors < 2 || n_neighbors > n {
        return Err(Error::config(
            "spectral_neighbors",
            format!("must be in 2..={n} (the point itself counts as one), got {n_neighbors}"),
        ));
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(Error::InvalidData(
            "spectral clustering: the embedding has NaN or infinite values".into(),
        ));
    }
    let graph = Graph::knn(x, d, n_neighbors - 1);
    let u = leading_eigenvectors(&graph, k, seed);
    // scikit-learn's spectral_embedding: eigenvectors divided by sqrt(degree).
    let emb: Vec<f32> = u
        .par_chunks(k)
        .zip(graph.inv_sqrt_deg.par_iter())
        .flat_map_iter(|(row, s)| row.iter().map(move |v| (v * s) as f32))
        .collect();
    Ok(kmeans::kmeans(&emb, k, k, n_init, max_iter, seed)?.labels)
}

/// Symmetric affinity ½(C + Cᵀ) in compressed rows, with D^-½.
struct Graph {
    n: usize,
    start: Vec<usize>,
    col: Vec<u32>,
    weight: Vec<f64>,
    inv_sqrt_deg: Vec<f64>,
}

impl Graph {
    /// The `m` nearest other points of each point (ties by index), symmetrised.
    fn knn(x: &[f32], d: usize, m: usize) -> Graph {
        let n = x.len() / d;
        let neighbors: Vec<Vec<u32>> = (0..n)
            .into_par_iter()
            .map(|i| {
                let xi = &x[i * d..(i + 1) * d];
                let mut dist: Vec<(f32, u32)> = x
                    .chunks_exact(d)
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(j, xj)| (xi.iter().zip(xj).map(|(a, b)| (a - b) * (a - b)).sum::<f32>(), j as u32))
                    .collect();
                let by = |a: &(f32, u32), b: &(f32, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
                if m < dist.len() {
                    dist.select_nth_unstable_by(m, by);
                    dist.truncate(m);
                }
                // `iter`, not `into_iter`: collecting in place would keep the whole row's allocation.
                dist.iter().map(|&(_, j)| j).collect()
            })
            .collect();
        let mut edges: Vec<(u32, u32)> = Vec::with_capacity(2 * n * m);
        for (i, js) in neighbors.iter().enumerate() {
            for &j in js {
                edges.push((i as u32, j));
                edges.push((j, i as u32));
            }
        }
        edges.sort_unstable();
        let mut start = vec![0usize; n + 1];
        let mut col = Vec::with_capacity(edges.len());
        let mut weight: Vec<f64> = Vec::with_capacity(edges.len());
        for (e, &(i, j)) in edges.iter().enumerate() {
            if e > 0 && edges[e - 1] == (i, j) {
                *weight.last_mut().expect("an edge was pushed") += 0.5;
                continue;
            }
            col.push(j);
            weight.push(0.5);
            start[i as usize + 1] = col.len();
        }
        for i in 0..n {
            start[i + 1] = start[i + 1].max(start[i]);
        }
        let inv_sqrt_deg = (0..n)
            .map(|i| 1.0 / weight[start[i]..start[i + 1]].iter().sum::<f64>().sqrt())
            .collect();
        Graph {
            n,
            start,
            col,
            weight,
            inv_sqrt_deg,
        }
    }

    /// `y = ½(x + D^-½ W D^-½ x)` for `n × b` row-major `x`: the normalised affinity shifted to
    /// eigenvalues in [0, 1], with the same leading eigenvectors.
    fn apply(&self, x: &[f64], b: usize) -> Vec<f64> {
        let mut y = vec![0.0; self.n * b];
        y.par_chunks_mut(b).enumerate().for_each(|(i, yi)| {
            let si = self.inv_sqrt_deg[i];
            for e in self.start[i]..self.start[i + 1] {
                let j = self.col[e] as usize;
                let w = 0.5 * self.weight[e] * si * self.inv_sqrt_deg[j];
                for (acc, v) in yi.iter_mut().zip(&x[j * b..(j + 1) * b]) {
                    *acc += w * v;
                }
            }
            for (acc, v) in yi.iter_mut().zip(&x[i * b..(i + 1) * b]) {
                *acc += 0.5 * v;
            }
        });
        y
    }
}

/// `aᵀ c` for `n × b` row-major `a` and `c`, summed in fixed chunks of rows.
fn gram(a: &[f64], c: &[f64], b: usize) -> Vec<f64> {
    let parts: Vec<Vec<f64>> = a
        .par_chunks(CHUNK * b)
        .zip(c.par_chunks(CHUNK * b))
        .map(|(ac, cc)| {
            let mut g = vec![0.0; b * b];
            for (ar, cr) in ac.chunks_exact(b).zip(cc.chunks_exact(b)) {
                for (p, &av) in ar.iter().enumerate() {
                    for (q, &cv) in cr.iter().enumerate() {
                        g[p * b + q] += av * cv;
                    }
                }
            }
            g
        })
        .collect();
    let mut g = vec![0.0; b * b];
    for part in parts {
        for (s, v) in g.iter_mut().zip(part) {
            *s += v;
        }
    }
    g
}

/// `a · m` for `n × b` row-major `a` and `b × c` row-major `m`.
fn times(a: &[f64], b: usize, m: &[f64], c: usize) -> Vec<f64> {
    let mut y = vec![0.0; a.len() / b * c];
    y.par_chunks_mut(c).zip(a.par_chunks(b)).for_each(|(yr, ar)| {
        for (p, &av) in ar.iter().enumerate() {
            for (acc, &mv) in yr.iter_mut().zip(&m[p * c..(p + 1) * c]) {
                *acc += av * mv;
            }
        }
    });
    y
}

/// The `k` leading eigenvectors of the graph's normalised affinity, `n × k` row-major, by
/// subspace iteration on a block of `2k` (at most n) vectors.
fn leading_eigenvectors(g: &Graph, k: usize, seed: u64) -> Vec<f64> {
    let n = g.n;
    let b = (2 * k).max(k + 8).min(n);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5bec_7a1c);
    let mut x: Vec<f64> = (0..n * b).map(|_| rng.random::<f64>() - 0.5).collect();
    x = orthonormalize(&x, b);
    let mut last = vec![f64::INFINITY; k];
    for it in 1..=MAX_ITER {
        let y = g.apply(&x, b);
        if it % CHECK_EVERY == 0 || it == MAX_ITER {
            // Rayleigh–Ritz: rotate x to the eigenvectors of xᵀ T x (x is orthonormal).
            let (theta, v) = symmetric_eigen(&gram(&x, &y, b), b);
            let ritz: Vec<f64> = theta[..k].to_vec();
            let moved = ritz.iter().zip(&last).map(|(a, c)| (a - c).abs()).fold(0.0, f64::max);
            last = ritz;
            if moved < RITZ_TOL || it == MAX_ITER {
                let v_k: Vec<f64> = (0..b).flat_map(|p| v[p * b..p * b + k].to_vec()).collect();
                return times(&x, b, &v_k, k);
            }
        }
        x = orthonormalize(&y, b);
    }
    unreachable!("the loop returns at MAX_ITER")
}

/// Orthonormal basis of the columns of `n × b` row-major `y`: `y V Λ^-½` from `yᵀy = V Λ Vᵀ`.
fn orthonormalize(y: &[f64], b: usize) -> Vec<f64> {
    let (lambda, v) = symmetric_eigen(&gram(y, y, b), b);
    let floor = lambda[0].max(f64::MIN_POSITIVE) * 1e-28;
    let mut m = v;
    for p in 0..b {
        for q in 0..b {
            m[p * b + q] /= lambda[q].max(floor).sqrt();
        }
    }
    times(y, b, &m, b)
}

/// Eigenvalues (descending) and eigenvectors (columns of a row-major `b × b`) of the symmetric
/// `b × b` matrix `a`, by cyclic Jacobi rotations (b is small: twice the number of clusters).
fn symmetric_eigen(a: &[f64], b: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    // Symmetrise the rounding of the Gram sums.
    for p in 0..b {
        for q in p + 1..b {
            let m = 0.5 * (a[p * b + q] + a[q * b + p]);
            a[p * b + q] = m;
            a[q * b + p] = m;
        }
    }
    let mut v = vec![0.0; b * b];
    for p in 0..b {
        v[p * b + p] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..b)
            .flat_map(|p| (0..b).filter(move |&q| q != p).map(move |q| (p, q)))
            .map(|(p, q)| a[p * b + q].powi(2))
            .sum();
        let diag: f64 = (0..b).map(|p| a[p * b + p].powi(2)).sum();
        if off <= 1e-30 * diag.max(f64::MIN_POSITIVE) {
            break;
        }
        for p in 0..b {
            for q in p + 1..b {
                let apq = a[p * b + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * b + q] - a[p * b + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for r in 0..b {
                    let (arp, arq) = (a[r * b + p], a[r * b + q]);
                    a[r * b + p] = c * arp - s * arq;
                    a[r * b + q] = s * arp + c * arq;
                }
                for r in 0..b {
                    let (apr, aqr) = (a[p * b + r], a[q * b + r]);
                    a[p * b + r] = c * apr - s * aqr;
                    a[q * b + r] = s * apr + c * aqr;
                }
                for r in 0..b {
                    let (vrp, vrq) = (v[r * b + p], v[r * b + q]);
                    v[r * b + p] = c * vrp - s * vrq;
                    v[r * b + q] = s * vrp + c * vrq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..b).collect();
    order.sort_by(|&i, &j| a[j * b + j].total_cmp(&a[i * b + i]).then(i.cmp(&j)));
    let values = order.iter().map(|&i| a[i * b + i]).collect();
    let mut vectors = vec![0.0; b * b];
    for r in 0..b {
        for (c, &i) in order.iter().enumerate() {
            vectors[r * b + c] = v[r * b + i];
        }
    }
    (values, vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_diagonalises_a_symmetric_matrix() {
        let a = [4.0, 1.0, 2.0, 1.0, 3.0, 0.5, 2.0, 0.5, 1.0];
        let (l, v) = symmetric_eigen(&a, 3);
        assert!(l[0] >= l[1] && l[1] >= l[2]);
        for c in 0..3 {
            for r in 0..3 {
                let av: f64 = (0..3).map(|q| a[r * 3 + q] * v[q * 3 + c]).sum();
                assert!((av - l[c] * v[r * 3 + c]).abs() < 1e-10, "A v != λ v in column {c}");
            }
        }
        assert!((l.iter().sum::<f64>() - 8.0).abs() < 1e-10, "trace kept");
    }

    /// Two interleaved half-moons-like arcs: k-means cuts them across, the kNN graph keeps them.
    fn two_arcs(n: usize) -> (Vec<f32>, Vec<u32>) {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let t = std::f32::consts::PI * i as f32 / (n - 1) as f32;
            x.extend([t.cos(), t.sin()]);
            y.push(0);
            x.extend([1.0 - t.cos(), 0.5 - t.sin()]);
            y.push(1);
        }
        (x, y)
    }

    fn agreement(a: &[u32], b: &[u32]) -> f64 {
        let same = a.iter().zip(b).filter(|(p, q)| p == q).count() as f64 / a.len() as f64;
        same.max(1.0 - same)
    }

    #[test]
    fn separates_two_arcs_that_kmeans_cuts() {
        let (x, truth) = two_arcs(150);
        let km = kmeans::kmeans(&x, 2, 2, 10, 300, 0).unwrap().labels;
        let sp = spectral(&x, 2, 2, 10, 10, 300, 0).unwrap();
        assert!(agreement(&km, &truth) < 0.9, "k-means should not find the arcs");
        assert_eq!(agreement(&sp, &truth), 1.0, "spectral clustering should find both arcs");
    }

    #[test]
    fn the_same_seed_gives_the_same_labels_on_any_thread_count() {
        let (x, _) = two_arcs(400);
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let a = one.install(|| spectral(&x, 2, 3, 10, 5, 300, 7).unwrap());
        let b = spectral(&x, 2, 3, 10, 5, 300, 7).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let (x, _) = two_arcs(10);
        assert!(spectral(&x, 2, 2, 1, 5, 300, 0).is_err(), "one neighbour");
        assert!(
            spectral(&x, 2, 2, 21, 5, 300, 0).is_err(),
            "more neighbours than points"
        );
        assert!(spectral(&x, 2, 21, 5, 5, 300, 0).is_err(), "more clusters than points");
        assert!(spectral(&x[..3], 2, 2, 5, 5, 300, 0).is_err(), "ragged rows");
        let mut bad = x.clone();
        bad[4] = f32::NAN;
        assert!(spectral(&bad, 2, 2, 5, 5, 300, 0).is_err(), "NaN");
    }
}
