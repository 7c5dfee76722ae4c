//! Clustering metrics: accuracy under the best cluster→class mapping, NMI and ARI.
//!
//! Label values are arbitrary `u32` identifiers (they need not be contiguous or start at 0); only equality
//! matters. Counts are `u64`/`i128` and results `f64`, following scikit-learn's formulas step by step so
//! values agree to rounding, including its degenerate cases.

use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;

use crate::error::{Error, Result};

/// Contingency table of two labellings (classes × clusters), stored sparsely.
struct Contingency {
    n: u64,
    /// Size of each class (row sums).
    class_sizes: Vec<u64>,
    /// Size of each cluster (column sums).
    cluster_sizes: Vec<u64>,
    /// Non-zero cells `(class, cluster, count)`.
    cells: Vec<(usize, usize, u64)>,
}

/// Maps labels to `0..k` in sorted order of their values; returns the indices and `k`.
fn compress(labels: &[u32]) -> (Vec<usize>, usize) {
    let mut unique = labels.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let idx = labels
        .iter()
        .map(|l| unique.binary_search(l).unwrap_or_default())
        .collect();
    (idx, unique.len())
}

fn contingency(what: &str, truth: &[u32], pred: &[u32]) -> Result<Contingency> {
    if truth.len() != pred.len() {
        return Err(Error::shape(
            format!("{what}: predicted labels"),
            format!("{}, one per true label", truth.len()),
            pred.len(),
        ));
    }
    if truth.is_empty() {
        return Err(Error::InvalidData(format!("{what}: no samples")));
    }
    let (t, n_classes) = compress(truth);
    let (p, n_clusters) = compress(pred);
    let mut class_sizes = vec![0u64; n_classes];
    let mut cluster_sizes = vec![0u64; n_clusters];
    for (&ti, &pi) in t.iter().zip(&p) {
        class_sizes[ti] += 1;
        cluster_sizes[pi] += 1;
    }
    let mut pairs: Vec<(usize, usize)> = t.into_iter().zip(p).collect();
    pairs.sort_unstable();
    let mut cells: Vec<(usize, usize, u64)> = Vec::new();
    for (ti, pi) in pairs {
        match cells.last_mut() {
            Some(last) if last.0 == ti && last.1 == pi => last.2 += 1,
            _ => cells.push((ti, pi, 1)),
        }
    }
    Ok(Contingency {
        n: truth.len() as u64,
        class_sizes,
        cluster_sizes,
        cells,
    })
}

/// Clustering accuracy as in the DEC/IDEC papers: the fraction of samples correctly labelled under the best
/// one-to-one mapping of predicted clusters to classes (Hungarian algorithm on the contingency table, like
/// scipy's `linear_sum_assignment`). With more clusters than classes (or the reverse) the surplus ones stay
/// unmatched and count as errors.
///
/// Cost: O(k_min² · k_max) time and O(k_min · k_max) memory, where k are the numbers of classes and clusters.
///
/// # Errors
/// [`Error::Shape`] on a length mismatch, [`Error::InvalidData`] on empty input.
pub fn clustering_accuracy(truth: &[u32], pred: &[u32]) -> Result<f64> {
    let c = contingency("clustering_accuracy", truth, pred)?;
    let (k_t, k_p) = (c.class_sizes.len(), c.cluster_sizes.len());
    // kuhn_munkres needs rows <= columns: put the smaller side on the rows. A rectangular problem is the
    // square one padded with zero rows, solved without the padding.
    let transpose = k_t > k_p;
    let (rows, cols) = if transpose { (k_p, k_t) } else { (k_t, k_p) };
    let mut weights = Matrix::new(rows, cols, 0i64);
    for &(ti, pi, count) in &c.cells {
        let cell = if transpose { (pi, ti) } else { (ti, pi) };
        weights[cell] = count as i64;
    }
    let (matched, _) = kuhn_munkres(&weights);
    Ok(matched as f64 / c.n as f64)
}

/// Entropy (natural log) of a labelling from its group sizes, as sklearn's `_entropy`.
fn entropy(sizes: &[u64]) -> f64 {
    if sizes.len() == 1 {
        return 0.0;
    }
    let total = sizes.iter().sum::<u64>() as f64;
    let log_total = total.ln();
    -sizes
        .iter()
        .map(|&s| (s as f64 / total) * ((s as f64).ln() - log_total))
        .sum::<f64>()
}

/// Mutual information (natural log), as sklearn's `mutual_info_score`.
fn mutual_info(c: &Contingency) -> f64 {
    if c.class_sizes.len() == 1 || c.cluster_sizes.len() == 1 {
        return 0.0;
    }
    let n = c.n as f64;
    let log_n = n.ln();
    let mi: f64 = c
        .cells
        .iter()
        .map(|&(ti, pi, count)| {
            let count_f = count as f64;
            let frac = count_f / n;
            let outer = (u128::from(c.class_sizes[ti]) * u128::from(c.cluster_sizes[pi])) as f64;
            // Same operation order as sklearn; row and column sums both total n.
            let term = frac * (count_f.ln() - log_n) + frac * (-outer.ln() + log_n + log_n);
            if term.abs() < f64::EPSILON { 0.0 } else { term }
        })
        .sum();
    mi.max(0.0)
}

/// Normalised mutual information with arithmetic-mean normalisation, equal to sklearn's
/// `normalized_mutual_info_score` (default `average_method='arithmetic'`): `MI / ((H(truth) + H(pred)) / 2)`.
///
/// Degenerate cases as sklearn: one class and one cluster → 1.0; otherwise zero mutual information
/// (e.g. a single cluster on only one side) → 0.0.
///
/// # Errors
/// [`Error::Shape`] on a length mismatch, [`Error::InvalidData`] on empty input (sklearn returns 1.0).
pub fn nmi(truth: &[u32], pred: &[u32]) -> Result<f64> {
    let c = contingency("nmi", truth, pred)?;
    if c.class_sizes.len() == 1 && c.cluster_sizes.len() == 1 {
        return Ok(1.0);
    }
    let mi = mutual_info(&c);
    if mi == 0.0 {
        return Ok(0.0);
    }
    let normalizer = (entropy(&c.class_sizes) + entropy(&c.cluster_sizes)) / 2.0;
    Ok(mi / normalizer)
}

/// Adjusted Rand index, equal to sklearn's `adjusted_rand_score`, computed from the pair confusion matrix in
/// exact integer arithmetic. Identical partitions (including one cluster on both sides) → 1.0.
///
/// # Errors
/// [`Error::Shape`] on a length mismatch, [`Error::InvalidData`] on empty input (sklearn returns 1.0).
pub fn ari(truth: &[u32], pred: &[u32]) -> Result<f64> {
    let c = contingency("ari", truth, pred)?;
    let n = i128::from(c.n);
    let (mut sum_squares, mut by_cluster, mut by_class) = (0i128, 0i128, 0i128);
    for &(ti, pi, count) in &c.cells {
        let count = i128::from(count);
        sum_squares += count * count;
        by_cluster += count * i128::from(c.cluster_sizes[pi]);
        by_class += count * i128::from(c.class_sizes[ti]);
    }
    // Ordered pairs: same in both (tp), same cluster only (fp), same class only (fn), neither (tn).
    let tp = sum_squares - n;
    let fp = by_cluster - sum_squares;
    let fn_ = by_class - sum_squares;
    let tn = n * n - fp - fn_ - sum_squares;
    if fn_ == 0 && fp == 0 {
        return Ok(1.0);
    }
    let num = tp * tn - fn_ * fp;
    let den = (tp + fn_) * (fn_ + tn) + (tp + fp) * (fp + tn);
    Ok(2.0 * num as f64 / den as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn permuted_labelling_is_perfect() {
        let truth = [0, 0, 1, 1, 2, 2, 2];
        let pred = [7, 7, 3, 3, 900, 900, 900];
        assert_eq!(clustering_accuracy(&truth, &pred).unwrap(), 1.0);
        assert!(close(nmi(&truth, &pred).unwrap(), 1.0));
        assert_eq!(ari(&truth, &pred).unwrap(), 1.0);
    }

    #[test]
    fn accuracy_by_hand() {
        // Cluster 5 ↔ class 0 (3 hits), cluster 6 ↔ class 1 (2 hits): 5 of 7.
        let truth = [0, 0, 0, 1, 1, 1, 0];
        let pred = [5, 5, 5, 6, 6, 5, 6];
        assert!(close(clustering_accuracy(&truth, &pred).unwrap(), 5.0 / 7.0));
    }

    #[test]
    fn accuracy_with_more_or_fewer_clusters() {
        // Four clusters, two classes: only two clusters can be matched → 2 + 2 of 6.
        let truth = [0, 0, 0, 1, 1, 1];
        let pred = [0, 0, 1, 2, 2, 3];
        assert!(close(clustering_accuracy(&truth, &pred).unwrap(), 4.0 / 6.0));
        // Swapped roles: two clusters, four classes.
        assert!(close(clustering_accuracy(&pred, &truth).unwrap(), 4.0 / 6.0));
        // One cluster for everything: the largest class.
        assert!(close(clustering_accuracy(&[1, 2, 2, 3], &[0, 0, 0, 0]).unwrap(), 0.5));
    }

    #[test]
    fn nmi_ari_by_hand() {
        // truth {0,0,1,1}, pred {0,1,0,1}: independent → MI 0, NMI 0; ordered pairs tp=0, fp=fn=4, tn=4 →
        // ARI = 2(0·4 − 4·4)/(4·8 + 4·8) = -0.5.
        let truth = [0, 0, 1, 1];
        let pred = [0, 1, 0, 1];
        assert_eq!(nmi(&truth, &pred).unwrap(), 0.0);
        assert!(close(ari(&truth, &pred).unwrap(), -0.5));
        // truth {0,0,1,1}, pred {0,0,0,1}: H(t)=ln2, H(p)=ln4 − ¾ln3, MI = H(t) − ¾·H(⅔,⅓).
        let pred = [0, 0, 0, 1];
        let h = |p: &[f64]| -p.iter().map(|x| x * x.ln()).sum::<f64>();
        let (ht, hp) = (h(&[0.5, 0.5]), h(&[0.75, 0.25]));
        let mi = ht - 0.75 * h(&[2.0 / 3.0, 1.0 / 3.0]);
        assert!(close(nmi(&truth, &pred).unwrap(), mi / ((ht + hp) / 2.0)));
    }

    #[test]
    fn degenerate_cases_match_sklearn() {
        // One cluster on both sides: perfect.
        assert_eq!(nmi(&[4, 4, 4], &[9, 9, 9]).unwrap(), 1.0);
        assert_eq!(ari(&[4, 4, 4], &[9, 9, 9]).unwrap(), 1.0);
        assert_eq!(clustering_accuracy(&[4, 4, 4], &[9, 9, 9]).unwrap(), 1.0);
        // One cluster on one side only: NMI 0, ARI 0.
        assert_eq!(nmi(&[0, 0, 1, 1], &[0, 0, 0, 0]).unwrap(), 0.0);
        assert_eq!(ari(&[0, 0, 1, 1], &[0, 0, 0, 0]).unwrap(), 0.0);
        // A single sample.
        assert_eq!(nmi(&[3], &[5]).unwrap(), 1.0);
        assert_eq!(ari(&[3], &[5]).unwrap(), 1.0);
        // Every sample its own cluster on both sides.
        assert_eq!(ari(&[0, 1, 2], &[2, 0, 1]).unwrap(), 1.0);
        assert!(close(nmi(&[0, 1, 2], &[2, 0, 1]).unwrap(), 1.0));
    }

    #[test]
    fn rejects_length_mismatch_and_empty() {
        for f in [clustering_accuracy, nmi, ari] {
            assert!(matches!(f(&[0, 1], &[0]), Err(Error::Shape { .. })));
            assert!(matches!(f(&[], &[]), Err(Error::InvalidData(_))));
        }
    }
}
