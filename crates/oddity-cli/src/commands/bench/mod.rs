//! `oddity bench`: benchmark protocols over many files, written as results files and tables;
//! timing of inner pieces (`dplan-step`, `speed`).

mod curve;
mod speed;

use std::path::{Path, PathBuf};
use std::time::Instant;

use oddity::data::{LoadOptions, Loaded, load};
use oddity::eval::{self, Job, Plan};
use oddity::registry::{self, ModelEntry, Settings};
use oddity::report::RunClock;
use oddity::results::{Detail, MetricRecord, Results, append_details, append_records, latest_wins, markdown_table};
use oddity::{Error, Result};

use crate::load_args::{SplitArgs, dataset_name};
use crate::progress::Bars;

#[derive(clap::Subcommand)]
pub enum Bench {
    /// DPLAN's protocol: every model on every tabular file, a few labelled anomalies, several seeds.
    WeaklySupervised(WeakArgs),
    /// Times DPLAN's inner pieces on random data: one DQN minibatch update (batch 32) and one
    /// nearest/farthest search over 1,000 candidates, for several input widths.
    DplanStep,
    /// Training and scoring throughput of the conv networks (GANomaly step, GANomaly scoring,
    /// DCEC pretraining step), side by side with PyTorch on the same CPU (bench/speed_reference.py).
    Speed(speed::Args),
    /// GANomaly and DCEC training curves on oddity's kernels and on burn's own ops from the same
    /// seed, with the largest gap between them.
    Curve(curve::Args),
}

#[derive(clap::Args)]
pub struct WeakArgs {
    /// Directory whose tabular files (.npz .npy .mat .csv .arff .parquet .tar.xz) are all run; repeatable.
    #[arg(long = "data-dir", value_name = "DIR")]
    data_dirs: Vec<PathBuf>,
    /// A single data file; repeatable (combines with --data-dir).
    #[arg(long = "data", value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Comma-separated models; `name[key=value;key=value]` runs a model with overrides under that name.
    #[arg(long, default_value = "dplan,devnet,deep-sad,repen,iforest")]
    models: String,
    /// Number of seeds: FIRST..FIRST+N (see --first-seed).
    #[arg(long, default_value_t = 5)]
    seeds: u64,
    /// First seed (to add seeds to an earlier run's results).
    #[arg(long, default_value_t = 0)]
    first_seed: u64,
    #[command(flatten)]
    split: SplitArgs,
    /// Output directory: results.jsonl (appended) and results.md.
    #[arg(long, default_value = "bench-results")]
    out: PathBuf,
}

pub fn run(bench: Bench) -> Result<()> {
    match bench {
        Bench::WeaklySupervised(a) => weakly_supervised(a),
        Bench::DplanStep => {
            dplan_step();
            Ok(())
        }
        Bench::Speed(a) => speed::run(a),
        Bench::Curve(a) => curve::run(a),
    }
}

fn dplan_step() {
    use oddity::models::dplan::DplanConfig;
    use oddity::models::dplan::env::{Env, nearest_or_farthest};
    use oddity::models::dplan::replay::Transition;
    use oddity::models::dplan::train::Agent;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    let cfg = DplanConfig::default();
    for d in [6usize, 21, 166, 196] {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let n = 5000;
        let x: Vec<f32> = (0..n * d).map(|_| rng.random_range(-1.0..1.0)).collect();
        let mut agent = Agent::new(&cfg, d, &mut rng);
        let batch: Vec<Transition> = (0..cfg.batch_size)
            .map(|_| Transition {
                state: rng.random_range(0..n as u32),
                action: rng.random_range(0..2),
                reward: rng.random_range(-1.0..1.0),
                next: rng.random_range(0..n as u32),
                terminal: false,
            })
            .collect();
        let reps = 20_000;
        let t = Instant::now();
        for _ in 0..reps {
            agent.learn(&batch, &x, d, cfg.gamma, cfg.l2);
        }
        let learn_us = t.elapsed().as_secs_f64() * 1e6 / reps as f64;
        let mut env = Env::new(&x, d, vec![0], (1..n).collect(), 0.5, 1000);
        let cands: Vec<usize> = (0..1000).map(|_| rng.random_range(1..n)).collect();
        let reps = 2000;
        let t = Instant::now();
        for i in 0..reps {
            std::hint::black_box(nearest_or_farthest(&mut env, i % n, &cands, i % 2 == 0, &agent.net));
        }
        let search_us = t.elapsed().as_secs_f64() * 1e6 / reps as f64;
        println!("d = {d:>3}: DQN update (batch 32) {learn_us:7.1} µs; nearest/farthest over 1,000 {search_us:7.1} µs");
    }
}

/// A model to run: its registry entry, overrides and the name it gets in the table.
struct Spec {
    entry: ModelEntry,
    settings: Settings,
    label: String,
}

fn parse_models(list: &str) -> Result<Vec<Spec>> {
    let mut specs = Vec::new();
    for item in split_top_level(list) {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (name, sets) = match item.split_once('[') {
            Some((n, rest)) => {
                let inner = rest
                    .strip_suffix(']')
                    .ok_or_else(|| Error::config("models", format!("`{item}`: missing `]`")))?;
                (
                    n.trim(),
                    inner.split(';').map(str::trim).filter(|s| !s.is_empty()).collect(),
                )
            }
            None => (item, Vec::new()),
        };
        if specs.iter().any(|s: &Spec| s.label == item) {
            return Err(Error::config("models", format!("`{item}` is listed twice")));
        }
        let entry = registry::find(name)?;
        let settings = Settings::parse(&sets)?;
        settings.apply(&entry)?;
        specs.push(Spec {
            entry,
            settings,
            label: item.to_string(),
        });
    }
    if specs.is_empty() {
        return Err(Error::config("models", "no model given"));
    }
    Ok(specs)
}

/// Splits on commas outside brackets.
fn split_top_level(s: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

const TABULAR: [&str; 8] = [".npz", ".npy", ".mat", ".csv", ".arff", ".parquet", ".tar.xz", ".txz"];

fn tabular_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.to_string_lossy().to_ascii_lowercase();
            p.is_file() && TABULAR.iter().any(|ext| n.ends_with(ext))
        })
        .collect();
    v.sort();
    Ok(v)
}

fn weakly_supervised(a: WeakArgs) -> Result<()> {
    let specs = parse_models(&a.models)?;
    if a.seeds == 0 {
        return Err(Error::config("seeds", "must be at least 1"));
    }
    if a.first_seed.checked_add(a.seeds).is_none() {
        return Err(Error::config(
            "first-seed",
            format!("{} + {} seeds overflows the seed range (u64)", a.first_seed, a.seeds),
        ));
    }
    oddity::output::check_dir(&a.out)?;
    let split = a.split.config();
    split.validate()?;
    let mut files = a.files.clone();
    for dir in &a.data_dirs {
        files.extend(tabular_files(dir)?);
    }
    if files.is_empty() {
        return Err(Error::config("data-dir", "no tabular data files given or found"));
    }
    std::fs::create_dir_all(&a.out).map_err(|e| Error::io(&a.out, e))?;
    let jsonl = a.out.join("results.jsonl");
    let bars = Bars::default();
    let mut skipped: Vec<String> = Vec::new();
    let total = files.len() * specs.len() * a.seeds as usize;
    let mut done = 0;
    let start = Instant::now();
    let clock = RunClock::start();
    for file in &files {
        let name = dataset_name(file);
        let data: Loaded = match load(file, &LoadOptions::default()).and_then(|l| l.into_all()) {
            Ok(d) => d.into(),
            Err(e) => {
                eprintln!("skip {name}: {e}");
                skipped.push(format!("{name}: {e}"));
                done += specs.len() * a.seeds as usize;
                continue;
            }
        };
        for spec in &specs {
            for seed in a.first_seed..a.first_seed + a.seeds {
                done += 1;
                let job = Job {
                    entry: &spec.entry,
                    settings: &spec.settings,
                    dataset: &data,
                    name: &name,
                    seed,
                    progress: &bars,
                };
                match eval::run(&job, &Plan::Weak(split)) {
                    Ok(eval) => {
                        let (mut recs, mut details) = (eval.records, eval.details);
                        for r in &mut recs {
                            r.model = spec.label.clone();
                        }
                        for d in &mut details {
                            relabel(d, &spec.label);
                        }
                        let ap = recs.iter().find(|r| r.metric == "average_precision").map(|r| r.value);
                        eprintln!(
                            "[{done}/{total}] {name} · {} · seed {seed}: AUC-PR {:.3} ({:.1} s)",
                            spec.label,
                            ap.unwrap_or(f64::NAN),
                            recs.first().map(|r| r.seconds).unwrap_or(0.0)
                        );
                        append_records(&jsonl, &recs)?;
                        append_details(&jsonl, &details)?;
                    }
                    Err(e) => {
                        eprintln!("[{done}/{total}] {name} · {} · seed {seed}: skipped: {e}", spec.label);
                        if seed == a.first_seed {
                            skipped.push(format!("{name} · {}: {e}", spec.label));
                        }
                    }
                }
            }
        }
    }
    let seeds: Vec<u64> = (a.first_seed..a.first_seed + a.seeds).collect();
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let run = clock.finish(std::env::args().collect(), seeds.clone(), &paths)?;
    append_details(&jsonl, &[Detail::Run(run)])?;
    // The table covers every run recorded in the results file (earlier invocations included, the
    // latest record winning), so models can be benchmarked in several goes.
    let all = latest_wins(Results::read(&jsonl)?.metrics);
    let md = render(&all, &split, &seeds, &skipped, start.elapsed().as_secs_f64());
    let md_path = a.out.join("results.md");
    oddity::output::write_file(&md_path, md.as_bytes())?;
    println!("{md}");
    eprintln!(
        "wrote {} and {} (pictures: oddity report --results {} --out DIR)",
        jsonl.display(),
        md_path.display(),
        jsonl.display()
    );
    Ok(())
}

/// Puts a model variant's name (`dplan[p_labeled=0.05]`) on its details.
fn relabel(d: &mut Detail, label: &str) {
    match d {
        Detail::Scores(s) => s.model = label.into(),
        Detail::History(h) => h.model = label.into(),
        Detail::Images(g) => g.model = label.into(),
        Detail::Embedding(m) => m.model = label.into(),
        Detail::Run(_) => {}
    }
}

fn render(
    records: &[MetricRecord],
    split: &oddity::data::split::WeakSplitConfig,
    seeds: &[u64],
    skipped: &[String],
    seconds: f64,
) -> String {
    let range = match (seeds.first(), seeds.last()) {
        (Some(a), Some(b)) if a != b => format!("seeds {a}..={b}"),
        (Some(a), _) => format!("seed {a}"),
        _ => "no seeds".into(),
    };
    let mut md = format!(
        "# Weakly supervised benchmark\n\n{} labelled anomalies, unlabelled contamination {}, test fraction {}; \
         mean ± sd over the seeds of every record in results.jsonl, best per row in bold. Last invocation: {range}, \
         {:.0} s wall time.\n\n",
        split.labeled_anomalies, split.contamination, split.test_fraction, seconds
    );
    md.push_str("## AUC-PR (average precision)\n\n");
    md.push_str(&markdown_table(records, "average_precision"));
    md.push_str("\n## ROC-AUC\n\n");
    md.push_str(&markdown_table(records, "roc_auc"));
    if !skipped.is_empty() {
        md.push_str("\n## Skipped\n\n");
        for s in skipped {
            md.push_str(&format!("- {s}\n"));
        }
    }
    md
}
