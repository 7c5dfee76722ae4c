//! `oddity score`: score data with a saved model.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use oddity::data::Labels;
use oddity::detector::ProbabilityMethod;
use oddity::report::folder::{DEFAULT_IMAGES, FolderPage, build_folder};
use oddity::{Error, Result, registry};

use crate::load_args::DataArgs;

#[derive(clap::Args)]
pub struct Args {
    /// Model directory written by `oddity fit`.
    #[arg(long, value_name = "DIR")]
    model_dir: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Write the scores here (CSV) instead of standard output.
    #[arg(long, value_name = "FILE.csv")]
    out: Option<PathBuf>,
    /// Match the data's columns to the model's by name (same columns in another order); without
    /// it, columns that differ from those the model was fitted on are an error.
    #[arg(long)]
    allow_reordered_columns: bool,
    /// Also write DIR/report.html — the most and least anomalous images with their
    /// reconstructions and error heat maps, the score histogram — and the scores to DIR/scores.csv.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// Images shown at each end of the ranking in the --report page [default: 8].
    #[arg(long, value_name = "K", requires = "report")]
    report_images: Option<usize>,
    /// Where to compute: `cpu` or a GPU backend this build has (`cuda[:N]`, …); any model loads
    /// on any device, whichever it was fitted on.
    #[arg(long, value_name = "DEVICE", default_value = "cpu")]
    device: String,
}

pub fn run(args: Args) -> Result<()> {
    if let Some(path) = &args.out {
        oddity::output::check_file(path)?;
    }
    if let Some(dir) = &args.report {
        oddity::output::check_dir(dir)?;
    }
    let det = registry::load_on(&args.model_dir, &oddity::backend::parse_device(&args.device)?)?;
    let mut data = args.data.load_all_for(det.summary().layout)?;
    if let (true, Some(names)) = (args.allow_reordered_columns, &det.summary().feature_names) {
        data = data.reorder_columns(names)?;
    }
    let scores = det.score(&data)?;
    let scaled = det.probability(&scores, ProbabilityMethod::Linear)?;
    let threshold = det.threshold();
    let labels: Option<Vec<String>> = match data.labels() {
        Labels::None => None,
        Labels::Anomaly(f) => Some(f.iter().map(|&a| (a as u8).to_string()).collect()),
        Labels::Classes { ids, names } => Some(ids.iter().map(|&i| names[i as usize].clone()).collect()),
    };
    let mut csv = String::with_capacity(scores.len() * 32);
    let files = data.files();
    csv.push_str(if files.is_some() { "index,file," } else { "index," });
    csv.push_str("score,scaled_score,prediction");
    csv.push_str(if labels.is_some() { ",label\n" } else { "\n" });
    for (i, (s, m)) in scores.iter().zip(&scaled).enumerate() {
        let _ = write!(csv, "{i},");
        if let Some(f) = files {
            let _ = write!(csv, "{},", csv_field(&f[i]));
        }
        let _ = write!(csv, "{s},{},{}", *m as f32, (*s > threshold) as u8);
        if let Some(l) = &labels {
            let _ = write!(csv, ",{}", csv_field(&l[i]));
        }
        csv.push('\n');
    }
    if let Some(dir) = &args.report {
        let (data_path, model_dir) = (
            args.data.data.display().to_string(),
            args.model_dir.display().to_string(),
        );
        let page = FolderPage {
            data_path: &data_path,
            model_dir: &model_dir,
            scores: &scores,
            threshold,
            csv: &csv,
            images: args.report_images.unwrap_or(DEFAULT_IMAGES),
        };
        let written = build_folder(det.as_ref(), &data, &page, dir)?;
        eprintln!(
            "report: {} (scores also in {})",
            written.html.display(),
            written.csv.display()
        );
    }
    match &args.out {
        Some(path) => {
            oddity::output::write_file(path, csv.as_bytes())?;
            let flagged = scores.iter().filter(|&&s| s > threshold).count();
            eprintln!(
                "scored {} samples ({flagged} above threshold {threshold:.6}); wrote {}",
                scores.len(),
                path.display()
            );
        }
        None => std::io::stdout()
            .lock()
            .write_all(csv.as_bytes())
            .map_err(|e| Error::io(crate::STDOUT, e))?,
    }
    Ok(())
}

/// A CSV field, quoted (RFC 4180) when it holds a comma, a quote or a line break.
fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}
