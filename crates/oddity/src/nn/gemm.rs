//! Row-major f32 matrix products over `matrixmultiply::sgemm`.

/// `c[m×n] = a[m×k] · b[k×n]` (+ `c` when `accumulate`).
pub fn matmul(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize, accumulate: bool) {
    gemm(a, (k as isize, 1), b, (n as isize, 1), c, m, k, n, accumulate);
}

/// `c[k×n] = aᵀ · b` with `a[m×k]`, `b[m×n]` (+ `c` when `accumulate`): weight gradients.
pub fn matmul_at_b(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize, accumulate: bool) {
    assert!(a.len() >= m * k && b.len() >= m * n);
    gemm(a, (1, k as isize), b, (n as isize, 1), c, k, m, n, accumulate);
}

/// `c[m×k] = a · bᵀ` with `a[m×n]`, `b[k×n]` (+ `c` when `accumulate`): input gradients.
pub fn matmul_a_bt(a: &[f32], b: &[f32], c: &mut [f32], m: usize, n: usize, k: usize, accumulate: bool) {
    assert!(a.len() >= m * n && b.len() >= k * n);
    gemm(a, (n as isize, 1), b, (1, n as isize), c, m, n, k, accumulate);
}

/// `c[m×n] = A[m×k] · B[k×n]` with A, B given by (row stride, column stride).
#[allow(clippy::too_many_arguments)]
fn gemm(
    a: &[f32],
    (rsa, csa): (isize, isize),
    b: &[f32],
    (rsb, csb): (isize, isize),
    c: &mut [f32],
    m: usize,
    k: usize,
    n: usize,
    accumulate: bool,
) {
    assert!(c.len() >= m * n, "gemm: output buffer too small");
    let need = |rs: isize, cs: isize, rows: usize, cols: usize| {
        if rows == 0 || cols == 0 {
            0
        } else {
            (rows as isize - 1) as usize * rs as usize + (cols as isize - 1) as usize * cs as usize + 1
        }
    };
    assert!(a.len() >= need(rsa, csa, m, k), "gemm: a too small");
    assert!(b.len() >= need(rsb, csb, k, n), "gemm: b too small");
    if m == 0 || n == 0 {
        return;
    }
    let beta = if accumulate { 1.0 } else { 0.0 };
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    // SAFETY: the asserts above check that every index sgemm touches lies inside the slices.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    c[i * n + j] += a[i * k + p] * b[p * n + j];
                }
            }
        }
        c
    }

    fn transpose(a: &[f32], r: usize, c: usize) -> Vec<f32> {
        let mut t = vec![0.0; r * c];
        for i in 0..r {
            for j in 0..c {
                t[j * r + i] = a[i * c + j];
            }
        }
        t
    }

    #[test]
    fn products_match_naive_loops() {
        let (m, k, n) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        let want = naive(&a, &b, m, k, n);
        let mut c = vec![0.0; m * n];
        matmul(&a, &b, &mut c, m, k, n, false);
        for (x, y) in c.iter().zip(&want) {
            assert!((x - y).abs() < 1e-5);
        }
        // aᵀ·b with a stored as [k×m]
        let at = transpose(&a, m, k);
        let mut c2 = vec![0.0; m * n];
        matmul_at_b(&at, &b, &mut c2, k, m, n, false);
        for (x, y) in c2.iter().zip(&want) {
            assert!((x - y).abs() < 1e-5);
        }
        // a·bᵀ with b stored as [n×k]
        let bt = transpose(&b, k, n);
        let mut c3 = vec![1.0; m * n];
        matmul_a_bt(&a, &bt, &mut c3, m, k, n, true);
        for (x, y) in c3.iter().zip(&want) {
            assert!((x - (y + 1.0)).abs() < 1e-5);
        }
    }
}
