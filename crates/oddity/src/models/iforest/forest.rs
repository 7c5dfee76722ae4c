//! The fitted forest: fitting (parallel over trees), scoring (parallel over blocks of rows) and
//! the [`Model`] implementation.

use std::path::Path;

use rand::seq::index;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::config::IForestConfig;
use super::tree::{self, Node, average_path_length};
use super::{simd, weights};
use crate::data::Dataset;
use crate::detector::{FitContext, Model};
use crate::error::{Error, Result};

/// Rows scored together: each block walks every tree, so a tree's nodes stay in cache while the
/// block's rows go through it.
pub(super) const BLOCK: usize = 256;

/// Rows walked through a tree in lock-step, so their independent node loads overlap.
const LANES: usize = 8;

/// Rows walked in lock-step through the complete-tree layout (cheaper steps, more lanes pay).
const DENSE_LANES: usize = 16;

/// Largest tree depth scored through the complete-tree layout ([`Dense`]): 2^10 leaves, 12 KB per tree.
const DENSE_MAX_DEPTH: usize = 10;

/// The trees re-laid as complete binary trees of one depth `depth` (heap order: the children of
/// slot `i` are `2i + 1` and `2i + 2`), for scoring. A walk is then `i = 2i + 1 + (x > thr)`,
/// `depth` times, with no child pointers to load. A leaf above the bottom level becomes a chain
/// of always-left slots (threshold +inf) ending at a bottom slot that holds its path length.
/// Scores are bit-identical to walking the nodes: the same leaf values summed in the same order.
#[derive(Debug, Clone, PartialEq)]
struct Dense {
    depth: usize,
    /// Features per sample; every split feature is below it (checked when building).
    n_features: usize,
    /// `2^depth − 1` splits per tree: (feature, threshold), go left when `x <= threshold`.
    split: Vec<(u32, f32)>,
    /// `2^depth` path lengths per tree.
    leaf: Vec<f32>,
    /// `split` with each feature multiplied by [`BLOCK`] (its column's offset in the AVX2
    /// kernel's transposed block); empty when that overflows `u32`.
    split_scaled: Vec<(u32, f32)>,
}

impl Dense {
    /// `None` if a split feature is not below `n_features` (never for a validated forest).
    fn build(nodes: &[Node], offsets: &[usize], depth: usize, n_features: usize) -> Option<Self> {
        let inner = (1usize << depth) - 1;
        let trees = offsets.len().saturating_sub(1);
        let mut split = vec![(0u32, f32::INFINITY); inner * trees];
        let mut leaf = vec![0f32; (inner + 1) * trees];
        for t in 0..trees {
            let tree = &nodes[offsets[t]..offsets[t + 1]];
            let sp = &mut split[t * inner..(t + 1) * inner];
            let lf = &mut leaf[t * (inner + 1)..(t + 1) * (inner + 1)];
            // (node, slot) pairs still to place.
            let mut stack = vec![(0usize, 0usize)];
            while let Some((n, slot)) = stack.pop() {
                let node = tree.get(n)?;
                if slot >= inner {
                    *lf.get_mut(slot - inner)? = node.value;
                } else if node.is_leaf() {
                    stack.push((n, 2 * slot + 1)); // threshold stays +inf: always left
                } else {
                    if node.feature as usize >= n_features {
                        return None;
                    }
                    sp[slot] = (node.feature, node.value);
                    stack.push((node.left as usize, 2 * slot + 1));
                    stack.push((node.right as usize, 2 * slot + 2));
                }
            }
        }
        let split_scaled = match u32::try_from(n_features.saturating_mul(BLOCK)) {
            Ok(_) => split.iter().map(|&(f, t)| (f * BLOCK as u32, t)).collect(),
            Err(_) => Vec::new(),
        };
        Some(Dense {
            depth,
            n_features,
            split,
            leaf,
            split_scaled,
        })
    }

    /// Adds each row's path lengths over all trees to `out`, tree after tree, through the AVX2
    /// kernel ([`simd`]) where the CPU has it, the portable walk for the rest.
    /// `x` holds `out.len()` rows of `n_features` values; `scratch` is the kernel's buffer.
    fn path_length_sums_fast(&self, x: &[f32], out: &mut [f64], scratch: &mut Vec<f32>) {
        let done = if simd::available() && !self.split_scaled.is_empty() && out.len() <= BLOCK {
            let layout = simd::Layout {
                depth: self.depth,
                n_features: self.n_features,
                split: &self.split,
                split_scaled: &self.split_scaled,
                leaf: &self.leaf,
            };
            assert!(
                x.len() >= out.len() * self.n_features,
                "rows shorter than the forest's feature count"
            );
            // SAFETY: AVX2 checked above; `build` made a complete layout of `depth` ≥ 1 levels with
            // every feature below `n_features`; `x` holds `out.len()` rows (asserted).
            unsafe { simd::path_length_sums(&layout, x, out, scratch) }
        } else {
            0
        };
        if done < out.len() {
            self.path_length_sums(&x[done * self.n_features..], &mut out[done..]);
        }
    }

    /// Adds each row's path lengths over all trees to `out`, tree after tree.
    /// `x` holds `out.len()` rows of `n_features` values.
    fn path_length_sums(&self, x: &[f32], out: &mut [f64]) {
        let d = self.n_features;
        assert!(x.len() >= out.len() * d, "rows shorter than the forest's feature count");
        let inner = (1usize << self.depth) - 1;
        for (split, leaf) in self
            .split
            .chunks_exact(inner.max(1))
            .zip(self.leaf.chunks_exact(inner + 1))
        {
            for (xs, acc) in x.chunks(DENSE_LANES * d).zip(out.chunks_mut(DENSE_LANES)) {
                let lanes = acc.len();
                let mut at = [0usize; DENSE_LANES];
                for _ in 0..self.depth {
                    for (l, i) in at[..lanes].iter_mut().enumerate() {
                        // SAFETY: before the last step `*i < inner = split.len()` (heap order over
                        // `depth` levels); `feature < d` (checked in `build`) and `l < lanes`, so
                        // `l * d + feature < xs.len()`.
                        let (f, th) = unsafe { *split.get_unchecked(*i) };
                        let v = unsafe { *xs.get_unchecked(l * d + f as usize) };
                        *i = 2 * *i + 1 + (v > th) as usize;
                    }
                }
                for (a, &i) in acc.iter_mut().zip(&at) {
                    *a += leaf[i - inner] as f64;
                }
            }
        }
    }
}

/// A fitted Isolation Forest (Liu, Ting & Zhou 2008).
///
/// Scores are the paper's s(x, ψ) = 2^(−E[h(x)] / c(ψ)) in (0, 1], higher = more anomalous;
/// scikit-learn's `score_samples` returns the negative of the same quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct IForest {
    /// Features per sample of the training data.
    pub(crate) n_features: usize,
    /// ψ, the sub-sample size each tree was grown on (normalises path lengths by c(ψ)).
    pub(crate) max_samples: usize,
    /// All trees' nodes, tree after tree; child indices are local to each tree.
    pub(crate) nodes: Vec<Node>,
    /// Tree `t` is `nodes[offsets[t]..offsets[t + 1]]`.
    pub(crate) offsets: Vec<usize>,
    /// Depth of each tree: every walk through tree `t` reaches its leaf within `depths[t]` steps.
    depths: Vec<usize>,
    /// The complete-tree layout used for scoring when the trees are shallow enough.
    dense: Option<Dense>,
}

impl IForest {
    /// Assembles a forest from checked parts (`offsets` rise strictly from 0 to `nodes.len()`,
    /// children inside their tree and after their parent, features below `n_features`).
    pub(crate) fn from_parts(n_features: usize, max_samples: usize, nodes: Vec<Node>, offsets: Vec<usize>) -> Self {
        let depths: Vec<usize> = offsets
            .windows(2)
            .map(|w| tree::tree_depth(&nodes[w[0]..w[1]]))
            .collect();
        let max_depth = depths.iter().copied().max().unwrap_or(0);
        let dense = if (1..=DENSE_MAX_DEPTH).contains(&max_depth) {
            Dense::build(&nodes, &offsets, max_depth, n_features)
        } else {
            None
        };
        IForest {
            n_features,
            max_samples,
            nodes,
            offsets,
            depths,
            dense,
        }
    }

    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Features per sample the forest expects.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// ψ: the number of samples each tree was grown on.
    pub fn max_samples(&self) -> usize {
        self.max_samples
    }

    /// Total number of nodes over all trees.
    pub fn n_nodes(&self) -> usize {
        self.nodes.len()
    }

    fn tree(&self, t: usize) -> &[Node] {
        &self.nodes[self.offsets[t]..self.offsets[t + 1]]
    }

    /// The random stream of tree `t`: ChaCha8 seeded with `seed`, stream `t`. Independent of
    /// the thread that grows the tree, so results do not depend on the thread count.
    fn tree_rng(seed: u64, t: usize) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(t as u64);
        rng
    }

    /// Grows tree `t`: draws its features and its ψ samples, then the tree itself.
    fn grow_tree(config: &IForestConfig, x: &[f32], n: usize, d: usize, psi: usize, seed: u64, t: usize) -> Vec<Node> {
        let mut rng = Self::tree_rng(seed, t);
        let k = config.features_per_tree(d);
        let features: Vec<u32> = if k == d {
            (0..d as u32).collect()
        } else {
            index::sample(&mut rng, d, k).into_iter().map(|f| f as u32).collect()
        };
        let rows: Vec<usize> = if config.bootstrap {
            // With replacement. scikit-learn passes the draw counts as sample weights, and its
            // trees count (and split) only the distinct samples: do the same.
            let mut r: Vec<usize> = (0..psi).map(|_| rng.random_range(0..n)).collect();
            r.sort_unstable();
            r.dedup();
            r
        } else if psi == n {
            (0..n).collect()
        } else {
            index::sample(&mut rng, n, psi).into_vec()
        };
        tree::grow(x, d, &rows, &features, tree::depth_limit(psi), &mut rng)
    }

    /// Adds, for each row of `x` (row-major, `n_features` wide), the path lengths h(x) of all
    /// trees to `out`, tree after tree (the order is fixed, so sums do not depend on threads).
    fn path_length_sums(&self, x: &[f32], out: &mut [f64]) {
        let d = self.n_features;
        for t in 0..self.n_trees() {
            let (tree, steps) = (self.tree(t), self.depths[t]);
            for (xs, acc) in x.chunks(LANES * d).zip(out.chunks_mut(LANES)) {
                // Leaves point at themselves, so `steps` steps end every walk on its leaf.
                let mut at = [0usize; LANES];
                let lanes = acc.len();
                for _ in 0..steps {
                    for (l, i) in at[..lanes].iter_mut().enumerate() {
                        let node = &tree[*i];
                        let v = xs[l * d + node.feature as usize];
                        *i = if v <= node.value { node.left } else { node.right } as usize;
                    }
                }
                for (a, &i) in acc.iter_mut().zip(&at) {
                    *a += tree[i].value as f64;
                }
            }
        }
    }
}

impl Model for IForest {
    const KIND: &'static str = "iforest";
    type Config = IForestConfig;

    fn fit(config: &IForestConfig, train: &Dataset, ctx: &FitContext) -> Result<Self> {
        let (n, d) = (train.n(), train.dim());
        let psi = config.max_samples.resolve(n)?;
        if psi > (i32::MAX / 2) as usize || d > i32::MAX as usize {
            return Err(Error::InvalidData(format!(
                "{}: {n} samples of {d} features is too large for an isolation tree",
                train.name()
            )));
        }
        let x = train.x();
        ctx.progress.start("fitting trees", Some(config.n_estimators as u64));
        let trees: Vec<Vec<Node>> = (0..config.n_estimators)
            .into_par_iter()
            .map(|t| {
                let tree = Self::grow_tree(config, x, n, d, psi, ctx.seed, t);
                ctx.progress.advance(1);
                tree
            })
            .collect();
        ctx.progress.finish();
        let mut offsets = Vec::with_capacity(trees.len() + 1);
        offsets.push(0);
        let mut nodes = Vec::with_capacity(trees.iter().map(Vec::len).sum());
        for tree in trees {
            nodes.extend(tree);
            offsets.push(nodes.len());
        }
        Ok(IForest::from_parts(d, psi, nodes, offsets))
    }

    fn score(&self, data: &Dataset) -> Result<Vec<f32>> {
        if data.dim() != self.n_features {
            return Err(Error::shape(
                format!("{}: features per sample", data.name()),
                format!("{} (as fitted)", self.n_features),
                data.dim(),
            ));
        }
        let d = self.n_features;
        // E[h(x)] / c(ψ) = sum / (t c(ψ)); for ψ = 1 the denominator is 0 and, as in
        // scikit-learn, the score is 2^-1.
        let denominator = self.n_trees() as f64 * average_path_length(self.max_samples);
        let mut scores = vec![0f32; data.n()];
        scores
            .par_chunks_mut(BLOCK)
            .zip(data.x().par_chunks(BLOCK * d))
            .for_each_init(Vec::new, |scratch, (out, x)| {
                let mut sums = [0f64; BLOCK];
                let sums = &mut sums[..out.len()];
                match &self.dense {
                    Some(dense) => dense.path_length_sums_fast(x, sums, scratch),
                    None => self.path_length_sums(x, sums),
                }
                for (s, &h) in out.iter_mut().zip(sums.iter()) {
                    let e = if denominator > 0.0 { h / denominator } else { 1.0 };
                    *s = (-e).exp2() as f32;
                }
            });
        Ok(scores)
    }

    fn save_weights(&self, path: &Path) -> Result<()> {
        weights::save(self, path)
    }

    fn load_weights(config: &IForestConfig, path: &Path, _device: &crate::backend::Device) -> Result<Self> {
        weights::load(config, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Labels;
    use crate::progress::Silent;

    fn data(n: usize, d: usize) -> Dataset {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let x = (0..n * d)
            .map(|i| {
                if i % 7 == 0 {
                    0.5
                } else {
                    rng.random::<f32>() * 4.0 - 2.0
                }
            })
            .collect();
        Dataset::tabular("t", d, x, Labels::None).unwrap()
    }

    #[test]
    fn complete_tree_layout_scores_bit_identically_to_walking_nodes() {
        for (max_samples, n) in [(256u64, 3000), (40, 3000), (3, 50)] {
            let data = data(n, 5);
            let config = IForestConfig {
                max_samples: crate::models::iforest::MaxSamples::Count(max_samples),
                ..Default::default()
            };
            let forest = IForest::fit(&config, &data, &FitContext::new(1, &Silent)).unwrap();
            let dense = forest.dense.as_ref().expect("shallow trees use the complete layout");
            let mut walked = vec![0f64; n];
            let mut laid = vec![0f64; n];
            for (rows, (a, b)) in data
                .x()
                .chunks(BLOCK * 5)
                .zip(walked.chunks_mut(BLOCK).zip(laid.chunks_mut(BLOCK)))
            {
                forest.path_length_sums(rows, a);
                dense.path_length_sums(rows, b);
            }
            assert_eq!(walked, laid, "max_samples {max_samples}");
        }
    }

    #[test]
    fn vectorised_scoring_is_bit_identical_to_the_portable_walk() {
        // Depths 1, 2, 4, 6, 8, 10 (max_samples 2 … 1000), blocks with a tail that is not a
        // multiple of the vector width, 1 to 40 features.
        for (max_samples, n, d) in [
            (2u64, 300, 1),
            (3, 50, 3),
            (16, 1000, 7),
            (40, 3000, 5),
            (256, 2053, 16),
            (1000, 1200, 40),
        ] {
            let data = data(n, d);
            let config = IForestConfig {
                n_estimators: 30,
                max_samples: crate::models::iforest::MaxSamples::Count(max_samples),
                ..Default::default()
            };
            let forest = IForest::fit(&config, &data, &FitContext::new(3, &Silent)).unwrap();
            let dense = forest.dense.as_ref().expect("complete layout");
            let mut portable = vec![0f64; n];
            let mut fast = vec![0f64; n];
            let mut scratch = Vec::new();
            for (rows, (a, b)) in data
                .x()
                .chunks(BLOCK * d)
                .zip(portable.chunks_mut(BLOCK).zip(fast.chunks_mut(BLOCK)))
            {
                dense.path_length_sums(rows, a);
                dense.path_length_sums_fast(rows, b, &mut scratch);
            }
            assert_eq!(
                portable, fast,
                "max_samples {max_samples}, d {d}, depth {}",
                dense.depth
            );
        }
    }

    #[test]
    fn deep_trees_fall_back_to_walking_nodes() {
        let data = data(5000, 3);
        let config = IForestConfig {
            n_estimators: 3,
            max_samples: crate::models::iforest::MaxSamples::Count(5000),
            ..Default::default()
        };
        let forest = IForest::fit(&config, &data, &FitContext::new(1, &Silent)).unwrap();
        assert!(forest.dense.is_none());
        assert_eq!(forest.score(&data).unwrap().len(), 5000);
    }
}
