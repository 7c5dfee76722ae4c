//! `oddity`: a thin command line over the oddity library. One module per subcommand.

/// `println!` for this crate (it shadows std's): a write error on standard output (a full disk,
/// `> /dev/full`) ends the process with one `error:` line and exit code 1 instead of a panic
/// (exit 101). A closed pipe still ends it quietly (SIGPIPE, see `die_quietly_on_broken_pipe`).
macro_rules! println {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            $crate::stdout_failed(e)
        }
    }};
}

mod commands;
mod load_args;
mod progress;
mod table;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Deep anomaly detection: fit, score and evaluate detectors on real data files.
#[derive(Parser)]
#[command(name = "oddity", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Describe a dataset: kind, shape, labels, anomaly rate.
    Info(commands::info::Args),
    /// Fit a detector and write its model directory.
    Fit(commands::fit::Args),
    /// Score data with a saved model directory (CSV: index, score, scaled score, prediction).
    Score(commands::score::Args),
    /// Run a model's standard evaluation protocol and print the metrics.
    Eval(commands::eval::Args),
    /// Benchmark protocols over many data files (results file + Markdown table).
    #[command(subcommand)]
    Bench(commands::bench::Bench),
    /// Build the HTML report (curves, histograms, images, training curves, tables) of a results file.
    Report(commands::report::Args),
    /// Run the available detectors on the small real datasets shipped in the repository.
    Demo(commands::demo::Args),
    /// List the registered models and their default hyperparameters.
    Models(commands::models::Args),
}

/// Writing to a closed pipe (`oddity score … | head`) ends the process quietly, as it does for
/// other Unix tools, instead of a panic in `println!` (Rust ignores SIGPIPE by default).
fn die_quietly_on_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// glibc's malloc hands every buffer over its threshold (128 KiB, rising to at most 32 MiB) back to
/// the kernel when it is freed, and releases the top of its heaps beyond 128 KiB; a training step
/// then faults its activations, gradients and GEMM packing buffers in afresh, page by page (8,000
/// page faults per DCEC step, 10–25 % of the step; docs/bench/speed.md, "Page faults"). Here
/// buffers up to 32 MiB come from the heap and up to 256 MiB of freed memory is kept for reuse.
/// `ODDITY_MALLOC=default` leaves glibc's settings alone (for side-by-side timing).
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("ODDITY_MALLOC").is_none_or(|v| v != "default") {
        // SAFETY: mallopt only changes malloc's thresholds; called before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
        }
    }
}

/// clap's usage errors as one line (its first paragraph), exit code 2; help and version as clap prints them.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    let text = e.render().to_string();
    let first: Vec<&str> = text
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect();
    eprintln!("{} (see --help)", first.join(" "));
    ExitCode::from(2)
}

/// Standard output cannot be written: one error line, exit code 1.
pub(crate) fn stdout_failed(e: std::io::Error) -> ! {
    eprintln!("error: {}", oddity::Error::io(STDOUT, e));
    std::process::exit(1)
}

/// How standard output is named in error messages.
pub(crate) const STDOUT: &str = "standard output";

fn main() -> ExitCode {
    die_quietly_on_broken_pipe();
    keep_freed_memory();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    // Work runs on rayon's pool (`oddity::parallel::on_pool`); `bench` sizes the pool first and
    // moves onto it itself.
    let result = match cli.command {
        Command::Bench(b) => commands::bench::run(b),
        command => oddity::parallel::on_pool(move || match command {
            Command::Info(a) => commands::info::run(a),
            Command::Fit(a) => commands::fit::run(a),
            Command::Score(a) => commands::score::run(a),
            Command::Eval(a) => commands::eval::run(a),
            Command::Report(a) => commands::report::run(a),
            Command::Demo(a) => commands::demo::run(a),
            Command::Models(a) => commands::models::run(a),
            Command::Bench(_) => unreachable!("handled above"),
        }),
    };
    // What is still buffered must reach standard output too, or the run failed.
    let result = result.and_then(|()| {
        use std::io::Write as _;
        std::io::stdout().flush().map_err(|e| oddity::Error::io(STDOUT, e))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            if e.is_usage() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
