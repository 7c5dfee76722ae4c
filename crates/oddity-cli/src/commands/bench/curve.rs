//! `oddity bench curve`: GANomaly and DCEC training curves on oddity's kernels and on burn's own
//! ops, from the same seed and batches, with the largest gap between them (issue 16).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use oddity::backend::parse_device;
use oddity::data::{LoadOptions, load};
use oddity::models::deep_cluster::DeepClusterConfig;
use oddity::models::ganomaly::GanomalyConfig;
use oddity::nn::fast::set_fast_kernels;
use oddity::speed::curve::{self, Curve, gap};
use oddity::{Error, Result};

#[derive(clap::Args)]
pub struct Args {
    /// Images to train on (any image data oddity loads; the training part of an IDX folder).
    #[arg(long, default_value = "data/mnist-small")]
    data: PathBuf,
    /// Training steps per curve.
    #[arg(long, default_value_t = 200)]
    steps: usize,
    /// Seed of the weights and of the batch order (the same for both paths).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Only this model's curves.
    #[arg(long, value_enum)]
    only: Option<Which>,
    /// Every step's losses as CSV (model, path, step, series, loss).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Which {
    Ganomaly,
    Dcec,
}

/// Batches as in `oddity bench speed`: GANomaly 64 images of 32², DCEC 256 of the data's size.
const GANOMALY_BATCH: usize = 64;
const DCEC_BATCH: usize = 256;

pub fn run(a: Args) -> Result<()> {
    if a.steps == 0 {
        return Err(Error::config("steps", "must be at least 1"));
    }
    if let Some(out) = &a.out {
        oddity::output::check_file(out)?;
    }
    let data = load(&a.data, &LoadOptions::default())?.train;
    let device = parse_device("cpu")?;
    let mut csv = String::from("model,path,step,series,loss\n");
    let mut worst = 0f64;
    println!(
        "training curves, {} steps, seed {}, on {} ({} images)",
        a.steps,
        a.seed,
        a.data.display(),
        data.n()
    );
    for which in [Which::Ganomaly, Which::Dcec] {
        if a.only.is_some_and(|o| o != which) {
            continue;
        }
        let train = |nudge: bool| match which {
            Which::Ganomaly => {
                let cfg = GanomalyConfig {
                    batch_size: GANOMALY_BATCH,
                    ..Default::default()
                };
                curve::ganomaly(&data, &cfg, a.steps, a.seed, nudge, &device)
            }
            Which::Dcec => {
                let cfg = DeepClusterConfig {
                    batch_size: DCEC_BATCH,
                    ..Default::default()
                };
                curve::dcec(&data, &cfg, a.steps, a.seed, nudge, &device)
            }
        };
        let name = which.name();
        set_fast_kernels(true);
        let t = Instant::now();
        let fast = train(false)?;
        let fast_s = t.elapsed().as_secs_f64();
        set_fast_kernels(false);
        let t = Instant::now();
        let burn = train(false)?;
        let burn_s = t.elapsed().as_secs_f64();
        set_fast_kernels(true);
        let nudged = train(true)?;
        let g = gap(&fast, &burn)?;
        let rounding = gap(&fast, &nudged)?;
        worst = worst.max(g.max_relative);
        println!();
        println!("{name}: oddity's kernels {fast_s:.1} s, burn's ops {burn_s:.1} s");
        print_table(&fast, &burn, &nudged);
        println!(
            "{name}: largest relative gap, oddity vs burn {:.2e} (step {}); oddity vs oddity on inputs one ulp apart {:.2e} (step {})",
            g.max_relative, g.at_step, rounding.max_relative, rounding.at_step
        );
        for (path, c) in [("oddity", &fast), ("burn", &burn), ("oddity-nudged", &nudged)] {
            for (step, row) in c.losses.iter().enumerate() {
                for (series, loss) in c.series.iter().zip(row) {
                    // Writing to a String cannot fail.
                    let _ = writeln!(csv, "{name},{path},{},{series},{loss}", step + 1);
                }
            }
        }
    }
    println!();
    println!("largest relative gap over all curves: {worst:.2e}");
    if let Some(out) = &a.out {
        oddity::output::write_file(out, csv.as_bytes())?;
        println!("every step: {}", out.display());
    }
    Ok(())
}

impl Which {
    fn name(self) -> &'static str {
        match self {
            Which::Ganomaly => "ganomaly",
            Which::Dcec => "dcec",
        }
    }
}

/// Both curves at steps 1, 2, 5, 10, 20, 50, … and the last, with their gap and, for scale, the gap
/// between oddity's curve and its run on inputs one ulp apart.
fn print_table(fast: &Curve, burn: &Curve, nudged: &Curve) {
    let n = fast.losses.len();
    let mut steps: Vec<usize> = [1, 2, 5]
        .iter()
        .flat_map(|m| (0..6).map(move |e| m * 10usize.pow(e)))
        .filter(|&s| s <= n)
        .collect();
    steps.sort_unstable();
    steps.dedup();
    if steps.last() != Some(&n) {
        steps.push(n);
    }
    let mut head = format!("{:>6}", "step");
    for s in fast.series {
        head += &format!(
            " | {:>14} {:>14} {:>9} {:>9}",
            format!("{s} oddity"),
            format!("{s} burn"),
            "gap",
            "ulp gap"
        );
    }
    println!("{head}");
    for s in steps {
        let mut line = format!("{s:>6}");
        let rel = |x: f32, y: f32| (x - y).abs() / x.abs().max(y.abs()).max(f32::MIN_POSITIVE);
        for ((&x, &y), &z) in fast.losses[s - 1]
            .iter()
            .zip(&burn.losses[s - 1])
            .zip(&nudged.losses[s - 1])
        {
            line += &format!(" | {x:>14.6} {y:>14.6} {:>9.2e} {:>9.2e}", rel(x, y), rel(x, z));
        }
        println!("{line}");
    }
}
