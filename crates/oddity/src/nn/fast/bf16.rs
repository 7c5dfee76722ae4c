//! Products with bf16 operands and f32 accumulation: the convolutions' GEMMs under `precision = bf16`
//! (issue 16, item 4), as PyTorch's bf16 autocast runs them on a CPU.
//!
//! Both operands are rounded to bf16 (round to nearest even, the rounding of `vcvtne2ps2bf16` and of
//! `torch.bfloat16`); products and sums are f32. Where the CPU has Intel AMX (`amx-tile` + `amx-bf16`,
//! Xeon Sapphire Rapids and later; Linux grants the tile state on request) the product runs on the tile
//! unit, `tdpbf16ps` over 16 × 32 tiles — measured 3.2 TFLOP/s on one core of a 2-core Xeon whose
//! AVX-512 FMA peak is ~220 GFLOP/s per core. Elsewhere the rounded operands go through the f32 product
//! (same values up to the order of the sums, not faster): AVX-512's `vdpbf16ps` is *not* used, because
//! on that Xeon it ran at half the f32 FMA rate (docs/bench/speed.md, "bf16").

use super::kernels::{self, Mat};

/// `x` rounded to the nearest bf16 (ties to even), as an f32; NaN stays NaN.
pub fn round(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    let b = x.to_bits();
    f32::from_bits(b.wrapping_add(0x7FFF + ((b >> 16) & 1)) & 0xFFFF_0000)
}

/// True when products run on AMX tiles in this process.
pub fn amx() -> bool {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    {
        amx::available()
    }
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
    {
        false
    }
}

/// The tile unit's own rate (`oddity bench speed`'s `amx-bf16` peak): `iters / 10` rounds of four
/// `tdpbf16ps` on 2 × 2 accumulator tiles, operands in registers; (a value to keep, flops). Zero flops
/// without AMX.
pub fn amx_peak(iters: u64) -> (f32, f64) {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    if amx::available() {
        // SAFETY: AMX present and granted.
        return unsafe { amx::peak(iters / 10) };
    }
    let _ = iters;
    (0.0, 0.0)
}

/// `dst[m×n] (+)= bf16(a)[m×k] · bf16(b)[k×n]` in f32, as [`kernels::matmul_into`].
#[allow(clippy::too_many_arguments)]
pub fn matmul_into(dst: &mut [f32], a: Mat, b: Mat, m: usize, k: usize, n: usize, accumulate: bool, threads: usize) {
    product(dst, a, b, [m, k, n], accumulate, threads, true);
}

/// [`matmul_into`]; on AMX only when `allow_amx` (tests compare the two ways).
fn product(dst: &mut [f32], a: Mat, b: Mat, [m, k, n]: [usize; 3], accumulate: bool, threads: usize, allow_amx: bool) {
    assert!(
        a.fits(m, k) && b.fits(k, n) && dst.len() >= m * n,
        "bf16 gemm: operand smaller than its view"
    );
    if m == 0 || n == 0 || k == 0 {
        return kernels::matmul_into(dst, a, b, m, k, n, accumulate, threads);
    }
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    if allow_amx && amx::available() {
        let shape = kernels::logged_shape(&a, &b, [m, k, n], accumulate, threads);
        // SAFETY: the assertion above bounds every element the views address; AMX is present and granted.
        return kernels::shape_log::timed(shape, || unsafe {
            amx::matmul_into(dst, &a, &b, m, k, n, accumulate, threads)
        });
    }
    let (ar, br) = (rounded(&a, m, k), rounded(&b, k, n));
    kernels::matmul_into(dst, Mat::rows(&ar, k), Mat::rows(&br, n), m, k, n, accumulate, threads);
}

/// The `rows × cols` view, rounded to bf16, row-major.
fn rounded(x: &Mat, rows: usize, cols: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows * cols);
    for i in 0..rows {
        out.extend((0..cols).map(|j| round(x.data[i * x.rs + j * x.cs])));
    }
    out
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod amx {
    use super::Mat;
    use rayon::prelude::*;
    use std::arch::asm;
    use std::arch::x86_64::*;
    use std::sync::OnceLock;

    /// bf16 values of k per tile row (64 bytes).
    const STEP: usize = 32;
    /// Rows and columns of C per kernel call: 2 × 2 tiles of 16 × 16.
    const BLOCK: usize = 32;
    /// u16 per packed k-step of a 32-row (or 32-column) block: two 16 × 64-byte tiles.
    const STEP_U16: usize = 1024;
    const TILE_U16: usize = 512;

    thread_local! {
        /// Packed operands, kept between calls on this thread (every pack overwrites what it uses).
        static PACKED_A: std::cell::Cell<Vec<u16>> = const { std::cell::Cell::new(Vec::new()) };
        static PACKED_B: std::cell::Cell<Vec<u16>> = const { std::cell::Cell::new(Vec::new()) };
    }

    /// This thread's buffer `which`, at least `len` long, for the duration of `f`.
    fn with_buffer<R>(
        which: &'static std::thread::LocalKey<std::cell::Cell<Vec<u16>>>,
        len: usize,
        f: impl FnOnce(&mut [u16]) -> R,
    ) -> R {
        let mut buf = which.take();
        if buf.len() < len {
            buf = vec![0; len];
        }
        let r = f(&mut buf[..len]);
        which.set(buf);
        r
    }

    pub fn available() -> bool {
        static ON: OnceLock<bool> = OnceLock::new();
        *ON.get_or_init(detect)
    }

    fn detect() -> bool {
        if !(is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512bf16"))
        {
            return false;
        }
        // CPUID leaf 7: EDX bit 22 AMX-BF16, bit 24 AMX-TILE.
        #[allow(unused_unsafe)]
        let edx = unsafe { __cpuid_count(7, 0) }.edx;
        if edx & (1 << 22) == 0 || edx & (1 << 24) == 0 {
            return false;
        }
        // Linux hands out the 8 KiB tile state only on request (ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA).
        const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
        const XFEATURE_XTILEDATA: libc::c_long = 18;
        // SAFETY: a plain system call with integer arguments.
        unsafe { libc::syscall(libc::SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0 }
    }

    /// Palette 1, eight tiles of 16 rows × 64 bytes.
    fn config() -> [u8; 64] {
        let mut c = [0u8; 64];
        c[0] = 1;
        for t in 0..8 {
            c[16 + 2 * t] = 64;
            c[48 + t] = 16;
        }
        c
    }

    /// Lane order that interleaves two rows of 16 bf16 (the low and high half of a register) pairwise:
    /// `[r0[0], r1[0], r0[1], r1[1], …]`, the layout `tdpbf16ps` wants for pairs along k.
    fn interleave() -> __m512i {
        let idx: [u16; 32] = std::array::from_fn(|i| (i / 2 + 16 * (i % 2)) as u16);
        // SAFETY: reads 64 bytes of a 64-byte array.
        unsafe { _mm512_loadu_si512(idx.as_ptr().cast()) }
    }

    /// 16 values of a view starting at (i, j) and stepping along `dim` (0: rows, 1: columns); `valid`
    /// of them real, the rest zero.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn load16(x: &Mat, i: usize, j: usize, along_cols: bool, valid: usize) -> __m512 {
        if valid == 0 {
            return _mm512_setzero_ps();
        }
        let (step, start) = (if along_cols { x.cs } else { x.rs }, i * x.rs + j * x.cs);
        if step == 1 {
            let mask: __mmask16 = if valid >= 16 { 0xFFFF } else { (1u16 << valid) - 1 };
            // SAFETY: the first `valid` values lie inside the view (the caller's bound); masked lanes are not read.
            unsafe { _mm512_maskz_loadu_ps(mask, x.data.as_ptr().add(start)) }
        } else {
            let mut v = [0f32; 16];
            for (l, out) in v.iter_mut().enumerate().take(valid.min(16)) {
                *out = x.data[start + l * step];
            }
            unsafe { _mm512_loadu_ps(v.as_ptr()) }
        }
    }

    /// Two rows of 16 f32 as 32 bf16, `lo` first.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bf16")]
    unsafe fn to_bf16(lo: __m512, hi: __m512) -> __m512i {
        unsafe { std::mem::transmute::<__m512bh, __m512i>(_mm512_cvtne2ps_pbh(hi, lo)) }
    }

    /// Which way a view is read for [`k_pair`]: B along its rows (k indexes rows), a k-major A along
    /// its columns (k indexes columns).
    #[derive(Clone, Copy)]
    enum Along {
        Row,
        Column,
    }

    /// The k-indices `kk` and `kk + 1` (zero at and beyond `k`), 16 values each from position `from`
    /// of the other dimension (`valid` of them real), as 16 bf16 pairs `(x[kk], x[kk + 1])`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
    unsafe fn k_pair(x: &Mat, kk: usize, k: usize, from: usize, valid: usize, along: Along, idx: __m512i) -> __m512i {
        let line = |l: usize| match (l < k, along) {
            (false, _) => _mm512_setzero_ps(),
            (true, Along::Row) => unsafe { load16(x, l, from, true, valid) },
            (true, Along::Column) => unsafe { load16(x, from, l, false, valid) },
        };
        unsafe { _mm512_permutexvar_epi16(idx, to_bf16(line(kk), line(kk + 1))) }
    }

    /// k-step `s` of B (its rows `32·s ..`) for every block of 32 columns: `out[cb]` holds two tiles
    /// (columns 0–15, 16–31 of the block), each 16 k-pairs × 16 columns × 2 bf16. Row pairs outside,
    /// blocks inside: B is read row by row (column panels first read it 4 KiB apart, ~3× slower).
    #[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
    pub(super) unsafe fn pack_b_step(b: &Mat, k: usize, n: usize, s: usize, out: &mut [u16]) {
        let idx = interleave();
        for kp in 0..16 {
            let kk = s * STEP + 2 * kp;
            for (cb, block) in out.chunks_mut(STEP_U16).enumerate() {
                for t in 0..2 {
                    let c0 = cb * BLOCK + 16 * t;
                    let cols = n.saturating_sub(c0).min(16);
                    let v = unsafe { k_pair(b, kk, k, c0, cols, Along::Row, idx) };
                    let at = t * TILE_U16 + kp * 32;
                    unsafe { _mm512_storeu_si512(block[at..at + 32].as_mut_ptr().cast(), v) };
                }
            }
        }
    }

    /// A's rows `i0..i0 + 32` as k-steps of two tiles (rows 0–15, 16–31), each 16 rows × 32 bf16.
    #[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
    pub(super) unsafe fn pack_a(a: &Mat, m: usize, k: usize, i0: usize, out: &mut [u16]) {
        let steps = k.div_ceil(STEP);
        if a.rs == 1 && a.cs != 1 {
            // A stored transposed (k-major): pairs along k interleaved, then scattered down the tile rows.
            let idx = interleave();
            let rows_at: [i32; 16] = std::array::from_fn(|r| 16 * r as i32);
            // SAFETY: 64 bytes of a 64-byte array.
            let rows_at = unsafe { _mm512_loadu_si512(rows_at.as_ptr().cast()) };
            for s in 0..steps {
                for t in 0..2 {
                    let r0 = i0 + 16 * t;
                    let rows = m.saturating_sub(r0).min(16);
                    for kp in 0..16 {
                        let kk = s * STEP + 2 * kp;
                        let v = unsafe { k_pair(a, kk, k, r0, rows, Along::Column, idx) };
                        let at = s * STEP_U16 + t * TILE_U16;
                        let tile = &mut out[at..at + TILE_U16];
                        // SAFETY: dword kp of rows 0..16 of a 16 × 16-dword tile.
                        unsafe { _mm512_i32scatter_epi32::<4>(tile.as_mut_ptr().cast::<i32>().add(kp), rows_at, v) };
                    }
                }
            }
        } else {
            for s in 0..steps {
                let kk = s * STEP;
                let (lo, hi) = (k.saturating_sub(kk).min(16), k.saturating_sub(kk + 16).min(16));
                for r in 0..BLOCK {
                    let i = i0 + r;
                    let v = if i < m {
                        unsafe { to_bf16(load16(a, i, kk, true, lo), load16(a, i, kk + 16, true, hi)) }
                    } else {
                        _mm512_setzero_si512()
                    };
                    let at = s * STEP_U16 + r * 32;
                    unsafe { _mm512_storeu_si512(out[at..at + 32].as_mut_ptr().cast(), v) };
                }
            }
        }
    }

    /// C's 32 × 32 block at `c` (row stride `ldc` bytes) (+)= packed A · packed B over `steps` k-steps.
    ///
    /// B's steps lie `b_step` u16 apart.
    ///
    /// SAFETY: tiles configured by `config`; `c` addresses 32 rows of 32 f32; `pa`, `pb` hold `steps` steps.
    #[allow(clippy::too_many_arguments)]
    unsafe fn block(pa: &[u16], pb: &[u16], b_step: usize, steps: usize, c: *mut f32, ldc: usize, load: bool) {
        debug_assert!(pa.len() >= steps * STEP_U16 && pb.len() >= (steps - 1) * b_step + STEP_U16);
        unsafe {
            let c1 = c.add(16);
            let c2 = c.byte_add(16 * ldc);
            let c3 = c2.add(16);
            if load {
                asm!(
                    "tileloadd tmm0, [{c0} + {ld}*1]",
                    "tileloadd tmm1, [{c1} + {ld}*1]",
                    "tileloadd tmm2, [{c2} + {ld}*1]",
                    "tileloadd tmm3, [{c3} + {ld}*1]",
                    c0 = in(reg) c, c1 = in(reg) c1, c2 = in(reg) c2, c3 = in(reg) c3, ld = in(reg) ldc,
                    options(nostack, readonly),
                );
            } else {
                asm!(
                    "tilezero tmm0",
                    "tilezero tmm1",
                    "tilezero tmm2",
                    "tilezero tmm3",
                    options(nostack, nomem)
                );
            }
            for s in 0..steps {
                let a = pa.as_ptr().add(s * STEP_U16);
                let b = pb.as_ptr().add(s * b_step);
                asm!(
                    "tileloadd tmm4, [{a0} + {ld}*1]",
                    "tileloadd tmm6, [{b0} + {ld}*1]",
                    "tdpbf16ps tmm0, tmm4, tmm6",
                    "tileloadd tmm7, [{b1} + {ld}*1]",
                    "tdpbf16ps tmm1, tmm4, tmm7",
                    "tileloadd tmm5, [{a1} + {ld}*1]",
                    "tdpbf16ps tmm2, tmm5, tmm6",
                    "tdpbf16ps tmm3, tmm5, tmm7",
                    a0 = in(reg) a, a1 = in(reg) a.add(TILE_U16), b0 = in(reg) b, b1 = in(reg) b.add(TILE_U16),
                    ld = in(reg) 64usize,
                    options(nostack, readonly),
                );
            }
            asm!(
                "tilestored [{c0} + {ld}*1], tmm0",
                "tilestored [{c1} + {ld}*1], tmm1",
                "tilestored [{c2} + {ld}*1], tmm2",
                "tilestored [{c3} + {ld}*1], tmm3",
                c0 = in(reg) c, c1 = in(reg) c1, c2 = in(reg) c2, c3 = in(reg) c3, ld = in(reg) ldc,
                options(nostack),
            );
        }
    }

    /// The rows `i0..i0 + rows.len() / n` of C.
    #[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn rows_block(rows: &mut [f32], i0: usize, a: &Mat, pb: &[u16], m: usize, k: usize, n: usize, acc: bool) {
        let steps = k.div_ceil(STEP);
        with_buffer(&PACKED_A, steps * STEP_U16, |pa| unsafe {
            pack_a(a, m, k, i0, pa);
            rows_kernel(rows, pa, pb, steps, n, acc)
        })
    }

    /// The kernel calls of one block of rows, A packed. (Blocking k so that A's block stays in L1
    /// while B's panels pass measured no faster: 8, 32 or all steps per block alike, ±3 %.)
    pub(super) unsafe fn rows_kernel(rows: &mut [f32], pa: &[u16], pb: &[u16], steps: usize, n: usize, acc: bool) {
        let cfg = config();
        let h = rows.len() / n;
        let mut tmp = [0f32; BLOCK * BLOCK];
        unsafe {
            asm!("ldtilecfg [{}]", in(reg) cfg.as_ptr(), options(nostack, readonly));
            let b_step = n.div_ceil(BLOCK) * STEP_U16;
            for cb in 0..n.div_ceil(BLOCK) {
                let pb = &pb[cb * STEP_U16..];
                let j0 = cb * BLOCK;
                let w = (n - j0).min(BLOCK);
                if h == BLOCK && w == BLOCK {
                    block(pa, pb, b_step, steps, rows.as_mut_ptr().add(j0), n * 4, acc);
                } else {
                    if acc {
                        for r in 0..h {
                            let src = &rows[r * n + j0..r * n + j0 + w];
                            tmp[r * BLOCK..r * BLOCK + w].copy_from_slice(src);
                        }
                    }
                    block(pa, pb, b_step, steps, tmp.as_mut_ptr(), BLOCK * 4, acc);
                    for r in 0..h {
                        rows[r * n + j0..r * n + j0 + w].copy_from_slice(&tmp[r * BLOCK..r * BLOCK + w]);
                    }
                }
            }
            asm!("tilerelease", options(nostack, nomem));
        }
    }

    /// SAFETY: AMX available ([`available`]).
    pub unsafe fn peak(rounds: u64) -> (f32, f64) {
        let cfg = config();
        let ones = [0x3f80u16; TILE_U16];
        let mut out = [0f32; 256];
        unsafe {
            asm!("ldtilecfg [{}]", in(reg) cfg.as_ptr(), options(nostack, readonly));
            asm!(
                "tilezero tmm0", "tilezero tmm1", "tilezero tmm2", "tilezero tmm3",
                "tileloadd tmm4, [{p} + {ld}*1]", "tileloadd tmm5, [{p} + {ld}*1]",
                "tileloadd tmm6, [{p} + {ld}*1]", "tileloadd tmm7, [{p} + {ld}*1]",
                p = in(reg) ones.as_ptr(), ld = in(reg) 64usize, options(nostack, readonly),
            );
            for _ in 0..rounds {
                asm!(
                    "tdpbf16ps tmm0, tmm4, tmm6",
                    "tdpbf16ps tmm1, tmm4, tmm7",
                    "tdpbf16ps tmm2, tmm5, tmm6",
                    "tdpbf16ps tmm3, tmm5, tmm7",
                    options(nostack, nomem),
                );
            }
            asm!("tilestored [{p} + {ld}*1], tmm0", p = in(reg) out.as_mut_ptr(), ld = in(reg) 64usize, options(nostack));
            asm!("tilerelease", options(nostack, nomem));
        }
        (out[0], rounds as f64 * 4.0 * 16.0 * 16.0 * 32.0 * 2.0)
    }

    /// SAFETY: AMX available ([`available`]); the views address only elements inside their slices.
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn matmul_into(
        dst: &mut [f32],
        a: &Mat,
        b: &Mat,
        m: usize,
        k: usize,
        n: usize,
        acc: bool,
        threads: usize,
    ) {
        let per_step = n.div_ceil(BLOCK) * STEP_U16;
        with_buffer(&PACKED_B, k.div_ceil(STEP) * per_step, |pb| unsafe {
            product(dst, a, b, pb, per_step, m, k, n, acc, threads)
        })
    }

    #[allow(clippy::too_many_arguments)]
    unsafe fn product(
        dst: &mut [f32],
        a: &Mat,
        b: &Mat,
        pb: &mut [u16],
        per_step: usize,
        m: usize,
        k: usize,
        n: usize,
        acc: bool,
        threads: usize,
    ) {
        let pack = |(s, out): (usize, &mut [u16])| unsafe { pack_b_step(b, k, n, s, out) };
        if threads > 1 {
            pb.par_chunks_mut(per_step).enumerate().for_each(pack);
        } else {
            pb.chunks_mut(per_step).enumerate().for_each(pack);
        }
        let pb = &*pb;
        let run = |(rb, rows): (usize, &mut [f32])| unsafe { rows_block(rows, rb * BLOCK, a, pb, m, k, n, acc) };
        let dst = &mut dst[..m * n];
        if threads > 1 {
            dst.par_chunks_mut(BLOCK * n).enumerate().for_each(run);
        } else {
            dst.chunks_mut(BLOCK * n).enumerate().for_each(run);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..len)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn round_is_to_nearest_even() {
        assert_eq!(round(1.0), 1.0);
        // 1 + 2^-8 lies halfway between two bf16 (1 and 1 + 2^-7): ties to the even one, 1.
        assert_eq!(round(1.0 + 1.0 / 256.0), 1.0);
        assert_eq!(round(1.0 + 3.0 / 256.0), 1.0 + 4.0 / 256.0);
        assert_eq!(round(-2.0 - 1.0 / 64.0), -2.0 - 1.0 / 64.0);
        assert!(round(f32::NAN).is_nan());
        assert_eq!(round(f32::INFINITY), f32::INFINITY);
    }

    /// Every layout the convolutions use (A row-major or transposed), edges in all three sizes, with and
    /// without accumulation: the product of the rounded operands, in f32, to f32 rounding.
    #[test]
    fn matches_the_product_of_rounded_operands() {
        for &(m, k, n) in &[(37, 45, 50), (64, 96, 32), (5, 300, 70), (33, 1, 17), (96, 64, 129)] {
            for transposed_a in [false, true] {
                for accumulate in [false, true] {
                    let (av, bv) = (values(m * k, 1), values(k * n, 2));
                    let a = if transposed_a {
                        Mat::t(&av, m)
                    } else {
                        Mat::rows(&av, k)
                    };
                    let start = values(m * n, 3);
                    for allow_amx in [true, false] {
                        let mut got = start.clone();
                        product(&mut got, a, Mat::rows(&bv, n), [m, k, n], accumulate, 2, allow_amx);
                        for i in 0..m {
                            for j in 0..n {
                                let mut want = if accumulate { start[i * n + j] as f64 } else { 0.0 };
                                for l in 0..k {
                                    let x = if transposed_a { av[l * m + i] } else { av[i * k + l] };
                                    want += round(x) as f64 * round(bv[l * n + j]) as f64;
                                }
                                let g = got[i * n + j] as f64;
                                assert!(
                                    (g - want).abs() <= 1e-5 * (k as f64).sqrt() + 1e-5 * want.abs(),
                                    "{m}x{k}x{n} transposed {transposed_a} accumulate {accumulate} at ({i},{j}): {g} vs {want} (amx: {})",
                                    allow_amx && amx()
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod timing {
    use super::*;

    /// `cargo test --release -p oddity --lib bf16::timing -- --ignored --nocapture`: the products'
    /// rates on shapes of a GANomaly step, warm buffers, one thread.
    #[test]
    #[ignore]
    fn rates() {
        for &(m, k, n, t) in &[
            (1024, 1024, 128, false),
            (128, 1024, 1024, true),
            (512, 2048, 256, false),
        ] {
            let av: Vec<f32> = (0..m * k).map(|i| (i % 97) as f32 / 97.0).collect();
            let bv: Vec<f32> = (0..k * n).map(|i| (i % 89) as f32 / 89.0).collect();
            let mut c = vec![0f32; m * n];
            let a = || if t { Mat::t(&av, m) } else { Mat::rows(&av, k) };
            for allow in [true, false] {
                product(&mut c, a(), Mat::rows(&bv, n), [m, k, n], false, 1, allow);
                let reps = 20;
                let t0 = std::time::Instant::now();
                for _ in 0..reps {
                    product(&mut c, a(), Mat::rows(&bv, n), [m, k, n], false, 1, allow);
                }
                let s = t0.elapsed().as_secs_f64() / reps as f64;
                let mut f = c.clone();
                let t1 = std::time::Instant::now();
                for _ in 0..reps {
                    kernels::matmul_into(&mut f, a(), Mat::rows(&bv, n), m, k, n, false, 1);
                }
                let sf = t1.elapsed().as_secs_f64() / reps as f64;
                if allow && amx() {
                    let steps = k.div_ceil(32);
                    let mut pb = vec![0u16; n.div_ceil(32) * steps * 1024];
                    let mut pa = vec![0u16; steps * 1024];
                    let b = Mat::rows(&bv, n);
                    let t2 = std::time::Instant::now();
                    for _ in 0..reps {
                        for (s, out) in pb.chunks_mut(n.div_ceil(32) * 1024).enumerate() {
                            unsafe { amx::pack_b_step(&b, k, n, s, out) };
                        }
                    }
                    let tb = t2.elapsed().as_secs_f64() / reps as f64;
                    let t3 = std::time::Instant::now();
                    for _ in 0..reps {
                        for rb in 0..m.div_ceil(32) {
                            unsafe { amx::pack_a(&a(), m, k, rb * 32, &mut pa) };
                        }
                    }
                    let ta = t3.elapsed().as_secs_f64() / reps as f64;
                    let t4 = std::time::Instant::now();
                    for _ in 0..reps {
                        for rows in c.chunks_mut(32 * n) {
                            unsafe { amx::rows_kernel(rows, &pa, &pb, steps, n, false) };
                        }
                    }
                    let tk = t4.elapsed().as_secs_f64() / reps as f64;
                    eprintln!(
                        "  pack_b {:.3} ms, pack_a {:.3} ms, kernels {:.3} ms",
                        tb * 1e3,
                        ta * 1e3,
                        tk * 1e3
                    );
                }
                eprintln!(
                    "{m}x{k}x{n} transposed {t} amx {allow}: {:.3} ms, {:.0} GFLOP/s (f32 gemm {:.3} ms)",
                    s * 1e3,
                    2.0 * (m * k * n) as f64 / s / 1e9,
                    sf * 1e3
                );
            }
        }
    }
}
