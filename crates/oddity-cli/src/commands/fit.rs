//! `oddity fit`: fit a detector and write its model directory.

use std::path::PathBuf;
use std::time::Instant;

use oddity::Result;
use oddity::detector::FitContext;
use oddity::registry;

use crate::load_args::{DataArgs, settings};
use crate::progress::Bars;

#[derive(clap::Args)]
pub struct Args {
    /// Model name (see `oddity models`).
    #[arg(long)]
    model: String,
    #[command(flatten)]
    data: DataArgs,
    /// Model directory to write (model.json + weights.safetensors).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Hyperparameter override, repeatable: --set n_estimators=200 --set contamination=0.05
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

pub fn run(args: Args) -> Result<()> {
    let entry = registry::find(&args.model)?;
    let settings = settings(&args.sets)?;
    settings.apply(&entry)?; // reject bad settings before loading a large file
    let data = args.data.load()?.train;
    let start = Instant::now();
    let bars = Bars::default();
    let det = entry.fit(&settings, &data, &FitContext::new(args.seed, &bars))?;
    det.save(&args.out)?;
    eprintln!(
        "fitted {} on {} samples in {:.2}s; threshold {:.6}; wrote {}",
        entry.name,
        data.n(),
        start.elapsed().as_secs_f64(),
        det.threshold(),
        args.out.display()
    );
    Ok(())
}
