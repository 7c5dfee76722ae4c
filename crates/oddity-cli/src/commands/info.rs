//! `oddity info`: what a data file holds, or (`--devices`) which devices this build can use.

use oddity::data::{Dataset, Labels, Layout};
use oddity::{Error, Result};

use crate::load_args::DataArgs;
use crate::table;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    data: Option<DataArgs>,
    /// List the devices this build sees (the values `--device` takes) instead of describing data.
    #[arg(long, exclusive = true)]
    devices: bool,
}

pub fn run(args: Args) -> Result<()> {
    if args.devices {
        devices();
        return Ok(());
    }
    let Some(data) = args.data else {
        return Err(Error::config("data", "give --data PATH (or --devices)"));
    };
    let loaded = data.load()?;
    println!("{}", data.data.display());
    match &loaded.test {
        None => describe("data", &loaded.train),
        Some(test) => {
            describe("train", &loaded.train);
            describe("test", test);
        }
    }
    Ok(())
}

/// `--device` values and what each device calls itself; the GPU backends this build lacks.
fn devices() {
    let mut t = table::new(&["device", "name"]);
    for d in oddity::backend::list() {
        t.add_row(vec![d.spec, d.name]);
    }
    println!("{t}");
    println!("backends in this build: {}", oddity::backend::available().join(", "));
}

fn describe(part: &str, ds: &Dataset) {
    let kind = match ds.layout() {
        Layout::Tabular { .. } => "tabular",
        Layout::Images { .. } => "images",
    };
    let mut t = table::new(&["part", "kind", "samples", "shape", "labels", "anomaly rate"]);
    let (labels, rate) = match ds.labels() {
        Labels::None => ("none".to_string(), "-".to_string()),
        Labels::Anomaly(f) => {
            let a = f.iter().filter(|&&v| v).count();
            (
                format!("anomaly flags: {a} anomalies, {} normal", f.len() - a),
                format!("{:.4}", a as f64 / f.len() as f64),
            )
        }
        Labels::Classes { ids, names } => {
            let mut counts = vec![0usize; names.len()];
            for &i in ids {
                counts[i as usize] += 1;
            }
            let list: Vec<String> = names.iter().zip(&counts).map(|(n, c)| format!("{n}: {c}")).collect();
            (
                format!("{} classes ({})", names.len(), list.join(", ")),
                "-".to_string(),
            )
        }
    };
    t.add_row(vec![
        part.to_string(),
        kind.to_string(),
        ds.n().to_string(),
        format!("[{}, {}]", ds.n(), ds.layout().describe().trim_matches(['[', ']'])),
        labels,
        rate,
    ]);
    println!("{t}");
    if let Some(names) = ds.feature_names() {
        let shown: Vec<&str> = names.iter().take(12).map(String::as_str).collect();
        let more = if names.len() > 12 {
            format!(", … ({} in all)", names.len())
        } else {
            String::new()
        };
        println!("features: {}{more}", shown.join(", "));
    }
}
