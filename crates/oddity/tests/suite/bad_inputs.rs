//! The bad-input matrix at the library level: each hostile input gives the typed error a caller
//! can match on (the CLI's side, with the messages, is `crates/oddity-cli/tests/bad_inputs.rs`);
//! and the inputs that are legitimate but degenerate — constant features, a single row — give
//! finite scores or a clear error, never NaN.

use std::fs;
use std::path::Path;

use oddity::Error;
use oddity::data::{Dataset, Labels, LoadOptions, load};
use oddity::detector::FitContext;
use oddity::progress::Silent;
use oddity::registry::{self, Input, Protocol, Settings};

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

fn load_err(path: &Path) -> Error {
    load(path, &LoadOptions::default()).err().expect("must not load")
}

#[test]
fn non_finite_values_name_their_row_and_column() {
    let t = tempfile::tempdir().unwrap();
    for (text, row, col) in [
        ("1,2,0\n3,nan,0\n", 1, 1),
        ("inf,2,0\n3,4,1\n", 0, 0),
        ("1,2,0\n3,-inf,1\n", 1, 1),
    ] {
        let p = write(t.path(), "x.csv", &format!("a,b,label\n{text}"));
        match load_err(&p) {
            Error::NonFinite { row: r, col: c, .. } => assert_eq!((r, c), (row, col), "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn empty_and_truncated_files_are_format_errors_naming_the_file() {
    let t = tempfile::tempdir().unwrap();
    let cases = [
        ("empty.csv", ""),
        ("header.csv", "a,b,label\n"),
        ("empty.npz", ""),
        ("empty.npy", ""),
        ("empty.mat", ""),
        ("empty.arff", ""),
        ("empty.parquet", ""),
        ("half.npy", "\u{93}NUMPY\u{1}\u{0}"),
    ];
    for (name, text) in cases {
        let p = write(t.path(), name, text);
        match load_err(&p) {
            Error::Format { path, .. } => assert_eq!(path, p, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn labels_outside_zero_one_are_refused_where_anomaly_flags_are_needed() {
    let x: Vec<f32> = (0..40).map(|i| i as f32).collect();
    let ids = (0..20).map(|i| i % 3).collect();
    let names = vec!["0".into(), "1".into(), "2".into()];
    let data = Dataset::tabular("three.csv", 2, x, Labels::Classes { ids, names }).unwrap();
    assert!(matches!(data.require_anomaly_flags(), Err(Error::InvalidData(_))));
    for m in registry::models()
        .into_iter()
        .filter(|m| m.protocol == Protocol::WeaklySupervised)
    {
        let e = m
            .fit(&Settings::default(), &data, &FitContext::new(0, &Silent))
            .err()
            .unwrap();
        assert!(matches!(e, Error::InvalidData(_)), "{}: {e:?}", m.name);
    }
}

/// 300 rows: 4 informative features, one constant column; every 15th row an outlier.
fn with_constant_column(all_constant: bool) -> Dataset {
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in 0..300u32 {
        let out = i % 15 == 0;
        for j in 0..4u32 {
            let v = ((i * 37 + j * 11) % 29) as f32 / 29.0;
            x.push(if all_constant {
                1.0
            } else if out {
                v + 3.0
            } else {
                v
            });
        }
        x.push(7.0);
        y.push(out);
    }
    Dataset::tabular("constant column", 5, x, Labels::Anomaly(y)).unwrap()
}

#[test]
fn constant_features_give_finite_scores_for_every_tabular_model() {
    for all_constant in [false, true] {
        let data = with_constant_column(all_constant);
        for entry in registry::models().into_iter().filter(|m| m.input == Input::Tabular) {
            let name = entry.name;
            let det = entry
                .fit(&entry.quick_settings().unwrap(), &data, &FitContext::new(1, &Silent))
                .unwrap_or_else(|e| panic!("{name} (all constant: {all_constant}): {e}"));
            let scores = det.score(&data).unwrap();
            assert!(scores.iter().all(|s| s.is_finite()), "{name}");
            if all_constant {
                // Identical rows: identical scores (nothing to tell them apart).
                assert!(scores.iter().all(|&s| s == scores[0]), "{name}: {:?}", &scores[..3]);
            }
        }
    }
}

#[test]
fn a_single_row_fits_where_the_model_allows_it_and_is_a_typed_error_elsewhere() {
    let one = Dataset::tabular("one row", 3, vec![0.5, 1.0, -2.0], Labels::None).unwrap();
    let ctx = FitContext::new(0, &Silent);
    let det = registry::find("iforest")
        .unwrap()
        .fit(&Settings::default(), &one, &ctx)
        .unwrap();
    assert!(det.score(&one).unwrap()[0].is_finite());
    let image = Dataset::new(
        "one image",
        oddity::data::Layout::Images { c: 1, h: 16, w: 16 },
        vec![0.5; 256],
        Labels::None,
    )
    .unwrap();
    for (name, sets) in [("ganomaly", &["isize=16"][..]), ("deep-cluster", &[][..])] {
        let e = registry::find(name)
            .unwrap()
            .fit(&Settings::parse(sets).unwrap(), &image, &ctx)
            .err()
            .unwrap_or_else(|| panic!("{name} fitted one image"));
        assert!(
            matches!(e, Error::InvalidData(_) | Error::InvalidConfig { .. }),
            "{name}: {e:?}"
        );
    }
}
