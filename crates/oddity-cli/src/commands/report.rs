//! `oddity report`: the HTML report (plots, tables, provenance) of a results file.

use std::path::PathBuf;

use oddity::Result;
use oddity::report::build;
use oddity::results::Results;

#[derive(clap::Args)]
pub struct Args {
    /// Results file written by `eval --results` or `bench` (JSON lines).
    #[arg(long, value_name = "FILE.jsonl")]
    results: PathBuf,
    /// Output folder: report.html, results.md, results.csv and plots/ (PNG and SVG).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    oddity::output::check_dir(&args.out)?;
    let results = Results::read(&args.results)?;
    let written = build(&results, &args.results, &args.out)?;
    println!(
        "{} ({} charts; sections: {}), {}, {}",
        written.html.display(),
        written.charts,
        written.sections.join(", "),
        written.markdown.display(),
        written.csv.display()
    );
    Ok(())
}
