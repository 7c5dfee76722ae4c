//! The CPU kernels behind [`super`]: layout changes, im2col / col2im in NHWC, and GEMMs over chunks of
//! the batch (the `gemm` crate; AVX-512 / AVX2 / SSE chosen at run time from CPUID).
//!
//! burn-flex 0.22.1 runs a convolution as one GEMM per image and per 512-pixel tile, and its
//! backward through a transposed convolution and a batch↔channel swapped convolution: on the small
//! feature maps of GANomaly and DCEC that gives products with 1–64 columns, where packing dominates
//! (profile: ../shared/notes/speed-profile-2026-12-02.md). Here the images of a chunk are folded into
//! the row dimension of every product (a few thousand rows), and a chunk's im2col matrix stays small
//! enough to be reused from cache.

use std::mem::MaybeUninit;

use rayon::prelude::*;

/// A convolution's shape, in the direction input → output of the *forward convolution*. A transposed
/// convolution is described by the convolution it transposes (its output is this `input`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub batch: usize,
    /// Channels of the convolution's input (columns of the im2col matrix come in `kh·kw` blocks of these).
    pub channels: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub k_h: usize,
    pub k_w: usize,
    pub out_h: usize,
    pub out_w: usize,
    pub stride: [usize; 2],
    /// Padding before the first row / column (the end padding follows from the sizes).
    pub pad: [usize; 2],
    pub dilation: [usize; 2],
}

impl Geometry {
    /// Rows of the im2col matrix: one per output pixel of every image.
    pub fn rows(&self) -> usize {
        self.batch * self.out_h * self.out_w
    }
    /// Columns of the im2col matrix: `k_h · k_w · channels`, ordered (kh, kw, c).
    pub fn cols(&self) -> usize {
        self.k_h * self.k_w * self.channels
    }
    pub fn in_len(&self) -> usize {
        self.batch * self.in_h * self.in_w * self.channels
    }

    /// Calls `f(tap, pixel)` for every kernel tap of output position (oy, ox) that falls inside the
    /// image: `tap` indexes the (kh, kw) block of an im2col row, `pixel` the input pixel (row-major).
    #[inline]
    fn taps(&self, oy: usize, ox: usize, mut f: impl FnMut(usize, usize)) {
        for ky in 0..self.k_h {
            let Some(iy) = Self::src(oy, ky, self.stride[0], self.pad[0], self.dilation[0], self.in_h) else {
                continue;
            };
            for kx in 0..self.k_w {
                if let Some(ix) = Self::src(ox, kx, self.stride[1], self.pad[1], self.dilation[1], self.in_w) {
                    f(ky * self.k_w + kx, iy * self.in_w + ix);
                }
            }
        }
    }

    /// The input row (or column) a kernel tap reads for an output position, if inside the image.
    #[inline]
    fn src(o: usize, k: usize, stride: usize, pad: usize, dil: usize, size: usize) -> Option<usize> {
        let p = (o * stride + k * dil).checked_sub(pad)?;
        (p < size).then_some(p)
    }
}

/// Rows per parallel task: enough work per task to amortise rayon's scheduling.
fn chunk_rows(row_len: usize) -> usize {
    (16_384 / row_len.max(1)).max(1)
}

/// Target size of one chunk's im2col matrix, in f32s (4 MiB): small enough to be reused from cache
/// instead of faulting in a fresh `B·OH·OW × K` buffer (64 MiB for GANomaly's second layer at batch 256).
const CHUNK_FLOATS: usize = 1 << 20;

impl Geometry {
    /// Images per chunk of the batch: the im2col matrix of one chunk stays near [`CHUNK_FLOATS`].
    /// It depends on the sizes alone (not on the thread count), so sums over chunks run in one order.
    pub fn images_per_chunk(&self) -> usize {
        let per_image = self.out_h * self.out_w * self.cols();
        (CHUNK_FLOATS / per_image.max(1)).clamp(1, self.batch.max(1))
    }

    /// The same geometry for `n` images.
    pub fn with_batch(&self, n: usize) -> Self {
        Self { batch: n, ..*self }
    }

    /// Values of one image of the convolution's input (NHWC).
    pub fn in_image_len(&self) -> usize {
        self.in_h * self.in_w * self.channels
    }

    /// Rows of the im2col matrix per image.
    pub fn rows_per_image(&self) -> usize {
        self.out_h * self.out_w
    }

    /// For output column `ox` of an undilated kernel: the taps `kx0..kx1` that fall inside the image
    /// and the input column of tap `kx0` (`kx1 <= kx0` when none does).
    #[inline]
    fn x_taps(&self, ox: usize) -> (usize, usize, usize) {
        let start = (ox * self.stride[1]) as isize - self.pad[1] as isize;
        let kx0 = (-start).clamp(0, self.k_w as isize) as usize;
        let kx1 = (self.in_w as isize - start).clamp(0, self.k_w as isize) as usize;
        (kx0, kx1, (start + kx0 as isize).max(0) as usize)
    }
}

/// `len` zeros, written by all threads when large (buffers that are overwritten anyway but go
/// through safe slices: weight layouts, the im2col scratch). `vec![0.0; len]` is one `memset` on the
/// calling thread while the other cores wait.
pub fn zeroed(len: usize) -> Vec<f32> {
    if len < 1 << 16 {
        return vec![0.0; len];
    }
    let mut out = uninit(len);
    out.par_chunks_mut(1 << 16).for_each(|c| {
        zero_init(c);
    });
    // SAFETY: every chunk was zeroed above.
    unsafe { init(out) }
}

/// `len` values for the caller to write, every one of them, before [`init`]: a layer's output or
/// input gradient, which the products and col2im overwrite. Zeroing them first cost 5 % of a DCEC
/// pretraining step (a pass over ~40 MB per step, 2026-12-05).
pub fn uninit(len: usize) -> Box<[MaybeUninit<f32>]> {
    Box::new_uninit_slice(len)
}

/// The values of `v`.
///
/// # Safety
/// Every element of `v` has been written.
pub unsafe fn init(v: Box<[MaybeUninit<f32>]>) -> Vec<f32> {
    // SAFETY: the caller's promise.
    unsafe { v.assume_init() }.into_vec()
}

/// `s` as f32s.
///
/// # Safety
/// Every element of `s` has been written.
pub unsafe fn assume_init_mut(s: &mut [MaybeUninit<f32>]) -> &mut [f32] {
    // SAFETY: the caller's promise; `MaybeUninit<f32>` has `f32`'s layout.
    unsafe { &mut *(s as *mut [MaybeUninit<f32>] as *mut [f32]) }
}

/// `s` set to zeros, as f32s.
pub fn zero_init(s: &mut [MaybeUninit<f32>]) -> &mut [f32] {
    s.fill(MaybeUninit::new(0.0));
    // SAFETY: every element was just written; `MaybeUninit<f32>` has `f32`'s layout.
    unsafe { &mut *(s as *mut [MaybeUninit<f32>] as *mut [f32]) }
}

/// `[B, C, H·W]` → `[B, H·W, C]`.
pub fn nchw_to_nhwc(x: &[f32], b: usize, c: usize, hw: usize) -> Vec<f32> {
    let mut out = zeroed(b * c * hw);
    out.par_chunks_mut(c * hw)
        .zip(x.par_chunks(c * hw))
        .for_each(|(dst, src)| transpose(src, dst, c, hw));
    out
}

/// `[B, H·W, C]` → `[B, C, H·W]`.
#[cfg(test)]
pub fn nhwc_to_nchw(x: &[f32], b: usize, c: usize, hw: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; b * c * hw];
    out.par_chunks_mut(c * hw)
        .zip(x.par_chunks(c * hw))
        .for_each(|(dst, src)| transpose(src, dst, hw, c));
    out
}

/// `src[rows×cols]ᵀ` (`[cols×rows]`), in blocks of 16 output rows in parallel when large (the
/// convolutions transpose weight matrices every step: serial, it would idle a core).
pub fn transposed(src: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    const BLK: usize = 16;
    let mut out = zeroed(rows * cols);
    if rows * cols < 1 << 16 {
        transpose(src, &mut out, rows, cols);
        return out;
    }
    out.par_chunks_mut(BLK * rows).enumerate().for_each(|(b, dst)| {
        let c0 = b * BLK;
        let nc = dst.len() / rows;
        for r in 0..rows {
            let row = &src[r * cols + c0..r * cols + c0 + nc];
            for (j, &v) in row.iter().enumerate() {
                dst[j * rows + r] = v;
            }
        }
    });
    out
}

/// `dst[cols×rows] = src[rows×cols]ᵀ` (the `transpose` crate's tiled copy: the bounds-checked 16×16
/// loop it replaces took ~3 % of a GANomaly training step, converting weights every step).
fn transpose(src: &[f32], dst: &mut [f32], rows: usize, cols: usize) {
    let n = rows * cols;
    transpose::transpose(&src[..n], &mut dst[..n], cols, rows);
}

/// im2col of the NHWC images `x` (`g.batch` of them) into `cols` (`[B·OH·OW, KH·KW·C]`, at least that
/// long): zero where a tap falls in the padding.
pub fn im2col_into(x: &[f32], g: &Geometry, cols: &mut [f32]) {
    let (c, kcols) = (g.channels, g.cols());
    let per_image = g.rows_per_image();
    let rows = chunk_rows(kcols);
    cols[..g.rows() * kcols]
        .par_chunks_mut(kcols * rows)
        .enumerate()
        .for_each(|(chunk, dst)| {
            let first = chunk * rows;
            for (i, row) in dst.chunks_mut(kcols).enumerate() {
                let r = first + i;
                let (b, p) = (r / per_image, r % per_image);
                let (oy, ox) = (p / g.out_w, p % g.out_w);
                let image = &x[b * g.in_image_len()..][..g.in_image_len()];
                if g.dilation[1] == 1 {
                    // Per kernel row, one copy of the taps inside the image (all k_w of them unless the
                    // window crosses an edge), zeros for the rest.
                    let run = g.k_w * c;
                    let (kx0, kx1, ix0) = g.x_taps(ox);
                    for (ky, block) in row.chunks_mut(run).enumerate() {
                        match Geometry::src(oy, ky, g.stride[0], g.pad[0], g.dilation[0], g.in_h) {
                            Some(iy) if kx1 > kx0 => {
                                block[..kx0 * c].fill(0.0);
                                block[kx0 * c..kx1 * c]
                                    .copy_from_slice(&image[(iy * g.in_w + ix0) * c..][..(kx1 - kx0) * c]);
                                block[kx1 * c..].fill(0.0);
                            }
                            _ => block.fill(0.0),
                        }
                    }
                    continue;
                }
                row.fill(0.0);
                g.taps(oy, ox, |tap, pixel| {
                    row[tap * c..][..c].copy_from_slice(&image[pixel * c..][..c]);
                });
            }
        });
}

/// col2im into the NHWC images `x` (`g.batch` of them, each written whole: its values need not be
/// initialised): the adjoint of [`im2col_into`] (taps falling on one input pixel are summed in a
/// fixed order, so results do not depend on the thread count).
pub fn col2im_into(cols: &[f32], g: &Geometry, x: &mut [MaybeUninit<f32>]) {
    let (c, kcols) = (g.channels, g.cols());
    let per_image = g.rows_per_image();
    x[..g.in_len()]
        .par_chunks_mut(g.in_image_len())
        .enumerate()
        .for_each(|(b, img)| {
            let img = zero_init(img);
            for p in 0..per_image {
                let (oy, ox) = (p / g.out_w, p % g.out_w);
                let row = &cols[(b * per_image + p) * kcols..][..kcols];
                if g.dilation[1] == 1 {
                    // Per kernel row, the taps inside the image added in one run (taps in a row hit
                    // distinct pixels, so the sums run in the same order as tap by tap).
                    let run = g.k_w * c;
                    let (kx0, kx1, ix0) = g.x_taps(ox);
                    for ky in 0..g.k_h {
                        let Some(iy) = Geometry::src(oy, ky, g.stride[0], g.pad[0], g.dilation[0], g.in_h) else {
                            continue;
                        };
                        if kx1 > kx0 {
                            let dst = &mut img[(iy * g.in_w + ix0) * c..][..(kx1 - kx0) * c];
                            let src = &row[ky * run + kx0 * c..][..(kx1 - kx0) * c];
                            dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
                        }
                    }
                    continue;
                }
                g.taps(oy, ox, |tap, pixel| {
                    let dst = &mut img[pixel * c..][..c];
                    dst.iter_mut().zip(&row[tap * c..][..c]).for_each(|(d, s)| *d += s);
                });
            }
        });
}

/// `[A, C, KH, KW]` → `[A, KH·KW·C]` (a weight as a matrix whose columns match [`im2col`]).
pub fn weight_to_matrix(w: &[f32], a: usize, c: usize, kk: usize) -> Vec<f32> {
    per_row_transposed(w, a, c, kk)
}

/// [`weight_to_matrix`]ᵀ, stored row-major (`[kk·c × a]`): the layout the gemm crate packs fastest
/// as a product's B (~15–22 % on the largest convolution products, docs/bench/speed.md).
pub fn weight_to_matrix_t(w: &[f32], a: usize, c: usize, kk: usize) -> Vec<f32> {
    transposed(&weight_to_matrix(w, a, c, kk), a, c * kk)
}

/// The inverse of [`weight_to_matrix`].
pub fn matrix_to_weight(m: &[f32], a: usize, c: usize, kk: usize) -> Vec<f32> {
    per_row_transposed(m, a, kk, c)
}

/// Each of the `a` rows of `src`, a `rows×cols` matrix, transposed; the rows in parallel when the
/// whole is large (a training step converts every weight several times: run serially, these
/// copies left a core idle ~5 % of a GANomaly step).
fn per_row_transposed(src: &[f32], a: usize, rows: usize, cols: usize) -> Vec<f32> {
    let len = rows * cols;
    let mut out = zeroed(a * len);
    if len == 0 {
        return out;
    }
    if a * len >= 1 << 16 {
        out.par_chunks_mut(len)
            .zip(src.par_chunks(len))
            .for_each(|(dst, src)| transpose(src, dst, rows, cols));
    } else {
        for (dst, src) in out.chunks_mut(len).zip(src.chunks(len)) {
            transpose(src, dst, rows, cols);
        }
    }
    out
}

/// A matrix operand: its data and (row stride, column stride).
#[derive(Clone, Copy)]
pub struct Mat<'a> {
    pub data: &'a [f32],
    pub rs: usize,
    pub cs: usize,
}

impl<'a> Mat<'a> {
    /// A row-major matrix with `cols` columns.
    pub fn rows(data: &'a [f32], cols: usize) -> Self {
        Self { data, rs: cols, cs: 1 }
    }
    /// The transpose of a row-major matrix with `cols` columns.
    pub fn t(data: &'a [f32], cols: usize) -> Self {
        Self { data, rs: 1, cs: cols }
    }
    /// The last element a `rows × cols` view touches lies inside `data`.
    pub(super) fn fits(&self, rows: usize, cols: usize) -> bool {
        rows == 0 || cols == 0 || (rows - 1) * self.rs + (cols - 1) * self.cs < self.data.len()
    }
}

/// `dst[m×n] (+)= a[m×k] · b[k×n]`, `dst` row-major (its first `m·n` values); added to what `dst`
/// holds when `accumulate`, else overwritten. Up to `threads` threads from rayon's pool.
#[allow(clippy::too_many_arguments)]
pub fn matmul_into(dst: &mut [f32], a: Mat, b: Mat, m: usize, k: usize, n: usize, accumulate: bool, threads: usize) {
    assert!(dst.len() >= m * n, "conv gemm: destination smaller than the product");
    // SAFETY: `dst` holds at least m·n initialised values.
    unsafe { matmul_raw(dst.as_mut_ptr(), a, b, [m, k, n], accumulate, threads) }
}

/// [`matmul_into`] without `accumulate`, into values not yet initialised: its first `m·n` are
/// written (never read).
pub fn matmul_uninit(dst: &mut [MaybeUninit<f32>], a: Mat, b: Mat, m: usize, k: usize, n: usize, threads: usize) {
    assert!(dst.len() >= m * n, "conv gemm: destination smaller than the product");
    // SAFETY: `dst` holds room for m·n values; without `accumulate` none is read before written.
    unsafe { matmul_raw(dst.as_mut_ptr().cast(), a, b, [m, k, n], false, threads) }
}

/// # Safety
/// `dst` points to `m·n` writable f32s, initialised when `accumulate`.
unsafe fn matmul_raw(dst: *mut f32, a: Mat, b: Mat, [m, k, n]: [usize; 3], accumulate: bool, threads: usize) {
    assert!(a.fits(m, k) && b.fits(k, n), "conv gemm: operand smaller than its view");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            // SAFETY: the caller's promise on `dst`.
            unsafe { std::ptr::write_bytes(dst, 0, m * n) };
        }
        return;
    }
    let parallelism = if threads > 1 && m * n * k >= 1 << 18 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    let used = if matches!(parallelism, gemm::Parallelism::None) {
        1
    } else {
        threads
    };
    let shape = logged_shape(&a, &b, [m, k, n], accumulate, used);
    // SAFETY: the assertion above checked that every element the views address lies inside the
    // operands; `dst` holds a row-major m×n matrix (column stride 1, row stride n), read only when
    // `accumulate` (the gemm crate ignores the destination's values otherwise).
    shape_log::timed(shape, || unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            n as isize,
            accumulate,
            a.data.as_ptr(),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr(),
            b.cs as isize,
            b.rs as isize,
            if accumulate { 1.0 } else { 0.0 },
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    });
}

/// How the shape log records a product `[m×k] · [k×n]` of these views on `threads` threads.
pub(super) fn logged_shape(
    a: &Mat,
    b: &Mat,
    [m, k, n]: [usize; 3],
    accumulate: bool,
    threads: usize,
) -> shape_log::Shape {
    shape_log::Shape {
        m,
        k,
        n,
        a_col_major: a.rs == 1 && a.cs != 1,
        b_col_major: b.rs == 1 && b.cs != 1,
        accumulate,
        threads,
    }
}

/// Time per GEMM shape, collected while switched on (`oddity bench speed --gemm-shapes`): where a
/// step's products lose efficiency. Off by default (one relaxed atomic load per product).
pub mod shape_log {
    use std::collections::BTreeMap;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// One product `[m×k] · [k×n]` as [`super::matmul_into`] ran it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
    pub struct Shape {
        pub m: usize,
        pub k: usize,
        pub n: usize,
        /// The left operand is read column-major (a transposed view), the right one likewise.
        pub a_col_major: bool,
        pub b_col_major: bool,
        /// Added to the destination (`beta = 1`) rather than overwriting it.
        pub accumulate: bool,
        /// Threads the product itself was split over (1 when it ran beside another).
        pub threads: usize,
    }

    /// Calls and seconds of one shape.
    #[derive(Clone, Copy, Debug)]
    pub struct Entry {
        pub shape: Shape,
        pub calls: u64,
        pub seconds: f64,
    }

    impl Entry {
        pub fn gflops_per_second(&self) -> f64 {
            let s = &self.shape;
            2.0 * (s.m * s.k * s.n) as f64 * self.calls as f64 / self.seconds.max(1e-12) / 1e9
        }
    }

    static ON: AtomicBool = AtomicBool::new(false);
    static LOG: Mutex<BTreeMap<Shape, (u64, f64)>> = Mutex::new(BTreeMap::new());

    fn on() -> bool {
        ON.load(Ordering::Relaxed)
    }

    /// Runs the product `f`, adding its time under `shape` while the log is on.
    pub(in crate::nn::fast) fn timed<R>(shape: Shape, f: impl FnOnce() -> R) -> R {
        if !on() {
            return f();
        }
        let started = std::time::Instant::now();
        let r = f();
        add(shape, started.elapsed().as_secs_f64());
        r
    }

    fn add(shape: Shape, seconds: f64) {
        if let Ok(mut log) = LOG.lock() {
            let e = log.entry(shape).or_insert((0, 0.0));
            e.0 += 1;
            e.1 += seconds;
        }
    }

    /// Clears the log and starts (or stops) collecting.
    pub fn collect(on: bool) {
        if let Ok(mut log) = LOG.lock() {
            log.clear();
        }
        ON.store(on, Ordering::Relaxed);
    }

    /// What was collected, most time first.
    pub fn entries() -> Vec<Entry> {
        let mut v: Vec<Entry> = LOG
            .lock()
            .map(|log| {
                log.iter()
                    .map(|(&shape, &(calls, seconds))| Entry { shape, calls, seconds })
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| (((i as u32).wrapping_mul(2_654_435_761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    #[test]
    fn transposed_matches_the_definition_in_parallel_and_serial() {
        // 300 × 250 is above the parallel threshold and not a multiple of the 16-row blocks.
        for (rows, cols) in [(300, 250), (7, 5)] {
            let src = seq(rows * cols, 3);
            let t = transposed(&src, rows, cols);
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(t[c * rows + r], src[r * cols + c], "({rows}×{cols}) at ({r}, {c})");
                }
            }
        }
    }

    #[test]
    fn the_shape_log_counts_products_while_on_only() {
        // A shape no other test uses (the log is global; other tests may add their own shapes).
        let (m, k, n) = (3, 5, 37);
        let (a, b) = (seq(m * k, 1), seq(k * n, 2));
        let mut c = vec![0.0; m * n];
        let mut run = || matmul_into(&mut c, Mat::rows(&a, k), Mat::t(&b, k), m, k, n, false, 1);
        let ours = || {
            shape_log::entries()
                .into_iter()
                .find(|e| (e.shape.m, e.shape.k, e.shape.n) == (m, k, n))
        };
        run();
        shape_log::collect(true);
        run();
        run();
        let e = ours().expect("the product was logged");
        shape_log::collect(false);
        run();
        assert_eq!(e.calls, 2);
        assert!(
            e.shape.b_col_major && !e.shape.a_col_major && !e.shape.accumulate,
            "{e:?}"
        );
        assert!(e.seconds > 0.0 && e.gflops_per_second() > 0.0, "{e:?}");
        assert!(ours().is_none(), "collect() clears the log and stops it");
    }

    fn im2col(x: &[f32], g: &Geometry) -> Vec<f32> {
        let mut cols = vec![f32::NAN; g.rows() * g.cols()];
        im2col_into(x, g, &mut cols);
        cols
    }

    fn col2im(cols: &[f32], g: &Geometry) -> Vec<f32> {
        // NaN where nothing would be written: col2im must overwrite every value.
        let mut x = vec![MaybeUninit::new(f32::NAN); g.in_len()];
        col2im_into(cols, g, &mut x);
        // SAFETY: every element was initialised (to NaN) above.
        unsafe { init(x.into_boxed_slice()) }
    }

    fn matmul(a: Mat, b: Mat, m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut dst = vec![f32::NAN; m * n];
        matmul_into(&mut dst, a, b, m, k, n, false, 2);
        dst
    }

    fn geom(stride: usize, pad: usize, k: usize, h: usize) -> Geometry {
        let out = (h + 2 * pad - k) / stride + 1;
        Geometry {
            batch: 2,
            channels: 3,
            in_h: h,
            in_w: h,
            k_h: k,
            k_w: k,
            out_h: out,
            out_w: out,
            stride: [stride, stride],
            pad: [pad, pad],
            dilation: [1, 1],
        }
    }

    /// Windows inside the image, over one edge, over both edges (kernel wider than the image), strided.
    fn geometries() -> [Geometry; 6] {
        [
            geom(2, 1, 4, 8),
            geom(1, 0, 4, 4),
            geom(1, 1, 3, 5),
            geom(2, 2, 5, 7),
            geom(1, 2, 5, 3),
            geom(3, 1, 4, 6),
        ]
    }

    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        // <im2col(x), c> == <x, col2im(c)> for any x, c: the identity the backward relies on.
        for g in geometries() {
            let x = seq(g.in_len(), 1);
            let c = seq(g.rows() * g.cols(), 2);
            let lhs: f64 = im2col(&x, &g)
                .iter()
                .zip(&c)
                .map(|(a, b)| (*a as f64) * (*b as f64))
                .sum();
            let rhs: f64 = x
                .iter()
                .zip(col2im(&c, &g))
                .map(|(a, b)| (*a as f64) * (b as f64))
                .sum();
            assert!((lhs - rhs).abs() < 1e-3 * lhs.abs().max(1.0), "{g:?}: {lhs} vs {rhs}");
        }
    }

    #[test]
    fn im2col_into_a_reused_buffer_matches_the_definition() {
        // The buffer starts as NaN: every value must be written, padding taps as zeros.
        for g in geometries() {
            let x = seq(g.in_len(), 7);
            let cols = im2col(&x, &g);
            let c = g.channels;
            for (r, row) in cols.chunks(g.cols()).enumerate() {
                let (b, p) = (r / g.rows_per_image(), r % g.rows_per_image());
                let (oy, ox) = (p / g.out_w, p % g.out_w);
                for ky in 0..g.k_h {
                    for kx in 0..g.k_w {
                        let iy = (oy * g.stride[0] + ky) as isize - g.pad[0] as isize;
                        let ix = (ox * g.stride[1] + kx) as isize - g.pad[1] as isize;
                        let inside = (0..g.in_h as isize).contains(&iy) && (0..g.in_w as isize).contains(&ix);
                        for ch in 0..c {
                            let want = if inside {
                                x[((b * g.in_h + iy as usize) * g.in_w + ix as usize) * c + ch]
                            } else {
                                0.0
                            };
                            assert_eq!(row[(ky * g.k_w + kx) * c + ch], want, "{g:?} row {r}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn matmul_into_accumulates_when_asked() {
        let (m, k, n) = (9, 7, 5);
        let (a, b) = (seq(m * k, 8), seq(k * n, 9));
        let once = matmul(Mat::rows(&a, k), Mat::rows(&b, n), m, k, n);
        let mut twice = once.clone();
        matmul_into(&mut twice, Mat::rows(&a, k), Mat::rows(&b, n), m, k, n, true, 2);
        for (t, o) in twice.iter().zip(&once) {
            assert!((t - 2.0 * o).abs() < 1e-5);
        }
    }

    #[test]
    fn chunks_stay_near_their_target_and_cover_the_batch() {
        let g = Geometry {
            batch: 256,
            ..geom(2, 1, 4, 16)
        };
        let per = g.images_per_chunk();
        assert!(per >= 1 && per <= g.batch);
        assert!(per * g.rows_per_image() * g.cols() <= CHUNK_FLOATS);
        assert_eq!(Geometry { batch: 3, ..g }.images_per_chunk(), 3);
    }

    /// im2col / col2im times on DCEC's layers (batch 256 split in chunks as the layers do):
    /// `cargo test --release -p oddity --lib kernels::tests::dcec_layout_times -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing, not a check"]
    fn dcec_layout_times() {
        // (channels, in side, kernel, stride, pad): DCEC's three convolutions on 28x28.
        for (c, h, k, st, p) in [(1, 28, 5, 2, 2), (32, 14, 5, 2, 2), (64, 7, 3, 2, 0)] {
            let g = Geometry {
                batch: 256,
                channels: c,
                ..geom(st, p, k, h)
            };
            let x = seq(g.in_len(), 1);
            let mut cols = vec![0.0; g.rows() * g.cols()];
            let mut back = vec![MaybeUninit::new(0.0f32); g.in_len()];
            let t = std::time::Instant::now();
            for _ in 0..20 {
                im2col_into(&x, &g, &mut cols);
            }
            let a = t.elapsed().as_secs_f64() / 20.0 * 1e3;
            let t = std::time::Instant::now();
            for _ in 0..20 {
                col2im_into(&cols, &g, &mut back);
            }
            let b = t.elapsed().as_secs_f64() / 20.0 * 1e3;
            eprintln!(
                "c {c:3} {h}x{h} k{k}: im2col {a:.2} ms, col2im {b:.2} ms ({} MB)",
                g.rows() * g.cols() * 4 / 1_000_000
            );
        }
    }

    #[test]
    fn zeroed_gives_zeros_of_every_size() {
        for n in [0, 1, 1000, (1 << 16) - 1, 1 << 16, 3 << 17] {
            let z = zeroed(n);
            assert_eq!(z.len(), n);
            assert!(z.iter().all(|v| v.to_bits() == 0), "{n}");
        }
    }

    #[test]
    fn layouts_round_trip() {
        let x = seq(2 * 5 * 7, 3);
        assert_eq!(nhwc_to_nchw(&nchw_to_nhwc(&x, 2, 5, 7), 2, 5, 7), x);
        let w = seq(4 * 3 * 16, 4);
        assert_eq!(matrix_to_weight(&weight_to_matrix(&w, 4, 3, 16), 4, 3, 16), w);
    }

    #[test]
    fn matmul_matches_a_naive_product_with_transposed_views() {
        let (m, k, n) = (37, 29, 23);
        let a = seq(m * k, 5);
        let bt = seq(n * k, 6); // b stored transposed: [n, k]
        let c = matmul(Mat::rows(&a, k), Mat::t(&bt, k), m, k, n);
        for i in 0..m {
            for j in 0..n {
                let want: f32 = (0..k).map(|p| a[i * k + p] * bt[j * k + p]).sum();
                assert!((c[i * n + j] - want).abs() < 1e-4, "({i},{j})");
            }
        }
    }
}
