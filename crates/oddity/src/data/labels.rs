//! Turning a label column read from a file (CSV, ARFF, Parquet) into [`Labels`].

use std::collections::BTreeMap;
use std::path::Path;

use super::dataset::Labels;
use crate::error::{Error, Result};

/// Label values that mean "anomaly" in the benchmark collections (ODDS, ADBench, ADRepository).
const ANOMALY_TOKENS: &[&str] = &[
    "1",
    "1.0",
    "yes",
    "true",
    "anomaly",
    "anomalous",
    "outlier",
    "abnormal",
    "attack",
];

/// Interprets raw label strings.
///
/// - `anomaly_label = Some(v)`: anomaly flags, `true` where the value equals `v` (an error if no
///   row has that value: almost certainly a typo).
/// - otherwise, two distinct values: anomaly flags; the anomaly is the value that is a known
///   anomaly token (`1`, `yes`, `true`, `anomaly`, `outlier`, ...), else the rarer value; two
///   values that are equally common (and not told apart by a token) are an error asking for
///   `anomaly_label`.
/// - one value: anomaly flags if it is `0`/`1`-like, else a single class.
/// - more than two values: classes, named by their values (numeric order when all are numbers).
pub fn parse_labels(path: &Path, column: &str, values: &[String], anomaly_label: Option<&str>) -> Result<Labels> {
    let trimmed: Vec<&str> = values.iter().map(|v| v.trim()).collect();
    if let Some(row) = trimmed.iter().position(|v| v.is_empty() || *v == "?") {
        return Err(Error::format(
            path,
            format!("label column `{column}`: missing value at row {}", row + 1),
        ));
    }
    if let Some(target) = anomaly_label {
        let flags: Vec<bool> = trimmed.iter().map(|v| *v == target.trim()).collect();
        if !flags.iter().any(|&f| f) {
            let seen = distinct(&trimmed);
            return Err(Error::format(
                path,
                format!(
                    "label column `{column}` has no value `{target}` (values: {})",
                    seen.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        return Ok(Labels::Anomaly(flags));
    }
    let counts = distinct(&trimmed);
    let is_token = |v: &str| ANOMALY_TOKENS.contains(&v.to_ascii_lowercase().as_str());
    let is_zero = |v: &str| matches!(v.to_ascii_lowercase().as_str(), "0" | "0.0" | "no" | "false" | "normal");
    match counts.len() {
        1 => {
            let v = *counts.keys().next().unwrap_or(&"");
            if is_token(v) || is_zero(v) {
                Ok(Labels::Anomaly(vec![is_token(v); trimmed.len()]))
            } else {
                Ok(Labels::Classes {
                    ids: vec![0; trimmed.len()],
                    names: vec![v.to_string()],
                })
            }
        }
        2 => {
            let keys: Vec<&str> = counts.keys().copied().collect();
            let anomaly = match (is_token(keys[0]), is_token(keys[1])) {
                (true, false) => keys[0],
                (false, true) => keys[1],
                // neither or both look like "anomaly": the rarer value is the anomaly class; as
                // many of each says nothing, and the choice is the user's.
                _ if counts[keys[0]] == counts[keys[1]] => {
                    return Err(Error::format(
                        path,
                        format!(
                            "label column `{column}` holds `{}` and `{}` equally often ({} rows each): cannot tell which is the anomaly; name it with --anomaly-label",
                            keys[0], keys[1], counts[keys[0]]
                        ),
                    ));
                }
                _ if counts[keys[1]] < counts[keys[0]] => keys[1],
                _ => keys[0],
            };
            Ok(Labels::Anomaly(trimmed.iter().map(|v| *v == anomaly).collect()))
        }
        _ => {
            let mut names: Vec<&str> = counts.keys().copied().collect();
            if names.iter().all(|v| v.parse::<f64>().is_ok()) {
                names.sort_by(|a, b| {
                    let (a, b) = (a.parse::<f64>().unwrap_or(0.0), b.parse::<f64>().unwrap_or(0.0));
                    a.total_cmp(&b)
                });
            }
            let index: BTreeMap<&str, u32> = names.iter().enumerate().map(|(i, v)| (*v, i as u32)).collect();
            Ok(Labels::Classes {
                ids: trimmed.iter().map(|v| index[v]).collect(),
                names: names.iter().map(|s| s.to_string()).collect(),
            })
        }
    }
}

fn distinct<'a>(values: &[&'a str]) -> BTreeMap<&'a str, usize> {
    let mut m = BTreeMap::new();
    for v in values {
        *m.entry(*v).or_insert(0) += 1;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn zero_one_are_flags() {
        let l = parse_labels(Path::new("f"), "class", &s(&["0", "1", "0"]), None).unwrap();
        assert_eq!(l, Labels::Anomaly(vec![false, true, false]));
    }

    #[test]
    fn yes_no_picks_yes_even_if_common() {
        let l = parse_labels(Path::new("f"), "y", &s(&["yes", "yes", "no"]), None).unwrap();
        assert_eq!(l, Labels::Anomaly(vec![true, true, false]));
    }

    #[test]
    fn unknown_pair_picks_minority() {
        let l = parse_labels(Path::new("f"), "y", &s(&["- 50000.", "50000+.", "- 50000."]), None).unwrap();
        assert_eq!(l, Labels::Anomaly(vec![false, true, false]));
    }

    #[test]
    fn a_tie_without_a_token_is_an_error_asking_for_the_anomaly_label() {
        let e = parse_labels(Path::new("f.csv"), "y", &s(&["a", "b", "b", "a"]), None).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::Format { .. }), "{msg}");
        assert!(
            msg.contains("f.csv") && msg.contains("`a` and `b` equally often (2 rows each)"),
            "{msg}"
        );
        assert!(msg.contains("--anomaly-label"), "{msg}");
        // A token still decides a tie, and so does the user.
        let l = parse_labels(Path::new("f"), "y", &s(&["no", "yes"]), None).unwrap();
        assert_eq!(l, Labels::Anomaly(vec![false, true]));
        let l = parse_labels(Path::new("f"), "y", &s(&["a", "b"]), Some("b")).unwrap();
        assert_eq!(l, Labels::Anomaly(vec![false, true]));
    }

    #[test]
    fn missing_label_rows_count_from_one() {
        let e = parse_labels(Path::new("f"), "y", &s(&["1", "0", "?"]), None).unwrap_err();
        assert!(e.to_string().contains("missing value at row 3"), "{e}");
    }

    #[test]
    fn explicit_anomaly_label_must_exist() {
        let e = parse_labels(Path::new("f.csv"), "y", &s(&["a", "b"]), Some("c")).unwrap_err();
        assert!(
            e.to_string().contains("f.csv") && e.to_string().contains("no value `c`"),
            "{e}"
        );
        let l = parse_labels(Path::new("f"), "y", &s(&["a", "b"]), Some("a")).unwrap();
        assert_eq!(l, Labels::Anomaly(vec![true, false]));
    }

    #[test]
    fn many_numeric_values_are_classes_in_numeric_order() {
        let l = parse_labels(Path::new("f"), "y", &s(&["10", "2", "1", "2"]), None).unwrap();
        assert_eq!(
            l,
            Labels::Classes {
                ids: vec![2, 1, 0, 1],
                names: s(&["1", "2", "10"])
            }
        );
    }

    #[test]
    fn missing_label_is_an_error() {
        assert!(parse_labels(Path::new("f"), "y", &s(&["1", "?"]), None).is_err());
    }
}
