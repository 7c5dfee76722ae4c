//! AVX2 scoring through the complete-tree layout ([`super::forest`]'s `Dense`), bit-identical to
//! the portable walk.
//!
//! The top levels of every tree are the same few nodes for all rows, so they are evaluated eight
//! rows at a time without per-row node loads: the block of rows is transposed (one column of
//! eight values per feature), and at level k the 2^k nodes' columns are blended into one vector
//! by the bits of each row's position so far, compared with the node thresholds (permuted into
//! place), and the positions updated. Levels below [`VERTICAL_LEVELS`] are walked per row, eight
//! rows in lock-step. Same comparisons (`x > threshold` goes right) and the same leaf values
//! added in the same order as the portable walk, so the sums are identical.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

#[cfg(target_arch = "x86_64")]
use super::forest::BLOCK;

/// Levels evaluated eight rows at a time (level k costs 2^k column loads per eight rows).
const VERTICAL_LEVELS: usize = 4;

/// Rows per vector.
const LANES: usize = 8;

/// Whether this CPU can run [`path_length_sums`].
pub(super) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The forest in the complete-tree layout, as [`path_length_sums`] reads it.
pub(super) struct Layout<'a> {
    pub depth: usize,
    pub n_features: usize,
    /// `2^depth − 1` (feature, threshold) per tree, heap order.
    pub split: &'a [(u32, f32)],
    /// `split` with features multiplied by [`BLOCK`]: offsets of the columns in the transposed block.
    pub split_scaled: &'a [(u32, f32)],
    /// `2^depth` path lengths per tree.
    pub leaf: &'a [f32],
}

/// Adds each row's path lengths over all trees to `out` (tree after tree), for the first
/// `out.len() / 8 * 8` rows of the row-major `x`; returns how many rows it did. `scratch` is reused
/// for the transposed block.
///
/// # Safety
/// The CPU must support AVX2 ([`available`]); `layout` must be a valid complete-tree layout
/// (every split feature below `n_features`, `split` and `leaf` sized for whole trees of `depth`
/// levels, depth at least 1) and `x` must hold `out.len()` rows of `n_features` values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) unsafe fn path_length_sums(layout: &Layout, x: &[f32], out: &mut [f64], scratch: &mut Vec<f32>) -> usize {
    let d = layout.n_features;
    let rows = out.len() / LANES * LANES;
    if rows == 0 || layout.depth == 0 {
        return 0;
    }
    debug_assert!(x.len() >= rows * d);
    assert!(rows <= BLOCK && layout.split_scaled.len() == layout.split.len());
    // Column-major copy of the block: feature f of row r at `f * BLOCK + r`.
    scratch.clear();
    scratch.resize(d * BLOCK, 0.0);
    for r in 0..rows {
        for f in 0..d {
            scratch[f * BLOCK + r] = x[r * d + f];
        }
    }
    let xt = scratch.as_slice();
    let depth = layout.depth;
    let vertical = depth.min(VERTICAL_LEVELS);
    let inner = (1usize << depth) - 1;
    // Positions within level `vertical`, per row, for the tree at hand.
    let mut pos = [0i32; BLOCK];
    let trees = layout.split.len() / inner;
    for t in 0..trees {
        let split = &layout.split[t * inner..(t + 1) * inner];
        let scaled = &layout.split_scaled[t * inner..(t + 1) * inner];
        let leaf = &layout.leaf[t * (inner + 1)..(t + 1) * (inner + 1)];
        // Thresholds of each vertical level, lane j = node j of the level.
        let mut level_thr = [[f32::INFINITY; LANES]; VERTICAL_LEVELS];
        for (k, thr) in level_thr.iter_mut().enumerate().take(vertical) {
            let first = (1usize << k) - 1;
            for (j, v) in thr.iter_mut().take(1 << k).enumerate() {
                *v = split[first + j].1;
            }
        }
        for g in 0..rows / LANES {
            // SAFETY (whole block): AVX2 is enabled by the caller; column loads read
            // `xt[f * BLOCK + g * 8 .. + 8]` with `f < d` and `g * 8 + 8 <= rows <= BLOCK`.
            unsafe {
                let cols = xt.as_ptr().add(g * LANES);
                let mut j = _mm256_setzero_si256();
                j = level::<0>(split, &level_thr[0], cols, BLOCK, j);
                if vertical > 1 {
                    j = level::<1>(split, &level_thr[1], cols, BLOCK, j);
                }
                if vertical > 2 {
                    j = level::<2>(split, &level_thr[2], cols, BLOCK, j);
                }
                if vertical > 3 {
                    j = level::<3>(split, &level_thr[3], cols, BLOCK, j);
                }
                _mm256_storeu_si256(pos.as_mut_ptr().add(g * LANES).cast(), j);
            }
        }
        // The remaining levels, per row (plain scalar code: with AVX2 enabled, LLVM turns this
        // loop into slow emulated gathers).
        // SAFETY: the layout's invariants (see this function's contract); positions after
        // `vertical` levels are below 2^vertical.
        unsafe {
            walk_rest(
                scaled,
                leaf,
                xt.as_ptr(),
                vertical,
                depth,
                &pos[..rows],
                &mut out[..rows],
            )
        };
    }
    rows
}

/// Continues the walks from level `from` (positions `pos` within that level) to the leaves and adds
/// the leaf values to `out`, eight rows in lock-step so their independent loads overlap. Reads the
/// transposed block `xt` (feature f of row r at `f * BLOCK + r`) through the scaled splits, so a
/// lane's value is one load at a constant displacement from its group's column base.
///
/// # Safety
/// `scaled` / `leaf` are one tree of `depth` levels in heap order (`2^depth − 1` splits with
/// features × [`BLOCK`], `2^depth` leaves), every scaled feature is a column of `xt`, every `pos`
/// is below `2^from`, and `pos.len()` is a multiple of 8 and at most [`BLOCK`].
#[cfg(target_arch = "x86_64")]
#[inline(never)]
#[allow(clippy::needless_range_loop)]
unsafe fn walk_rest(
    scaled: &[(u32, f32)],
    leaf: &[f32],
    xt: *const f32,
    from: usize,
    depth: usize,
    pos: &[i32],
    out: &mut [f64],
) {
    let inner = scaled.len();
    let first = (1usize << from) - 1;
    for (g, (p, acc)) in pos.chunks_exact(LANES).zip(out.chunks_exact_mut(LANES)).enumerate() {
        // SAFETY: g * 8 + 7 < pos.len() <= BLOCK, inside the block's columns.
        let base = unsafe { xt.add(g * LANES) };
        let mut at = [0usize; LANES];
        for l in 0..LANES {
            at[l] = first + p[l] as usize;
        }
        for _ in from..depth {
            for l in 0..LANES {
                // SAFETY: before the last level a position is an inner node (< `inner`); the
                // scaled feature plus a lane below 8 stays inside the feature's column.
                let (f, th) = unsafe { *scaled.get_unchecked(at[l]) };
                let v = unsafe { *base.add(f as usize + l) };
                at[l] = 2 * at[l] + 1 + (v > th) as usize;
            }
        }
        for l in 0..LANES {
            // SAFETY: after `depth` levels a position is a bottom slot, `inner..2 inner + 1`.
            acc[l] += unsafe { *leaf.get_unchecked(at[l] - inner) } as f64;
        }
    }
}

/// One vertical level `K` for eight rows at position `j` (0..2^K) within the level: blends the
/// 2^K nodes' columns by the bits of `j` (pairs by bit 0, then pairs of pairs by bit 1, …),
/// compares with the permuted thresholds, returns the positions on the next level.
///
/// # Safety
/// AVX2; `cols` points at the block's eight values of feature 0, feature f at `cols + f * stride`,
/// for every split feature of the level's nodes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn level<const K: usize>(
    split: &[(u32, f32)],
    thr: &[f32; LANES],
    cols: *const f32,
    stride: usize,
    j: __m256i,
) -> __m256i {
    let first = (1usize << K) - 1;
    let mut v = [_mm256_setzero_ps(); LANES];
    for (i, slot) in v.iter_mut().take(1 << K).enumerate() {
        // SAFETY: the caller guarantees the column of every split feature is readable.
        *slot = unsafe { _mm256_loadu_ps(cols.add(split[first + i].0 as usize * stride)) };
    }
    let mut width = 1usize << K;
    let mut bit = 0;
    while width > 1 {
        let mask = _mm256_castsi256_ps(_mm256_sllv_epi32(j, _mm256_set1_epi32(31 - bit)));
        for i in 0..width / 2 {
            v[i] = _mm256_blendv_ps(v[2 * i], v[2 * i + 1], mask);
        }
        width /= 2;
        bit += 1;
    }
    // SAFETY: `thr` holds eight values.
    let th = _mm256_permutevar8x32_ps(unsafe { _mm256_loadu_ps(thr.as_ptr()) }, j);
    let right = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_GT_OQ>(v[0], th));
    // 2j + (x > threshold); `right` is −1 where true.
    _mm256_sub_epi32(_mm256_add_epi32(j, j), right)
}

/// Stand-in off x86-64 ([`available`] is false there).
///
/// # Safety
/// Never unsafe; kept so the caller's code is the same on every target.
#[cfg(not(target_arch = "x86_64"))]
pub(super) unsafe fn path_length_sums(_: &Layout, _: &[f32], _: &mut [f64], _: &mut Vec<f32>) -> usize {
    0
}
