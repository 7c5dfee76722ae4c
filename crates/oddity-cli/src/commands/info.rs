//! `oddity info`: what a data file holds.

use oddity::Result;
use oddity::data::{Dataset, Labels, Layout};

use crate::load_args::DataArgs;
use crate::table;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    data: DataArgs,
}

pub fn run(args: Args) -> Result<()> {
    let loaded = args.data.load()?;
    println!("{}", args.data.data.display());
    match &loaded.test {
        None => describe("data", &loaded.train),
        Some(test) => {
            describe("train", &loaded.train);
            describe("test", test);
        }
    }
    Ok(())
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
