//! `oddity bench speed`: oddity's conv-network throughput next to PyTorch's on the same CPU.
//!
//! PyTorch runs first, in its own process (`bench/speed_reference.py`, which creates its own
//! virtualenv), with the same architectures, batches, passes and thread count; then oddity runs
//! here. Peak memory is each process's own high-water mark (VmHWM / ru_maxrss).

use std::path::PathBuf;
use std::process::Command;

use oddity::backend::parse_device;
use oddity::nn::fast::Precision;
use oddity::speed::peak::{self, CpuInfo, Peak};
use oddity::speed::{self, Plan, Throughput};
use oddity::{Error, Result};
use serde_json::Value;

#[derive(clap::Args)]
pub struct Args {
    /// Timed steps per workload (the median is reported).
    #[arg(long, default_value_t = 10)]
    steps: usize,
    /// Untimed warm-up steps per workload.
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// The PyTorch side: this script, run with `python3` (skip it with --no-torch).
    #[arg(long, default_value = "bench/speed_reference.py")]
    reference: PathBuf,
    /// Only time oddity.
    #[arg(long)]
    no_torch: bool,
    /// Threads for both sides (oddity's rayon pool; torch.set_num_threads). Default: all cores.
    #[arg(long)]
    threads: Option<usize>,
    /// Device for oddity (`cpu`, or a GPU backend this build has).
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Device for PyTorch (`cpu`, or `cuda`/`cuda:N`: the reference on an NVIDIA GPU).
    #[arg(long, default_value = "cpu")]
    torch_device: String,
    /// Time only this workload on oddity's side (for profiling; implies --no-torch).
    #[arg(long, value_enum)]
    only: Option<Workload>,
    /// Print one JSON object per figure instead of the table.
    #[arg(long)]
    json: bool,
    /// Run oddity's side on burn's own convolutions, batch norm and activations instead of
    /// oddity's kernels (nn/fast), to measure what the kernels bring.
    #[arg(long)]
    burn_ops: bool,
    /// After each workload, print (stderr) the time its GEMM products took, per shape: where a
    /// step's matrix products lose efficiency. oddity's kernels only.
    #[arg(long, conflicts_with = "burn_ops")]
    gemm_shapes: bool,
    /// Also time the two training workloads with bf16 products (`precision = bf16`), each as a row of
    /// its own, next to PyTorch's bf16 autocast on the same passes. With --only: the bf16 step alone.
    #[arg(long, conflicts_with = "burn_ops")]
    bf16: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Workload {
    GanomalyTrain,
    GanomalyScore,
    DcecPretrain,
    Gemm,
}

/// The workloads (batch, image side), as issue 6 sets them and bench/speed_reference.py runs them;
/// the library names each figure and the script uses the same names.
const GANOMALY_TRAIN: (usize, usize) = (64, 32);
const GANOMALY_SCORE: (usize, usize) = (256, 32);
const DCEC_PRETRAIN: (usize, usize) = (256, 28);
const GEMM_N: usize = 1024;

pub fn run(a: Args) -> Result<()> {
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        return Err(Error::config("threads", "must be at least 1"));
    }
    let plan = Plan {
        warmup: a.warmup,
        steps: a.steps,
    };
    if plan.steps == 0 {
        return Err(Error::config("steps", "must be at least 1"));
    }
    let device = parse_device(&a.device)?;
    let torch = if a.no_torch || a.only.is_some() {
        None
    } else {
        Some(run_reference(&a, threads)?)
    };
    // The global pool: burn-flex and its GEMM run their parallel loops there.
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| Error::Backend(format!("thread pool: {e}")))?;
    oddity::nn::fast::set_fast_kernels(!a.burn_ops);
    let kernels = if a.burn_ops {
        "burn's own ops"
    } else {
        "oddity's kernels"
    };
    eprintln!("oddity: timing ({threads} threads, device {}, {kernels})", a.device);
    let wanted = |w: Workload| a.only.is_none_or(|o| o == w);
    let mut ours = Vec::new();
    let mut time = |w: Workload, f: &(dyn Fn() -> Result<Throughput> + Sync)| -> Result<()> {
        if !wanted(w) {
            return Ok(());
        }
        oddity::nn::fast::gemm_shapes::collect(a.gemm_shapes);
        // On the pool, as every command's work (main.rs); the kernel switch is per thread.
        let t = oddity::parallel::on_pool(|| {
            oddity::nn::fast::set_fast_kernels(!a.burn_ops);
            f()
        })?;
        if a.gemm_shapes {
            print_gemm_shapes(&t, plan.warmup + plan.steps);
        }
        ours.push(t);
        Ok(())
    };
    // With --only, --bf16 times the bf16 step alone (profiling).
    let precisions: &[Precision] = match (a.bf16, a.only.is_some()) {
        (false, _) => &[Precision::F32],
        (true, false) => &[Precision::F32, Precision::Bf16],
        (true, true) => &[Precision::Bf16],
    };
    for &p in precisions {
        time(Workload::GanomalyTrain, &|| {
            speed::ganomaly_train(&device, GANOMALY_TRAIN.0, GANOMALY_TRAIN.1, plan, p)
        })?;
    }
    time(Workload::GanomalyScore, &|| {
        speed::ganomaly_score(&device, GANOMALY_SCORE.0, GANOMALY_SCORE.1, plan)
    })?;
    for &p in precisions {
        time(Workload::DcecPretrain, &|| {
            speed::dcec_pretrain(&device, DCEC_PRETRAIN.0, DCEC_PRETRAIN.1, plan, p)
        })?;
    }
    time(Workload::Gemm, &|| speed::gemm(&device, GEMM_N, plan))?;
    oddity::nn::fast::gemm_shapes::collect(false);
    let rss = speed::peak_rss();
    let machine = Machine {
        cpu: CpuInfo::detect(),
        threads,
        peaks: peak::measure(threads),
    };
    print_results(&a, &machine, &ours, rss, torch.as_ref())
}

/// The GEMM products of one workload's `runs` steps (warm-up included), per shape, most time first.
/// Products that ran side by side on separate threads overlap in time, so shares can add up to more
/// than 100 %.
fn print_gemm_shapes(t: &Throughput, runs: usize) {
    let entries = oddity::nn::fast::gemm_shapes::entries();
    let total: f64 = entries.iter().map(|e| e.seconds).sum::<f64>() / runs as f64;
    eprintln!(
        "GEMM products of \"{}\": {:.1} ms per step of {:.1} (median step), {} shapes",
        t.name,
        total * 1e3,
        t.seconds * 1e3,
        entries.len()
    );
    eprintln!(
        "{:>6}{:>6}{:>6} {:<6}{:>4}{:>8}{:>10}{:>8}{:>9}",
        "m", "k", "n", "layout", "thr", "calls/st", "ms/step", "share", "GFLOP/s"
    );
    for e in entries.iter().take(16) {
        let s = &e.shape;
        let layout = format!(
            "{}{}{}",
            if s.a_col_major { 'T' } else { 'N' },
            if s.b_col_major { 'T' } else { 'N' },
            if s.accumulate { "+" } else { "" }
        );
        let ms = e.seconds / runs as f64 * 1e3;
        eprintln!(
            "{:>6}{:>6}{:>6} {:<6}{:>4}{:>8.1}{:>10.2}{:>7.1}%{:>9.1}",
            s.m,
            s.k,
            s.n,
            layout,
            s.threads,
            e.calls as f64 / runs as f64,
            ms,
            100.0 * ms / (t.seconds * 1e3),
            e.gflops_per_second()
        );
    }
}

/// Where the figures were measured: the CPU, the threads, and its SIMD units' measured peaks.
struct Machine {
    cpu: CpuInfo,
    threads: usize,
    peaks: Vec<Peak>,
}

/// What the PyTorch script reported: figures by name, and its peak RSS.
struct Reference {
    figures: Vec<Value>,
    rss: Option<u64>,
    version: String,
}

fn run_reference(a: &Args, threads: usize) -> Result<Reference> {
    if !a.reference.is_file() {
        return Err(Error::config(
            "reference",
            format!(
                "{} not found: run from the repository root, pass --reference PATH, or --no-torch",
                a.reference.display()
            ),
        ));
    }
    eprintln!("PyTorch: {} (first run creates its virtualenv)", a.reference.display());
    let out = Command::new("python3")
        .arg(&a.reference)
        .args(["--steps", &a.steps.to_string(), "--warmup", &a.warmup.to_string()])
        .args(["--threads", &threads.to_string()])
        .args(["--device", &a.torch_device])
        .args(if a.bf16 { &["--bf16"][..] } else { &[] })
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| Error::io(&a.reference, e))?;
    if !out.status.success() {
        return Err(Error::Backend(format!(
            "{} failed ({}); see its messages above",
            a.reference.display(),
            out.status
        )));
    }
    let mut figures = Vec::new();
    let (mut rss, mut version) = (None, String::new());
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(v) = serde_json::from_str::<Value>(line.trim()) else {
            continue;
        };
        if let Some(b) = v.get("peak_rss").and_then(Value::as_u64) {
            rss = Some(b);
            version = v.get("torch").and_then(Value::as_str).unwrap_or_default().to_string();
        } else {
            figures.push(v);
        }
    }
    Ok(Reference { figures, rss, version })
}

impl Reference {
    fn figure(&self, name: &str, key: &str) -> Option<f64> {
        self.figures
            .iter()
            .find(|v| v.get("name").and_then(Value::as_str) == Some(name))
            .and_then(|v| v.get(key))
            .and_then(Value::as_f64)
    }
}

/// Where bf16 products run on this machine.
fn bf16_products() -> &'static str {
    if oddity::nn::fast::bf16::amx() {
        "AMX tiles"
    } else {
        "operands rounded to bf16, f32 product (no AMX)"
    }
}

fn print_results(
    a: &Args,
    machine: &Machine,
    ours: &[Throughput],
    rss: Option<u64>,
    torch: Option<&Reference>,
) -> Result<()> {
    let widest = peak::widest_f32(&machine.peaks);
    let peak = widest.map(|p| p.gflops_per_second);
    // bf16 rows on AMX: over the tile unit's peak.
    let amx = machine
        .peaks
        .iter()
        .find(|p| p.unit == "amx-bf16")
        .map(|p| p.gflops_per_second);
    if a.json {
        println!(
            "{}",
            serde_json::json!({ "cpu": machine.cpu, "threads": machine.threads, "peaks": machine.peaks,
                "bf16_products": bf16_products() })
        );
        for t in ours {
            let mut v = serde_json::to_value(t).map_err(|e| Error::Backend(e.to_string()))?;
            if let Some(r) = torch.and_then(|r| r.figure(&t.name, "images_per_second")) {
                v["torch_images_per_second"] = r.into();
                v["ratio"] = (t.images_per_second / r).into();
            }
            println!("{v}");
        }
        let mut v = serde_json::json!({ "peak_rss": rss });
        if let Some(r) = torch {
            v["torch_peak_rss"] = r.rss.into();
        }
        println!("{v}");
        return Ok(());
    }
    println!("CPU: {}", machine.cpu.describe(machine.threads));
    for p in &machine.peaks {
        println!("measured peak {:<16} {:>8.1} GFLOP/s", p.unit, p.gflops_per_second);
    }
    if let Some(w) = widest {
        match amx {
            Some(_) if a.bf16 => println!(
                "\"of peak\" = GFLOP/s over the {} peak; bf16 rows over the amx-bf16 peak",
                w.unit
            ),
            _ => println!("\"of peak\" = GFLOP/s over the {} peak", w.unit),
        }
    }
    if a.bf16 {
        println!("bf16 products: {}", bf16_products());
    }
    if let Some(r) = torch {
        println!("PyTorch {} vs oddity, same CPU, same threads", r.version);
    }
    println!(
        "{:<28}{:>6}{:>12}{:>12}{:>12}{:>8}{:>10}{:>10}",
        "workload", "batch", "oddity ms", "img/s", "torch img/s", "ratio", "GFLOP/s", "of peak"
    );
    for t in ours {
        let theirs = torch.and_then(|r| r.figure(&t.name, "images_per_second"));
        let (their, ratio) = match theirs {
            Some(r) => (format!("{r:.1}"), format!("{:.2}x", t.images_per_second / r)),
            None => ("-".into(), "-".into()),
        };
        let peak = if t.name.ends_with("(bf16)") { amx.or(peak) } else { peak };
        let of_peak = match peak {
            Some(p) => format!("{:.0}%", 100.0 * t.gflops_per_second / p),
            None => String::new(),
        };
        // The GEMM row compares rates (same ratio as images/s); its rates are in GFLOP/s.
        let (per_s, their) = if t.name.starts_with("sgemm") {
            ("-".to_string(), "-".to_string())
        } else {
            (format!("{:.1}", t.images_per_second), their)
        };
        println!(
            "{:<28}{:>6}{:>12.1}{:>12}{:>12}{:>8}{:>10.1}{:>10}",
            t.name,
            t.batch,
            t.seconds * 1e3,
            per_s,
            their,
            ratio,
            t.gflops_per_second,
            of_peak
        );
    }
    if let Some(r) = torch {
        let gemm = format!("sgemm {GEMM_N}x{GEMM_N}");
        if let Some(g) = r.figure(&gemm, "gflops_per_second") {
            println!("PyTorch sgemm {GEMM_N}: {g:.1} GFLOP/s");
        }
    }
    let mb = |b: u64| format!("{:.0} MB", b as f64 / 1e6);
    match (rss, torch.and_then(|r| r.rss)) {
        (Some(o), Some(t)) => println!(
            "peak RSS: oddity {}, PyTorch {} (ratio {:.2})",
            mb(o),
            mb(t),
            o as f64 / t as f64
        ),
        (Some(o), None) => println!("peak RSS: oddity {}", mb(o)),
        _ => {}
    }
    Ok(())
}
