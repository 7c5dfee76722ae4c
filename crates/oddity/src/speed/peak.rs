//! The CPU a benchmark ran on, and the peak floating-point rate of its SIMD units, measured.
//!
//! Every speed table records the CPU (model name and SIMD flags), and "of peak" divides by the
//! measured peak of the widest unit this CPU has, not by a GEMM rate. The peak is a loop of
//! independent fused multiply-adds (ten accumulators, more than the FMA latency × throughput needs),
//! run on every thread at once, like `bench/fma_peak.c`.

use std::time::Instant;

/// The processor: model name and the SIMD extensions that matter for f32 / bf16 arithmetic.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CpuInfo {
    pub model: String,
    pub simd: Vec<&'static str>,
}

/// SIMD extensions reported, in order of width.
const SIMD_FLAGS: &[&str] = &[
    "sse4.2",
    "avx",
    "fma",
    "avx2",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512_bf16",
    "amx_bf16",
];

impl CpuInfo {
    /// This machine's processor (model from /proc/cpuinfo where there is one; flags from CPUID).
    pub fn detect() -> Self {
        let model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, m)| m.trim().to_string())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_string());
        let simd = SIMD_FLAGS.iter().copied().filter(|f| has(f)).collect();
        CpuInfo { model, simd }
    }

    /// `model (flags), N threads` as the tables print it.
    pub fn describe(&self, threads: usize) -> String {
        format!("{} ({}), {threads} threads", self.model, self.simd.join(" "))
    }
}

#[cfg(target_arch = "x86_64")]
fn has(flag: &str) -> bool {
    match flag {
        "sse4.2" => is_x86_feature_detected!("sse4.2"),
        "avx" => is_x86_feature_detected!("avx"),
        "fma" => is_x86_feature_detected!("fma"),
        "avx2" => is_x86_feature_detected!("avx2"),
        "avx512f" => is_x86_feature_detected!("avx512f"),
        "avx512bw" => is_x86_feature_detected!("avx512bw"),
        "avx512vl" => is_x86_feature_detected!("avx512vl"),
        "avx512_bf16" => is_x86_feature_detected!("avx512bf16"),
        // Usable: present and granted by the OS (nn::fast::bf16).
        "amx_bf16" => crate::nn::fast::bf16::amx(),
        _ => false,
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn has(_flag: &str) -> bool {
    false
}

/// One SIMD unit's measured peak over all threads.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Peak {
    /// `avx2-fma`, `avx512-fma`, `avx512-bf16-dot` or `amx-bf16` (tile products, `tdpbf16ps`).
    pub unit: &'static str,
    pub gflops_per_second: f64,
}

/// Measures every unit this CPU has, each on `threads` threads at once (best of three runs).
pub fn measure(threads: usize) -> Vec<Peak> {
    let mut peaks = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        let units: [(&'static str, bool, fn(u64) -> (f32, f64)); 4] = [
            ("avx2-fma", has("avx2") && has("fma"), x86::avx2_fma),
            ("avx512-fma", has("avx512f"), x86::avx512_fma),
            (
                "avx512-bf16-dot",
                has("avx512f") && has("avx512_bf16"),
                x86::avx512_bf16,
            ),
            ("amx-bf16", has("amx_bf16"), crate::nn::fast::bf16::amx_peak),
        ];
        for (unit, present, kernel) in units {
            if present {
                let gflops = (0..3).map(|_| run_on_threads(threads, kernel)).fold(0.0, f64::max);
                peaks.push(Peak {
                    unit,
                    gflops_per_second: gflops,
                });
            }
        }
    }
    let _ = threads;
    peaks
}

/// The widest f32 unit's peak: what "of peak" divides by (bf16 units are rows of their own).
pub fn widest_f32(peaks: &[Peak]) -> Option<&Peak> {
    peaks
        .iter()
        .filter(|p| p.unit.ends_with("-fma"))
        .max_by(|a, b| a.gflops_per_second.total_cmp(&b.gflops_per_second))
}

/// Runs `kernel` on `threads` threads started together; total flops over the slowest thread's time.
#[cfg(target_arch = "x86_64")]
fn run_on_threads(threads: usize, kernel: fn(u64) -> (f32, f64)) -> f64 {
    const ITERS: u64 = 20_000_000;
    let start = Instant::now();
    let flops: f64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.max(1)).map(|_| s.spawn(move || kernel(ITERS))).collect();
        handles
            .into_iter()
            .map(|h| {
                let (sink, flops) = h.join().unwrap_or((0.0, 0.0));
                std::hint::black_box(sink);
                flops
            })
            .sum()
    });
    flops / start.elapsed().as_secs_f64() / 1e9
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Ten independent accumulators: more than latency (4) × throughput (2 per cycle) needs.
    macro_rules! fma_loop {
        ($iters:expr, $zero:expr, $set:expr, $fma:expr, $add:expr, $flops_per_op:expr, $reduce:expr) => {{
            let a = $set(1.000_001);
            let b = $set(0.999_999);
            let mut acc = [$zero; 10];
            for _ in 0..$iters {
                for v in acc.iter_mut() {
                    *v = $fma(*v, a, b);
                }
            }
            let mut s = acc[0];
            for v in &acc[1..] {
                s = $add(s, *v);
            }
            ($reduce(s), ($iters * 10) as f64 * $flops_per_op)
        }};
    }

    pub fn avx2_fma(iters: u64) -> (f32, f64) {
        // SAFETY: called only when CPUID reports AVX2 and FMA (`measure`).
        unsafe { avx2_fma_impl(iters) }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn avx2_fma_impl(iters: u64) -> (f32, f64) {
        fma_loop!(
            iters,
            _mm256_setzero_ps(),
            |x| _mm256_set1_ps(x),
            |c, a, b| _mm256_fmadd_ps(a, b, c),
            |x, y| _mm256_add_ps(x, y),
            16.0,
            |s| _mm_cvtss_f32(_mm256_castps256_ps128(s))
        )
    }

    pub fn avx512_fma(iters: u64) -> (f32, f64) {
        // SAFETY: called only when CPUID reports AVX-512F (`measure`).
        unsafe { avx512_fma_impl(iters) }
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn avx512_fma_impl(iters: u64) -> (f32, f64) {
        fma_loop!(
            iters,
            _mm512_setzero_ps(),
            |x| _mm512_set1_ps(x),
            |c, a, b| _mm512_fmadd_ps(a, b, c),
            |x, y| _mm512_add_ps(x, y),
            32.0,
            |s| _mm512_reduce_add_ps(s)
        )
    }

    pub fn avx512_bf16(iters: u64) -> (f32, f64) {
        // SAFETY: called only when CPUID reports AVX-512F and AVX512_BF16 (`measure`).
        unsafe { avx512_bf16_impl(iters) }
    }

    /// `vdpbf16ps`: 16 lanes × 2 bf16 products, accumulated in f32 = 64 flops per instruction.
    #[target_feature(enable = "avx512f,avx512bf16")]
    unsafe fn avx512_bf16_impl(iters: u64) -> (f32, f64) {
        let pair = |x: f32| _mm512_cvtne2ps_pbh(_mm512_set1_ps(x), _mm512_set1_ps(x));
        fma_loop!(
            iters,
            _mm512_setzero_ps(),
            pair,
            |c, a, b| _mm512_dpbf16_ps(c, a, b),
            |x, y| _mm512_add_ps(x, y),
            64.0,
            |s| _mm512_reduce_add_ps(s)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_described_and_peaks_are_plausible() {
        let cpu = CpuInfo::detect();
        assert!(!cpu.model.is_empty());
        let line = cpu.describe(2);
        assert!(line.ends_with("2 threads"), "{line}");
        let peaks = measure(1);
        #[cfg(target_arch = "x86_64")]
        if cpu.simd.contains(&"avx2") {
            let avx2 = peaks.iter().find(|p| p.unit == "avx2-fma").expect("AVX2 unit measured");
            // One core of any AVX2 machine: at least a few GFLOP/s, at most ~100 per GHz-ish core.
            assert!(
                avx2.gflops_per_second > 5.0 && avx2.gflops_per_second < 1000.0,
                "{avx2:?}"
            );
            assert!(widest_f32(&peaks).is_some());
        }
        assert!(peaks.iter().all(|p| p.gflops_per_second.is_finite()));
        // The tile unit, where the OS grants it, multiplies several times faster than any SIMD unit.
        if cpu.simd.contains(&"amx_bf16") {
            let amx = peaks.iter().find(|p| p.unit == "amx-bf16").expect("AMX unit measured");
            let simd = widest_f32(&peaks).map_or(0.0, |p| p.gflops_per_second);
            assert!(amx.gflops_per_second > 2.0 * simd, "{amx:?} vs {simd}");
        }
    }
}
