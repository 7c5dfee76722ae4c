//! Growing one isolation tree (Liu, Ting & Zhou 2008, Algorithm 2 "iTree"), the way
//! scikit-learn's `ExtraTreeRegressor(max_features=1, splitter="random")` does inside
//! `IsolationForest`: at each node a feature is drawn uniformly among those not constant in the
//! node (all constant → leaf), the split value uniformly in [min, max) of that feature in the node;
//! nodes with fewer than 2 samples or at the depth limit become leaves.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Euler–Mascheroni constant, as `np.euler_gamma`.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// scikit-learn's `FEATURE_THRESHOLD`: a feature whose max − min is at most this is constant.
const FEATURE_THRESHOLD: f64 = 1e-7;

/// c(n): the average path length of an unsuccessful search in a binary search tree of `n` keys
/// (Liu et al. 2008, Eq. 1), used to normalise path lengths and to account for the samples left
/// in a leaf. c(n) = 2 H(n − 1) − 2 (n − 1) / n with H(i) ≈ ln i + γ; c(n ≤ 1) = 0, c(2) = 1,
/// exactly as scikit-learn's `_average_path_length`.
pub fn average_path_length(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + EULER_GAMMA) - 2.0 * (n - 1.0) / n
        }
    }
}

/// ⌈log2 ψ⌉ with ψ taken as at least 2: the height limit (Liu et al. 2008, §4; scikit-learn
/// `max_depth = int(np.ceil(np.log2(max(max_samples, 2))))`).
pub(crate) fn depth_limit(psi: usize) -> usize {
    (usize::BITS - (psi.max(2) - 1).leading_zeros()) as usize
}

/// One node of a tree, with child indices local to the tree. A split's children come after it;
/// a leaf's children are the leaf itself, so a walk may take a fixed number of steps (the tree's
/// depth) without testing for leaves, and ends on the leaf.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Node {
    /// Split feature (column of the full data); 0 for leaves.
    pub feature: u32,
    /// Split nodes: go left when `x[feature] <= value`. Leaves: the path length
    /// `depth + c(samples in leaf)` credited to a sample that ends here.
    pub value: f32,
    pub left: u32,
    pub right: u32,
}

impl Node {
    /// The leaf at index `at` of its tree.
    pub(crate) fn leaf(at: u32, path_length: f32) -> Self {
        Node {
            feature: 0,
            value: path_length,
            left: at,
            right: at,
        }
    }

    /// Leaves point at themselves; a split's two children are distinct.
    pub(crate) fn is_leaf(&self) -> bool {
        self.left == self.right
    }
}

/// Number of edges on the longest root-to-leaf path of `nodes` (children after parents).
pub(crate) fn tree_depth(nodes: &[Node]) -> usize {
    let mut depth = vec![0usize; nodes.len()];
    let mut max = 0;
    for (i, n) in nodes.iter().enumerate() {
        if !n.is_leaf() {
            for c in [n.left as usize, n.right as usize] {
                if c > i && c < nodes.len() {
                    depth[c] = depth[i] + 1;
                    max = max.max(depth[c]);
                }
            }
        }
    }
    max
}

/// Grows one isolation tree on the rows `rows` of the row-major `[n, d]` matrix `x`, splitting only
/// on `features`. Returns the nodes in depth-first pre-order (root at 0).
pub(crate) fn grow(
    x: &[f32],
    d: usize,
    rows: &[usize],
    features: &[u32],
    max_depth: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<Node> {
    let m = rows.len();
    // Column-major copy of the sub-sample: each node scans one feature over its samples.
    let mut cols = vec![0f32; features.len() * m];
    for (k, &f) in features.iter().enumerate() {
        let col = &mut cols[k * m..(k + 1) * m];
        for (c, &r) in col.iter_mut().zip(rows) {
            *c = x[r * d + f as usize];
        }
    }
    let mut grower = Grower {
        cols,
        m,
        features,
        slots: (0..features.len()).collect(),
        order: (0..m as u32).collect(),
        max_depth,
        nodes: Vec::with_capacity(2 * m.min(1 << max_depth.min(30)) + 1),
        rng,
    };
    grower.grow(0, m, 0, 0);
    grower.nodes
}

struct Grower<'a> {
    /// `[features.len(), m]` values of the sub-sample.
    cols: Vec<f32>,
    m: usize,
    features: &'a [u32],
    /// Positions into `features`; the first `n_constant` (per node) are known to be constant there.
    slots: Vec<usize>,
    /// Sample positions, partitioned in place node by node.
    order: Vec<u32>,
    max_depth: usize,
    nodes: Vec<Node>,
    rng: &'a mut ChaCha8Rng,
}

impl Grower<'_> {
    /// Grows the subtree over `order[lo..hi]`; returns its root index.
    fn grow(&mut self, lo: usize, hi: usize, depth: usize, n_constant: usize) -> u32 {
        let id = self.nodes.len();
        let n = hi - lo;
        let leaf = Node::leaf(id as u32, (depth as f64 + average_path_length(n)) as f32);
        self.nodes.push(leaf);
        if depth >= self.max_depth || n < 2 {
            return id as u32;
        }
        let Some((slot, threshold, n_constant)) = self.draw_split(lo, hi, n_constant) else {
            return id as u32;
        };
        // Partition: values <= threshold to the front.
        let col = &self.cols[slot * self.m..(slot + 1) * self.m];
        let part = &mut self.order[lo..hi];
        let mut mid = 0;
        for i in 0..part.len() {
            if col[part[i] as usize] <= threshold {
                part.swap(i, mid);
                mid += 1;
            }
        }
        let mid = lo + mid;
        let left = self.grow(lo, mid, depth + 1, n_constant);
        let right = self.grow(mid, hi, depth + 1, n_constant);
        self.nodes[id] = Node {
            feature: self.features[slot],
            value: threshold,
            left,
            right,
        };
        id as u32
    }

    /// Draws a feature uniformly among those not constant over `order[lo..hi]`, and a threshold
    /// uniform in [min, max). Features found constant are moved into the known-constant prefix of
    /// `slots` (they stay constant in every descendant). `None` when all features are constant.
    fn draw_split(&mut self, lo: usize, hi: usize, mut n_constant: usize) -> Option<(usize, f32, usize)> {
        while n_constant < self.slots.len() {
            let j = self.rng.random_range(n_constant..self.slots.len());
            let slot = self.slots[j];
            let col = &self.cols[slot * self.m..(slot + 1) * self.m];
            let (mut min, mut max) = (f32::INFINITY, f32::NEG_INFINITY);
            for &i in &self.order[lo..hi] {
                let v = col[i as usize];
                min = min.min(v);
                max = max.max(v);
            }
            if (max as f64) <= min as f64 + FEATURE_THRESHOLD {
                self.slots.swap(j, n_constant);
                n_constant += 1;
                continue;
            }
            let u: f64 = self.rng.random();
            let mut t = (min as f64 + (max as f64 - min as f64) * u) as f32;
            // Rounding to f32 may reach max; scikit-learn then uses min (both sides stay non-empty).
            if t >= max {
                t = min;
            }
            return Some((slot, t, n_constant));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn average_path_length_matches_sklearn() {
        // sklearn.ensemble._iforest._average_path_length([0, 1, 2, 3, 10, 256, 1000])
        let expected = [
            (0, 0.0),
            (1, 0.0),
            (2, 1.0),
            (3, 1.207_392_357_589_623),
            (10, 3.748_880_484_475_505),
            (256, 10.244_770_920_119_917),
            (1000, 12.969_940_887_100_174),
        ];
        for (n, c) in expected {
            assert!(
                (average_path_length(n) - c).abs() < 1e-12,
                "c({n}) = {} != {c}",
                average_path_length(n)
            );
        }
    }

    #[test]
    fn depth_limit_is_ceil_log2() {
        for (psi, want) in [
            (0, 1),
            (1, 1),
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 3),
            (255, 8),
            (256, 8),
            (257, 9),
        ] {
            assert_eq!(depth_limit(psi), want, "psi = {psi}");
        }
    }

    /// Checks the invariants of a grown tree: pre-order, children after parents, every sample in
    /// exactly one leaf, leaf values = depth + c(n_leaf), no leaf deeper than the limit.
    fn check_tree(nodes: &[Node], x: &[f32], d: usize, rows: &[usize], max_depth: usize) {
        assert!(!nodes.is_empty());
        let mut counts = vec![0usize; nodes.len()];
        let mut depth_of = vec![0usize; nodes.len()];
        for (i, n) in nodes.iter().enumerate() {
            if !n.is_leaf() {
                assert_eq!(n.left as usize, i + 1, "pre-order: left child follows its parent");
                assert!(n.right as usize > i + 1 && (n.right as usize) < nodes.len());
                depth_of[n.left as usize] = depth_of[i] + 1;
                depth_of[n.right as usize] = depth_of[i] + 1;
            }
        }
        for &r in rows {
            let row = &x[r * d..(r + 1) * d];
            let mut i = 0;
            while !nodes[i].is_leaf() {
                let n = nodes[i];
                i = if row[n.feature as usize] <= n.value {
                    n.left
                } else {
                    n.right
                } as usize;
            }
            counts[i] += 1;
        }
        for (i, n) in nodes.iter().enumerate() {
            if n.is_leaf() {
                assert_eq!(n.left as usize, i);
                assert!(counts[i] >= 1, "every leaf holds at least one training sample");
                assert!(depth_of[i] <= max_depth);
                let want = depth_of[i] as f64 + average_path_length(counts[i]);
                assert!((n.value as f64 - want).abs() < 1e-5, "leaf {i}: {} vs {want}", n.value);
            }
        }
    }

    #[test]
    fn grown_tree_is_consistent() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (n, d) = (300, 4);
        let x: Vec<f32> = (0..n * d).map(|_| rng.random_range(-5.0..5.0)).collect();
        let rows: Vec<usize> = (0..n).step_by(2).collect();
        let nodes = grow(&x, d, &rows, &[0, 1, 2, 3], depth_limit(rows.len()), &mut rng);
        check_tree(&nodes, &x, d, &rows, depth_limit(rows.len()));
        assert_eq!(
            tree_depth(&nodes),
            depth_limit(rows.len()),
            "150 samples fill a depth-8 tree"
        );
        // A deep enough tree isolates every sample: leaves hold exactly one sample each.
        let nodes = grow(&x, d, &rows, &[0, 1, 2, 3], 64, &mut rng);
        check_tree(&nodes, &x, d, &rows, 64);
        let leaves = nodes.iter().filter(|n| n.is_leaf()).count();
        assert_eq!(leaves, rows.len());
    }

    #[test]
    fn constant_features_are_never_split() {
        // Column 1 is constant; column 0 has two distinct values; column 2 only differs by < 1e-7.
        let x = [0.0, 5.0, 0.0, 0.0, 5.0, 0.0, 3.0, 5.0, 5e-8, 3.0, 5.0, 0.0];
        let rows = [0, 1, 2, 3];
        for seed in 0..50 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let nodes = grow(&x, 3, &rows, &[0, 1, 2], 10, &mut rng);
            check_tree(&nodes, &x, 3, &rows, 10);
            // One split on feature 0 (threshold in [0, 3)), then two leaves of two identical rows.
            assert_eq!(nodes.len(), 3);
            assert_eq!(nodes[0].feature, 0);
            assert!((0.0..3.0).contains(&nodes[0].value));
            assert_eq!(nodes[1].value, 2.0, "depth 1 + c(2) = 2");
        }
    }

    #[test]
    fn all_constant_is_a_single_leaf() {
        let x = [2.0f32; 5 * 3];
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let nodes = grow(&x, 3, &[0, 1, 2, 3, 4], &[0, 1, 2], 3, &mut rng);
        assert_eq!(nodes, vec![Node::leaf(0, average_path_length(5) as f32)]);
        assert_eq!(tree_depth(&nodes), 0);
    }

    #[test]
    fn only_the_given_features_are_used() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let (n, d) = (64, 6);
        let x: Vec<f32> = (0..n * d).map(|_| rng.random()).collect();
        let rows: Vec<usize> = (0..n).collect();
        let nodes = grow(&x, d, &rows, &[1, 4], 6, &mut rng);
        assert!(nodes.iter().all(|n| n.is_leaf() || n.feature == 1 || n.feature == 4));
        check_tree(&nodes, &x, d, &rows, 6);
    }
}
