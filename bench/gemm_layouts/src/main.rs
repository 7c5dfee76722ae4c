//! GFLOP/s of `gemm::gemm` (one thread, best of 15) per product m × k × n of a GANomaly training
//! step, the first column in the layout oddity uses today, then [a_t, b_t] for the four layouts:
//! a_t = A stored as [k × m], b_t = B stored as [n × k] (row-major otherwise). docs/bench/speed.md.
use std::time::Instant;
// (m,k,n, a_t, b_t): a_t: A stored as [k x m] (A^T row-major); b_t: B stored as [n x k]
fn run(m: usize, k: usize, n: usize, a_t: bool, b_t: bool, reps: usize) -> f64 {
    let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32) * 0.01).collect();
    let b: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 11) as f32) * 0.01).collect();
    let mut c = vec![0f32; m * n];
    let (ars, acs) = if a_t { (1isize, m as isize) } else { (k as isize, 1) };
    let (brs, bcs) = if b_t { (1isize, k as isize) } else { (n as isize, 1) };
    let mut best = f64::MAX;
    for _ in 0..reps {
        let t = Instant::now();
        unsafe {
            gemm::gemm(m, n, k, c.as_mut_ptr(), 1, n as isize, false, a.as_ptr(), acs, ars, b.as_ptr(), bcs, brs, 0.0, 1.0, false, false, false, gemm::Parallelism::None);
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    2.0 * (m * k * n) as f64 / best / 1e9
}
fn main() {
    let shapes = [(512, 2048, 256, false, true), (1024, 1024, 128, false, true), (512, 256, 2048, false, false), (1024, 128, 1024, false, false), (128, 1024, 1024, true, false), (256, 512, 2048, true, false), (1024,1024,1024,false,false)];
    for &(m, k, n, at, bt) in &shapes {
        let mut s = format!("{m}x{k}x{n} at={at} bt={bt}:");
        for (aa, bb) in [(at, bt), (false, false), (true, false), (false, true), (true, true)] {
            s += &format!(" [{},{}] {:.1}", aa as u8, bb as u8, run(m, k, n, aa, bb, 15));
        }
        println!("{s}");
    }
}
