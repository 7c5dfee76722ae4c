//! `oddity fit`: fit a detector and write its model directory.

use std::path::{Path, PathBuf};
use std::time::Instant;

use oddity::checkpoint::Checkpointing;
use oddity::detector::FitContext;
use oddity::registry;
use oddity::{Error, Result, persist};

use crate::load_args::{DataArgs, DeviceArgs, settings};
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
    #[command(flatten)]
    device: DeviceArgs,
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
    let settings = args.device.apply(settings(&args.sets)?);
    settings.apply(&entry)?; // reject bad settings before loading a large file
    check_outputs(&args)?; // and bad output paths before hours of training
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

/// Every path `fit` will write, checked before the data is loaded: the model directory may be
/// created or replaced, the checkpoint folder is writable, and the two are not the same folder.
fn check_outputs(args: &Args) -> Result<()> {
    persist::check_out_dir(&args.out)?;
    let Some(ck) = args.checkpoint.as_ref().or(args.resume.as_ref()) else {
        return Ok(());
    };
    oddity::output::check_dir(ck)?;
    let flag = if args.resume.is_some() { "resume" } else { "checkpoint" };
    let (out, ck_abs) = (absolute(&args.out), absolute(ck));
    if out.starts_with(&ck_abs) || ck_abs.starts_with(&out) {
        return Err(Error::config(
            flag,
            format!(
                "{} and --out {} overlap; the checkpoint folder and the model directory must be separate folders",
                ck.display(),
                args.out.display()
            ),
        ));
    }
    if args.resume.is_some() && ck.join(persist::MODEL_JSON).is_file() {
        return Err(Error::config(
            "resume",
            format!(
                "{} is a model directory, not a checkpoint folder (that is what --checkpoint DIR writes)",
                ck.display()
            ),
        ));
    }
    Ok(())
}

/// `path` made absolute with its symbolic links resolved as far as it exists.
fn absolute(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = abs.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name().map(|s| s.to_os_string()), existing.parent()) {
            (Some(name), Some(up)) => {
                rest.push(name);
                existing = up.to_path_buf();
            }
            _ => return abs,
        }
    }
    let mut out = existing.canonicalize().unwrap_or(existing);
    out.extend(rest.iter().rev());
    out
}
