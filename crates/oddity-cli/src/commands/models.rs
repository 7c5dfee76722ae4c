//! `oddity models`: the registered models and their defaults, one block per model that fits a
//! 100-column terminal, or JSON.

use oddity::Result;
use oddity::detector::DEFAULT_CONTAMINATION;
use oddity::registry::{ModelEntry, models};
use serde_json::{Value, json};

/// Widest line of the listing.
const WIDTH: usize = 100;

#[derive(clap::Args)]
pub struct Args {
    /// Print JSON: every model's name, description, protocol and default hyperparameters.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<()> {
    let all = models();
    if a.json {
        let list: Vec<Value> = all
            .iter()
            .map(|m| {
                json!({
                    "name": m.name,
                    "about": m.about,
                    "protocol": m.protocol.name(),
                    "defaults": m.default_config(),
                    "presets": m.presets.iter().map(|p| json!({
                        "name": p.name,
                        "about": p.about,
                        "settings": p.settings,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let doc = json!({ "models": list, "contamination": DEFAULT_CONTAMINATION });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        let text = listing(&all);
        println!("{}", text.strip_suffix('\n').unwrap_or(&text));
    }
    Ok(())
}

/// One block per model: name and protocol, description, defaults as `key=value` (what `--set` takes).
fn listing(all: &[ModelEntry]) -> String {
    let mut out = String::new();
    for m in all {
        out.push_str(&format!("{} ({})\n", m.name, m.protocol.name()));
        for line in wrap(m.about.split_whitespace().map(str::to_string), "  ", "  ") {
            out.push_str(&line);
            out.push('\n');
        }
        let settings: Vec<String> = match m.default_config() {
            Value::Object(map) => map.iter().map(|(k, v)| format!("{k}={}", setting(v))).collect(),
            _ => Vec::new(),
        };
        let n = settings.len();
        let words = settings
            .into_iter()
            .enumerate()
            .map(|(i, s)| if i + 1 < n { s + "," } else { s });
        for line in wrap(words, "  defaults: ", "    ") {
            out.push_str(&line);
            out.push('\n');
        }
        for p in m.presets {
            let words = format!("{}: {}", p.name, p.about);
            for line in wrap(words.split_whitespace().map(str::to_string), "  preset ", "    ") {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out.push('\n');
    }
    let tail = format!(
        "Every model also takes contamination (default {DEFAULT_CONTAMINATION}). Change any default with --set \
         key=value; --set preset=NAME sets a preset's values."
    );
    for line in wrap(tail.split_whitespace().map(str::to_string), "", "") {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// A value as `--set` reads it back: strings bare where that is unambiguous, else JSON.
fn setting(v: &Value) -> String {
    match v {
        Value::String(s)
            if !s.is_empty() && !s.contains(char::is_whitespace) && serde_json::from_str::<Value>(s).is_err() =>
        {
            s.clone()
        }
        other => other.to_string(),
    }
}

/// Greedy word wrap to [`WIDTH`] columns; a word longer than a line gets a line of its own.
fn wrap(words: impl Iterator<Item = String>, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for w in words {
        if !empty && line.chars().count() + 1 + w.chars().count() > WIDTH {
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(&w);
        empty = false;
    }
    if !empty {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_the_width_and_keeps_every_word() {
        let words: Vec<String> = (0..200).map(|i| format!("w{i}")).collect();
        let lines = wrap(words.iter().cloned(), "  defaults: ", "    ");
        assert!(lines.len() > 5);
        assert!(lines.iter().all(|l| l.chars().count() <= WIDTH), "{lines:?}");
        assert!(lines[0].starts_with("  defaults: w0 w1") && lines[1].starts_with("    w"));
        let back: Vec<&str> = lines
            .iter()
            .flat_map(|l| l.split_whitespace())
            .filter(|w| *w != "defaults:")
            .collect();
        assert_eq!(back, words.iter().map(String::as_str).collect::<Vec<_>>());
    }

    #[test]
    fn settings_read_back_as_the_same_value() {
        for v in [
            json!("auto"),
            json!("128"),
            json!("a b"),
            json!(""),
            json!(0.5),
            json!([8, 16]),
            json!(null),
            json!(true),
        ] {
            let text = setting(&v);
            let back = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
            assert_eq!(back, v, "{text}");
        }
        assert_eq!(setting(&json!("auto")), "auto");
    }
}
