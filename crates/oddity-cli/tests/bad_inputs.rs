//! The bad-input matrix through the `oddity` binary: every hostile input gives a non-zero exit, one
//! readable `error:` line, no panic, and nothing at the output path. The table of inputs and the
//! messages they get is kept in docs/bad-inputs.md; this test fails when the two disagree
//! (`ODDITY_UPDATE_DOCS=1 cargo test -p oddity-cli --test bad_inputs` rewrites the file).

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{assert_error, data, oddity, stderr};

struct Case {
    input: &'static str,
    args: Vec<String>,
    code: i32,
    needle: &'static str,
    /// Must not exist after the command.
    out: PathBuf,
    /// The memory budget (`ODDITY_MEMORY_LIMIT`) when not [`BUDGET`]: cases whose refusal point
    /// scales with the budget run under a smaller one, so the test stays small.
    memory: Option<u64>,
}

/// The memory budget every case runs under (stable messages).
const BUDGET: u64 = 4_000_000_000;
/// The address-space limit (`ulimit -v`) every case runs under: a size check that failed shows as
/// an aborted allocation (exit 134), not a quiet success.
const ULIMIT_V: u64 = 4 << 30;
/// A case that runs longer is a hang.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// Peak resident memory allowed to a case: the inputs are kilobytes (the one-hot ARFF case
/// needs ~100 MB before its budget stops it).
const MAX_RSS: u64 = 400 << 20;

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

fn fit(model: &str, file: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["fit", "--model", model, "--data", &s(file), "--out", &s(out)]
        .map(String::from)
        .to_vec();
    v.extend(extra.iter().map(|e| e.to_string()));
    v
}

fn score(model_dir: &Path, file: &Path, out: &Path) -> Vec<String> {
    [
        "score",
        "--model-dir",
        &s(model_dir),
        "--data",
        &s(file),
        "--out",
        &s(out),
    ]
    .map(String::from)
    .to_vec()
}

fn eval(model: &str, file: &Path, results: &Path, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["eval", "--model", model, "--data", &s(file), "--results", &s(results)]
        .map(String::from)
        .to_vec();
    v.extend(extra.iter().map(|e| e.to_string()));
    v
}

/// An `.npy` file of little-endian f32 values, C order.
fn npy_f32(path: &Path, shape: (usize, usize), values: &[f32]) {
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}",
        shape.0, shape.1
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for v in values {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    fs::write(path, bytes).unwrap();
}

/// An `.npy` file of little-endian f64 values, C order.
fn npy_f64(path: &Path, shape: (usize, usize), values: &[f64]) {
    let mut header = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, {}), }}",
        shape.0, shape.1
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for v in values {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    fs::write(path, bytes).unwrap();
}

/// An ARFF file whose one feature is a nominal attribute declaring 2,000,000 values (one-hot: 8 MB
/// a row), with 64 rows.
fn two_million_values_arff(path: &Path) {
    use std::fmt::Write;
    let mut text = String::from("@relation wide\n@attribute big {");
    for i in 0..2_000_000 {
        if i > 0 {
            text.push(',');
        }
        write!(text, "v{i}").unwrap();
    }
    text.push_str("}\n@attribute label {0,1}\n@data\n");
    for i in 0..64 {
        writeln!(text, "v{i},{}", (i == 0) as u8).unwrap();
    }
    fs::write(path, text).unwrap();
}

/// A CSV of 200,000 feature columns whose last feature repeats the first name (its duplicate
/// check was a scan per column: 2·10¹⁰ comparisons).
fn wide_csv_with_a_late_duplicate(path: &Path) {
    let n = 200_000;
    let mut text: String = (0..n - 1).map(|i| format!("c{i},")).collect();
    text += "c0,label\n";
    text += &"0,".repeat(n);
    text += "1\n";
    fs::write(path, text).unwrap();
}

/// An ARFF header of 300,000 numeric attributes, the last declared twice (also a scan per
/// attribute before).
fn arff_with_a_late_duplicate_attribute(path: &Path) {
    use std::fmt::Write;
    let mut text = String::from("@relation many\n");
    for i in 0..300_000 {
        writeln!(text, "@attribute a{i} numeric").unwrap();
    }
    text += "@attribute a299999 numeric\n@attribute label {0,1}\n@data\n";
    fs::write(path, text).unwrap();
}

/// Fits `model` on `file` into `dir` (must succeed).
fn fitted(model: &str, file: &Path, dir: &Path, extra: &[&str]) -> PathBuf {
    let o = oddity(
        &fit(model, file, dir, extra)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    dir.to_path_buf()
}

/// A copy of model directory `src` at `dst` with `model.json` edited by `edit`.
fn edited_model(src: &Path, dst: &Path, edit: impl Fn(&mut serde_json::Value), weights: Option<&[u8]>) -> PathBuf {
    fs::create_dir_all(dst).unwrap();
    let mut json: serde_json::Value = serde_json::from_slice(&fs::read(src.join("model.json")).unwrap()).unwrap();
    edit(&mut json);
    let w = match weights {
        Some(w) => w.to_vec(),
        None => fs::read(src.join("weights.safetensors")).unwrap(),
    };
    fs::write(dst.join("model.json"), serde_json::to_vec_pretty(&json).unwrap()).unwrap();
    fs::write(dst.join("weights.safetensors"), w).unwrap();
    dst.to_path_buf()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn cases(t: &Path) -> Vec<Case> {
    let w = |name: &str, text: &str| {
        let p = t.join(name);
        fs::write(&p, text).unwrap();
        p
    };
    let nan = w("nan.csv", "a,b,label\n1,2,0\n3,nan,0\n5,6,1\n");
    let inf = w("inf.csv", "a,b,label\n1,2,0\n3,4,0\n5,inf,1\n");
    let ninf = t.join("neg-inf.npy");
    npy_f32(&ninf, (2, 2), &[0.0, 1.0, f32::NEG_INFINITY, 3.0]);
    let huge = w("huge.csv", "a,b,label\n1,2,0\n3,1e308,0\n5,6,1\n");
    let huge_npy = t.join("huge.npy");
    npy_f64(&huge_npy, (2, 2), &[0.0, 1.0, -1e308, 3.0]);
    let tied = w("tied-labels.csv", "a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n");
    let wide_arff = t.join("two-million-values.arff");
    two_million_values_arff(&wide_arff);
    let wide_csv = t.join("wide-duplicate.csv");
    wide_csv_with_a_late_duplicate(&wide_csv);
    let many_attrs = t.join("many-attributes.arff");
    arff_with_a_late_duplicate_attribute(&many_attrs);
    let empty = w("empty.csv", "");
    let header = w("header-only.csv", "a,b,label\n");
    let empty_npz = w("empty.npz", "");
    let one = w("one-row.csv", "a,b,label\n1,2,0\n");
    let three_labels = w("labels-012.csv", "a,b,label\n1,2,0\n3,4,2\n5,6,1\n");
    let ragged = w("ragged.csv", "a,b,label\n1,2,0\n3,0\n");
    let text = w("text.csv", "a,b,label\n1,two,0\n3,4,1\n");
    let pngs = t.join("mixed-sizes");
    fs::create_dir_all(&pngs).unwrap();
    fs::copy(data("coil20-small/obj1__0.png"), pngs.join("obj1__0.png")).unwrap();
    image_2x2(&pngs.join("obj2__0.png"));
    let mixed_channels = t.join("mixed-channels");
    fs::create_dir_all(&mixed_channels).unwrap();
    image_2x2(&mixed_channels.join("grey.png"));
    image::RgbImage::from_raw(2, 2, vec![9; 12])
        .unwrap()
        .save(mixed_channels.join("rgb.png"))
        .unwrap();
    let idx = t.join("truncated-idx");
    fs::create_dir_all(&idx).unwrap();
    for f in [
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ] {
        fs::copy(data("mnist-small").join(f), idx.join(f)).unwrap();
    }
    let gz = fs::read(data("mnist-small/train-images-idx3-ubyte.gz")).unwrap();
    fs::write(idx.join("train-images-idx3-ubyte.gz"), &gz[..gz.len() / 2]).unwrap();

    let fuzz_parquet = t.join("fuzzed.parquet");
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/regressions/parquet/dict-decoder-panic-printed-by-the-hook"),
        &fuzz_parquet,
    )
    .unwrap();
    let wbc = data("odds/wbc.mat");
    let iforest = fitted("iforest", &wbc, &t.join("iforest-wbc"), &["--set", "n_estimators=10"]);
    let iforest_img = fitted(
        "iforest",
        &data("mnist-small"),
        &t.join("iforest-mnist"),
        &["--set", "n_estimators=10"],
    );
    let ganomaly = fitted(
        "ganomaly",
        &data("mnist-small"),
        &t.join("ganomaly-mnist"),
        &[
            "--set", "epochs=1", "--set", "ngf=4", "--set", "ndf=4", "--set", "nz=4", "--set", "isize=16",
        ],
    );
    let weights = fs::read(iforest.join("weights.safetensors")).unwrap();
    let half = &weights[..weights.len() / 2];
    let empty_dir = t.join("empty-dir");
    fs::create_dir_all(&empty_dir).unwrap();
    // Output paths oddity must not touch, or cannot use.
    let tfjs = t.join("tfjs");
    fs::create_dir_all(&tfjs).unwrap();
    fs::write(tfjs.join("model.json"), "{}").unwrap();
    fs::write(tfjs.join("group1-shard1of1.bin"), [1u8; 1000]).unwrap();
    let notes = t.join("notes");
    fs::create_dir_all(&notes).unwrap();
    fs::write(notes.join("notes.txt"), "mine").unwrap();
    let a_file = w("a-file.txt", "mine");
    // Sizes no machine here has: refused before anything is allocated.
    let idx_bomb = t.join("idx-bomb");
    fs::create_dir_all(&idx_bomb).unwrap();
    for f in [
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ] {
        fs::copy(data("mnist-small").join(f), idx_bomb.join(f)).unwrap();
    }
    let mut bomb = vec![0, 0, 8, 3];
    for v in [5_000_000u32, 28, 28] {
        bomb.extend_from_slice(&v.to_be_bytes());
    }
    bomb.extend_from_slice(&[0u8; 4096]);
    fs::write(idx_bomb.join("train-images-idx3-ubyte.gz"), gzip(&bomb)).unwrap();
    let zero_npy = t.join("zero.npy");
    let zero_csv = t.join("zero.csv");
    #[cfg(unix)]
    for p in [&zero_npy, &zero_csv] {
        std::os::unix::fs::symlink("/dev/zero", p).unwrap();
    }
    let dup = w("duplicate-columns.csv", "a,b,a,label\n1,2,3,0\n4,5,6,1\n");
    let abc = w("abc.csv", "a,b,c\n1,2,3\n4,5,6\n7,8,9\n");
    let cba = w("cba.csv", "c,b,a\n3,2,1\n6,5,4\n9,8,7\n");
    let iforest_abc = fitted(
        "iforest",
        &abc,
        &t.join("iforest-abc"),
        &["--no-labels", "--set", "n_estimators=5"],
    );
    let out = |name: &str| t.join("out").join(name);
    let model = out("model");
    let csv = out("scores.csv");
    let res = out("results.jsonl");
    vec![
        Case {
            input: "NaN in a feature (CSV)",
            args: fit("iforest", &nan, &model, &[]),
            code: 1,
            needle: "non-finite value NaN at row 2, column 2",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "+inf in a feature (CSV)",
            args: fit("iforest", &inf, &model, &[]),
            code: 1,
            needle: "non-finite value inf at row 3, column 2",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "-inf in a feature (NPY)",
            args: fit("iforest", &ninf, &model, &[]),
            code: 1,
            needle: "non-finite value -inf at row 2, column 1",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "finite 1e308 in a feature (CSV; f32 cannot hold it)",
            args: fit("iforest", &huge, &model, &[]),
            code: 1,
            needle: "row 2, column `b`: 1e308 is out of f32 range",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "finite -1e308 in a feature (float64 NPY)",
            args: fit("iforest", &huge_npy, &model, &[]),
            code: 1,
            needle: "row 2, column 1: -1e308 is out of f32 range",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "two label values, equally common, neither a known anomaly token",
            args: fit("iforest", &tied, &model, &[]),
            code: 1,
            needle: "--anomaly-label",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "empty file (CSV)",
            args: fit("iforest", &empty, &model, &[]),
            code: 1,
            needle: "empty file",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "header but no rows (CSV)",
            args: fit("iforest", &header, &model, &[]),
            code: 1,
            needle: "no data rows",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "empty file (NPZ)",
            args: fit("iforest", &empty_npz, &model, &[]),
            code: 1,
            needle: "empty.npz",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "damaged Parquet data page (a fuzzer find: the decoder panics inside the parquet crate)",
            args: fit("iforest", &fuzz_parquet, &model, &[]),
            code: 1,
            needle: "damaged Parquet file",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "row with a missing field (CSV)",
            args: fit("iforest", &ragged, &model, &[]),
            code: 1,
            needle: "ragged.csv",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "text in a numeric column (CSV)",
            args: fit("iforest", &text, &model, &[]),
            code: 1,
            needle: "two",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "label column that does not exist",
            args: fit("iforest", &nan, &model, &["--label-col", "nope"]),
            code: 1,
            needle: "nope",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "single row, weakly supervised fit",
            args: fit("devnet", &one, &model, &[]),
            code: 1,
            needle: "needs at least one labelled anomaly",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "single row, evaluation",
            args: eval("iforest", &one, &res, &[]),
            code: 1,
            needle: "both normal and anomalous",
            out: res.clone(),
            memory: None,
        },
        Case {
            input: "labels outside {0,1}, evaluation",
            args: eval("iforest", &three_labels, &res, &[]),
            code: 1,
            needle: "needs anomaly labels",
            out: res.clone(),
            memory: None,
        },
        Case {
            input: "labels outside {0,1}, weakly supervised fit",
            args: fit("dplan", &three_labels, &model, &[]),
            code: 1,
            needle: "weakly supervised",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "tabular data for an image model",
            args: fit("ganomaly", &wbc, &model, &[]),
            code: 1,
            needle: "expected images [n, c, h, w]",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "PNG folder with images of different sizes",
            args: fit("iforest", &pngs, &model, &[]),
            code: 1,
            needle: "all images must agree",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "image folder mixing grayscale and colour images",
            args: fit("iforest", &mixed_channels, &model, &[]),
            code: 1,
            needle: "--channels",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "truncated gzip IDX file",
            args: fit("iforest", &idx, &model, &[]),
            code: 1,
            needle: "train-images-idx3-ubyte.gz",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "unknown anomaly class",
            args: eval("ganomaly", &data("mnist-small"), &res, &["--anomaly-class", "12"]),
            code: 2,
            needle: "12",
            out: res.clone(),
            memory: None,
        },
        Case {
            input: "feature count differs between fit and score",
            args: score(&iforest, &data("adbench/4_breastw.npz"), &csv),
            code: 1,
            needle: "expected [30]",
            out: csv.clone(),
            memory: None,
        },
        Case {
            input: "image size differs between fit and score (an explicit --resize)",
            args: [
                score(&iforest_img, &data("coil20-small"), &csv),
                vec!["--resize".into(), "64x64".into()],
            ]
            .concat(),
            code: 1,
            needle: "expected [1, 28, 28]",
            out: csv.clone(),
            memory: None,
        },
        Case {
            input: "model directory of another kind (model.json says devnet, holds iforest)",
            args: score(
                &edited_model(&iforest, &t.join("m-kind"), |j| j["kind"] = "devnet".into(), None),
                &wbc,
                &csv,
            ),
            code: 1,
            needle: "model",
            out: csv.clone(),
            memory: None,
        },
        Case {
            input: "model.json describing a huge network (nz = 10⁹) for small weights",
            args: score(
                &edited_model(
                    &ganomaly,
                    &t.join("m-huge"),
                    |j| j["config"]["nz"] = 1_000_000_000.into(),
                    None,
                ),
                &data("mnist-small"),
                &csv,
            ),
            code: 1,
            needle: "do not belong together",
            out: csv.clone(),
            memory: None,
        },
        Case {
            input: "model of a newer format version",
            args: score(
                &edited_model(&iforest, &t.join("m-newer"), |j| j["format_version"] = 99.into(), None),
                &wbc,
                &csv,
            ),
            code: 1,
            needle: "newer than this oddity supports",
            out: csv.clone(),
            memory: None,
        },
        Case {
            input: "truncated weights file",
            args: score(
                &edited_model(&iforest, &t.join("m-trunc"), |_| {}, Some(half)),
                &wbc,
                &csv,
            ),
            code: 1,
            needle: "checksum differs",
            out: csv.clone(),
            memory: None,
        },
        Case {
            input: "truncated weights file with a matching checksum",
            args: score(
                &edited_model(
                    &iforest,
                    &t.join("m-trunc-sum"),
                    |j| j["weights_sha256"] = sha256(half).into(),
                    Some(half),
                ),
                &wbc,
                &csv,
            ),
            code: 1,
            needle: "weights.safetensors",
            out: csv.clone(),
            memory: None,
        },
        Case {
            input: "model directory without model.json",
            args: score(&empty_dir, &wbc, &csv),
            code: 1,
            needle: "not a model directory",
            out: csv.clone(),
            memory: None,
        },
        Case {
            input: "a data file given as the model directory",
            args: score(&nan, &wbc, &csv),
            code: 1,
            needle: "is a file",
            out: csv.clone(),
            memory: None,
        },
        Case {
            input: "invalid hyperparameter",
            args: fit("iforest", &wbc, &model, &["--set", "n_estimators=0"]),
            code: 2,
            needle: "n_estimators",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`fit --out` a folder holding another tool's `model.json` (TensorFlow.js)",
            args: fit("iforest", &wbc, &tfjs, &[]),
            code: 1,
            needle: "not an oddity model file",
            out: tfjs.join("weights.safetensors"),
            memory: None,
        },
        Case {
            input: "`fit --out` a non-empty folder that is not a model directory",
            args: fit("iforest", &wbc, &notes, &[]),
            code: 1,
            needle: "not an oddity model directory",
            out: notes.join("model.json"),
            memory: None,
        },
        Case {
            input: "`fit --out` an existing regular file",
            args: fit("iforest", &wbc, &a_file, &[]),
            code: 1,
            needle: "exists and is not a directory",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`fit --out` below a regular file",
            args: fit("iforest", &wbc, &a_file.join("m"), &[]),
            code: 1,
            needle: "is a file, not a directory",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "bad `--out` is reported before the data is read (or training starts)",
            args: fit("ganomaly", &t.join("no-such-data"), &a_file, &[]),
            code: 1,
            needle: "a-file.txt",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`--out X --checkpoint X`",
            args: fit("dplan", &wbc, &model, &["--checkpoint", &s(&model)]),
            code: 2,
            needle: "overlap",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`--resume` pointed at a model directory",
            args: fit("dplan", &wbc, &model, &["--resume", &s(&iforest)]),
            code: 2,
            needle: "is a model directory",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`score --out` a directory",
            args: score(&iforest, &wbc, &empty_dir),
            code: 1,
            needle: "is a directory",
            out: csv.clone(),
            memory: None,
        },
        Case {
            input: "`eval --results` under /proc (cannot be created)",
            args: eval("iforest", &wbc, Path::new("/proc/oddity-results.jsonl"), &[]),
            code: 1,
            needle: "creates no files under /dev or /proc",
            out: res.clone(),
            memory: None,
        },
        Case {
            input: "`--set n_estimators=1000000000000`",
            args: fit("iforest", &wbc, &model, &["--set", "n_estimators=1000000000000"]),
            code: 2,
            needle: "`n_estimators` = 1000000000000",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`--set hidden=1000000000000` (DevNet)",
            args: fit(
                "devnet",
                &one_anomaly_csv(t),
                &model,
                &["--set", "hidden=1000000000000"],
            ),
            code: 2,
            needle: "`hidden`",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`--set batch_size=1000000000000000` (DevNet)",
            args: fit(
                "devnet",
                &one_anomaly_csv(t),
                &model,
                &["--set", "batch_size=1000000000000000"],
            ),
            code: 2,
            needle: "`batch_size`",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`--set hidden=[1000000000000]` (Deep SAD)",
            args: fit(
                "deep-sad",
                &one_anomaly_csv(t),
                &model,
                &["--set", "hidden=[1000000000000]"],
            ),
            code: 2,
            needle: "`hidden`",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`--set rep_dim=1000000000000` (Deep SAD)",
            args: fit(
                "deep-sad",
                &one_anomaly_csv(t),
                &model,
                &["--set", "rep_dim=1000000000000"],
            ),
            code: 2,
            needle: "`rep_dim`",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`--set embedding=1000000000000` (REPEN)",
            args: fit(
                "repen",
                &one_anomaly_csv(t),
                &model,
                &["--set", "embedding=1000000000000"],
            ),
            code: 2,
            needle: "`embedding`",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`--set ensemble_size=1000000000000` (REPEN)",
            args: fit(
                "repen",
                &one_anomaly_csv(t),
                &model,
                &["--set", "ensemble_size=1000000000000"],
            ),
            code: 2,
            needle: "`ensemble_size`",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`--set hidden=1000000000000` (DPLAN)",
            args: fit("dplan", &one_anomaly_csv(t), &model, &["--set", "hidden=1000000000000"]),
            code: 2,
            needle: "`hidden`",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`--set ngf=100000000` (GANomaly)",
            args: fit("ganomaly", &data("mnist-small"), &model, &["--set", "ngf=100000000"]),
            code: 2,
            needle: "`ngf`",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`--set embedding=1000000000000` (deep-cluster)",
            args: fit(
                "deep-cluster",
                &data("mnist-small"),
                &model,
                &["--set", "embedding=1000000000000"],
            ),
            code: 2,
            needle: "`embedding`",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`--resize 100000x100000`",
            args: fit("iforest", &data("coil20-small"), &model, &["--resize", "100000x100000"]),
            code: 2,
            needle: "--resize 100000x100000",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "ARFF nominal attribute declaring 2,000,000 values, 64 rows (one-hot: 8 MB a row; 100 MB budget)",
            args: fit("iforest", &wide_arff, &model, &[]),
            code: 1,
            needle: "rows of 2000000 features",
            out: model.clone(),
            memory: Some(100_000_000),
        },
        Case {
            input: "`--set sample_size=1000000000000` (DPLAN)",
            args: fit(
                "dplan",
                &one_anomaly_csv(t),
                &model,
                &["--set", "sample_size=1000000000000"],
            ),
            code: 2,
            needle: "`sample_size`",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "IDX `.gz` of 4 kB whose header claims 5,000,000 images",
            args: fit("iforest", &idx_bomb, &model, &[]),
            code: 1,
            needle: "5000000 images of 28x28",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`/dev/zero` given as `.npy`",
            args: fit("iforest", &zero_npy, &model, &[]),
            code: 1,
            needle: "not a data file",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`/dev/zero` given as `.csv`",
            args: fit("iforest", &zero_csv, &model, &[]),
            code: 1,
            needle: "not a data file",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "duplicate column names (CSV)",
            args: fit("iforest", &dup, &model, &[]),
            code: 1,
            needle: "appears twice",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "200,000 CSV columns, the last a duplicate name",
            args: fit("iforest", &wide_csv, &model, &[]),
            code: 1,
            needle: "column `c0` appears twice (features 1 and 200000)",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "ARFF header of 300,000 attributes, the last declared twice",
            args: fit("iforest", &many_attrs, &model, &[]),
            code: 1,
            needle: "attribute `a299999` is declared twice",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "columns in another order than at fit time",
            args: [score(&iforest_abc, &cba, &csv), vec!["--no-labels".into()]].concat(),
            code: 1,
            needle: "another order",
            out: csv.clone(),
            memory: None,
        },
        Case {
            input: "REPEN `subsample_size` not below the unlabelled sample count",
            args: fit("repen", &one_anomaly_csv(t), &model, &["--set", "subsample_size=1000"]),
            code: 2,
            needle: "subsample_size",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`bench --seeds 0`",
            args: [
                "bench",
                "weakly-supervised",
                "--data",
                &s(&wbc),
                "--seeds",
                "0",
                "--out",
                &s(&out("bench")),
            ]
            .map(String::from)
            .to_vec(),
            code: 2,
            needle: "seeds",
            out: out("bench"),
            memory: None,
        },
        Case {
            input: "`eval --seed 1 --seed 1`",
            args: eval("iforest", &wbc, &res, &["--seed", "1", "--seed", "1"]),
            code: 2,
            needle: "given twice",
            out: res.clone(),
            memory: None,
        },
        Case {
            input: "`--anomaly-label` on a `.npz` (labels are `y`; it was silently ignored)",
            args: fit(
                "iforest",
                &data("adbench/4_breastw.npz"),
                &model,
                &["--anomaly-label", "0"],
            ),
            code: 2,
            needle: "anomaly-label",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`--resize` on an IDX folder",
            args: fit("iforest", &data("mnist-small"), &model, &["--resize", "8x8"]),
            code: 2,
            needle: "resize",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`--set` value of the wrong type",
            args: fit("iforest", &wbc, &model, &["--set", "n_estimators=abc"]),
            code: 2,
            needle: "`n_estimators` = \"abc\": invalid type",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`--set` without `=`",
            args: fit("iforest", &wbc, &model, &["--set", "n_estimators"]),
            code: 2,
            needle: "key=value",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "missing required flags (clap's usage error, one line)",
            args: ["fit", "--model", "iforest"].map(String::from).to_vec(),
            code: 2,
            needle: "required arguments were not provided",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`bench --first-seed` that overflows",
            args: [
                "bench",
                "weakly-supervised",
                "--data",
                &s(&wbc),
                "--first-seed",
                "18446744073709551615",
                "--seeds",
                "2",
                "--out",
                &s(&out("bench")),
            ]
            .map(String::from)
            .to_vec(),
            code: 2,
            needle: "overflows",
            out: out("bench"),
            memory: None,
        },
        Case {
            input: "`bench --models iforest,iforest` (a model listed twice)",
            args: [
                "bench",
                "weakly-supervised",
                "--data",
                &s(&wbc),
                "--models",
                "iforest,iforest",
                "--out",
                &s(&out("bench")),
            ]
            .map(String::from)
            .to_vec(),
            code: 2,
            needle: "listed twice",
            out: out("bench"),
            memory: None,
        },
        Case {
            input: "`fit --out` where nothing can be created (/proc)",
            args: fit("iforest", &wbc, Path::new("/proc/oddity-model"), &[]),
            code: 1,
            needle: "/proc/oddity-model",
            out: model.clone(),
            memory: None,
        },
        Case {
            input: "`eval --report` an existing regular file (was `File exists (os error 17)`)",
            args: eval("iforest", &wbc, &res, &["--report", &s(&a_file)]),
            code: 1,
            needle: "a-file.txt",
            out: res.clone(),
            memory: None,
        },
        Case {
            input: "contamination out of range",
            args: fit("iforest", &wbc, &model, &["--set", "contamination=0.9"]),
            code: 2,
            needle: "contamination",
            out: model.clone(),
            memory: None,
        },
    ]
}

/// 40 rows of two features, one labelled anomaly (weakly supervised models fit it).
fn one_anomaly_csv(t: &Path) -> PathBuf {
    let p = t.join("one-anomaly.csv");
    let mut text = String::from("a,b,label\n");
    for i in 0..40 {
        text += &format!("{},{},{}\n", i % 7, i % 3, (i == 0) as u8);
    }
    fs::write(&p, text).unwrap();
    p
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// How a case ran: its output, its peak resident memory (bytes) and wall time.
struct Ran {
    output: std::process::Output,
    max_rss: u64,
    secs: f64,
}

/// Runs the binary under the memory budget `budget` and `ulimit -v` [`ULIMIT_V`], killing it
/// after [`TIMEOUT`] (a hang fails the case); the peak RSS comes from `wait4`.
#[cfg(unix)]
fn run(args: &[&str], budget: u64) -> Ran {
    use std::io::Read;
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oddity"));
    cmd.args(args)
        .env("ODDITY_MEMORY_LIMIT", budget.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: ULIMIT_V as libc::rlim_t,
                rlim_max: ULIMIT_V as libc::rlim_t,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
    let start = std::time::Instant::now();
    let mut child = cmd.spawn().expect("run oddity");
    let pid = child.id() as libc::pid_t;
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let mut timed_out = false;
    let (status, usage) = loop {
        let mut status = 0;
        // SAFETY: plain syscall on our own child; `usage` is written by the kernel.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let flags = if timed_out { 0 } else { libc::WNOHANG };
        let r = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
        if r == pid {
            break (status, usage);
        }
        assert!(r == 0, "wait4: {}", std::io::Error::last_os_error());
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            timed_out = true;
        } else {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    };
    let secs = start.elapsed().as_secs_f64();
    let output = std::process::Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    assert!(!timed_out, "{args:?} ran past {TIMEOUT:?} (killed)");
    Ran {
        output,
        max_rss: usage.ru_maxrss as u64 * 1024,
        secs,
    }
}

/// A 2×2 grayscale PNG.
fn image_2x2(path: &Path) {
    image::GrayImage::from_raw(2, 2, vec![0, 64, 128, 255])
        .unwrap()
        .save(path)
        .unwrap();
}

#[cfg(unix)]
#[test]
fn every_bad_input_fails_with_one_line_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    fs::create_dir_all(t.join("out")).unwrap();
    let mut table = String::from("| input | command | exit | message |\n|---|---|---|---|\n");
    let repo_data = data("").canonicalize().unwrap();
    let clean = |line: &str| {
        line.replace(&format!("{}/", t.display()), "")
            .replace(
                &format!("{}/", data("").display().to_string().trim_end_matches('/')),
                "data/",
            )
            .replace(&format!("{}/", repo_data.display()), "data/")
            .replace('|', "\\|")
    };
    let mut worst = (0, String::new());
    for case in cases(t) {
        let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
        let ran = run(&args, case.memory.unwrap_or(BUDGET));
        let line = assert_error(&ran.output, case.code, case.needle);
        assert!(!case.out.exists(), "{}: {} was written", case.input, case.out.display());
        assert!(
            ran.max_rss <= MAX_RSS,
            "{}: peak RSS {} MB (more than {} MB)",
            case.input,
            ran.max_rss >> 20,
            MAX_RSS >> 20
        );
        eprintln!("{:>5.2} s {:>5} MB  {}", ran.secs, ran.max_rss >> 20, case.input);
        worst = worst.max((ran.max_rss, case.input.to_string()));
        table += &format!(
            "| {} | `{}` | {} | {} |\n",
            case.input,
            args[0],
            case.code,
            clean(&line)
        );
    }
    eprintln!("largest peak RSS: {} MB ({})", worst.0 >> 20, worst.1);
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/bad-inputs.md");
    let expected = format!("{}{table}", DOC_HEAD);
    if std::env::var_os("ODDITY_UPDATE_DOCS").is_some() {
        fs::write(&doc, &expected).unwrap();
    }
    let committed = fs::read_to_string(&doc).unwrap_or_default();
    assert_eq!(
        committed, expected,
        "docs/bad-inputs.md is out of date: rerun with ODDITY_UPDATE_DOCS=1"
    );
}

const DOC_HEAD: &str = "# Bad inputs and what oddity says\n\n\
Generated and checked by `crates/oddity-cli/tests/bad_inputs.rs` (rewrite with\n\
`ODDITY_UPDATE_DOCS=1 cargo test --workspace --test bad_inputs`). Every row: the command exits\n\
with the code shown (1 = data or model file, 2 = usage or hyperparameter), prints exactly this one\n\
line on stderr, does not panic, and leaves nothing at its output path (`--out`, `--results`).\n\
Each runs under `ulimit -v` 4 GiB and a 4 GB memory budget (`ODDITY_MEMORY_LIMIT`; the ARFF row\n\
100 MB), is killed as a hang after 60 s, and must peak below 400 MB resident (`wait4`), so none\n\
can exit 101 (panic) or 134 (abort), hang, or use more memory than its data needs.\n\
Paths are shortened to the file name.\n\n\
Rows and columns in messages count from 1: row 1 is the first data row (after a CSV header or\n\
ARFF `@data`; the first sample of a binary file), column 1 the first feature; a CSV or Parquet\n\
column is named when the file names it. Error values in the library (`Error::NonFinite { row,\n\
col }`) are 0-based indices, and Python's messages give them as `X[row, col]`.\n\n";
