//! `oddity fit`: fit a detector and write its model directory.

use std::path::PathBuf;
use std::time::Instant;

use oddity::Result;
use oddity::checkpoint::Checkpointing;
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
    /// Checkpoint training into DIR (ganomaly: every epoch; dplan: every episode; deep-cluster:
    /// every pretraining epoch), replacing what is there. Models
    /// without checkpointing ignore it. See docs/reliability.md.
    #[arg(long, value_name = "DIR", conflicts_with = "resume")]
    checkpoint: Option<PathBuf>,
    /// Continue an interrupted fit from its checkpoint folder DIR (same data, seed and --set
    /// values; epochs and lr may change), and keep checkpointing there. Starts afresh if DIR
    /// holds no checkpoint.
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let entry = registry::find(&args.model)?;
    let settings = settings(&args.sets)?;
    settings.apply(&entry)?; // reject bad settings before loading a large file
    let data = args.data.load()?.train;
    let start = Instant::now();
    let bars = Bars::default();
    let mut ctx = FitContext::new(args.seed, &bars);
    if let Some(dir) = args.checkpoint.clone().or(args.resume.clone()) {
        ctx = ctx.with_checkpoint(Checkpointing {
            dir,
            resume: args.resume.is_some(),
        });
    }
    let det = entry.fit(&settings, &data, &ctx)?;
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
