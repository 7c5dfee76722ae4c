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
}

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
            needle: "non-finite value NaN at row 1, column 1",
            out: model.clone(),
        },
        Case {
            input: "+inf in a feature (CSV)",
            args: fit("iforest", &inf, &model, &[]),
            code: 1,
            needle: "non-finite value inf at row 2, column 1",
            out: model.clone(),
        },
        Case {
            input: "-inf in a feature (NPY)",
            args: fit("iforest", &ninf, &model, &[]),
            code: 1,
            needle: "non-finite value -inf at row 1, column 0",
            out: model.clone(),
        },
        Case {
            input: "empty file (CSV)",
            args: fit("iforest", &empty, &model, &[]),
            code: 1,
            needle: "empty file",
            out: model.clone(),
        },
        Case {
            input: "header but no rows (CSV)",
            args: fit("iforest", &header, &model, &[]),
            code: 1,
            needle: "no data rows",
            out: model.clone(),
        },
        Case {
            input: "empty file (NPZ)",
            args: fit("iforest", &empty_npz, &model, &[]),
            code: 1,
            needle: "empty.npz",
            out: model.clone(),
        },
        Case {
            input: "damaged Parquet data page (a fuzzer find: the decoder panics inside the parquet crate)",
            args: fit("iforest", &fuzz_parquet, &model, &[]),
            code: 1,
            needle: "damaged Parquet file",
            out: model.clone(),
        },
        Case {
            input: "row with a missing field (CSV)",
            args: fit("iforest", &ragged, &model, &[]),
            code: 1,
            needle: "ragged.csv",
            out: model.clone(),
        },
        Case {
            input: "text in a numeric column (CSV)",
            args: fit("iforest", &text, &model, &[]),
            code: 1,
            needle: "two",
            out: model.clone(),
        },
        Case {
            input: "label column that does not exist",
            args: fit("iforest", &nan, &model, &["--label-col", "nope"]),
            code: 1,
            needle: "nope",
            out: model.clone(),
        },
        Case {
            input: "single row, weakly supervised fit",
            args: fit("devnet", &one, &model, &[]),
            code: 1,
            needle: "needs at least one labelled anomaly",
            out: model.clone(),
        },
        Case {
            input: "single row, evaluation",
            args: eval("iforest", &one, &res, &[]),
            code: 1,
            needle: "both normal and anomalous",
            out: res.clone(),
        },
        Case {
            input: "labels outside {0,1}, evaluation",
            args: eval("iforest", &three_labels, &res, &[]),
            code: 1,
            needle: "needs anomaly labels",
            out: res.clone(),
        },
        Case {
            input: "labels outside {0,1}, weakly supervised fit",
            args: fit("dplan", &three_labels, &model, &[]),
            code: 1,
            needle: "weakly supervised",
            out: model.clone(),
        },
        Case {
            input: "tabular data for an image model",
            args: fit("ganomaly", &wbc, &model, &[]),
            code: 1,
            needle: "needs images",
            out: model.clone(),
        },
        Case {
            input: "PNG folder with images of different sizes",
            args: fit("iforest", &pngs, &model, &[]),
            code: 1,
            needle: "all images must agree",
            out: model.clone(),
        },
        Case {
            input: "image folder mixing grayscale and colour images",
            args: fit("iforest", &mixed_channels, &model, &[]),
            code: 1,
            needle: "--channels",
            out: model.clone(),
        },
        Case {
            input: "truncated gzip IDX file",
            args: fit("iforest", &idx, &model, &[]),
            code: 1,
            needle: "train-images-idx3-ubyte.gz",
            out: model.clone(),
        },
        Case {
            input: "unknown anomaly class",
            args: eval("ganomaly", &data("mnist-small"), &res, &["--anomaly-class", "12"]),
            code: 2,
            needle: "12",
            out: res.clone(),
        },
        Case {
            input: "feature count differs between fit and score",
            args: score(&iforest, &data("adbench/4_breastw.npz"), &csv),
            code: 1,
            needle: "expects [30]",
            out: csv.clone(),
        },
        Case {
            input: "image size differs between fit and score (an explicit --resize)",
            args: [
                score(&iforest_img, &data("coil20-small"), &csv),
                vec!["--resize".into(), "64x64".into()],
            ]
            .concat(),
            code: 1,
            needle: "expects [1, 28, 28]",
            out: csv.clone(),
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
        },
        Case {
            input: "model directory without model.json",
            args: score(&empty_dir, &wbc, &csv),
            code: 1,
            needle: "not a model directory",
            out: csv.clone(),
        },
        Case {
            input: "a data file given as the model directory",
            args: score(&nan, &wbc, &csv),
            code: 1,
            needle: "is a file",
            out: csv.clone(),
        },
        Case {
            input: "invalid hyperparameter",
            args: fit("iforest", &wbc, &model, &["--set", "n_estimators=0"]),
            code: 2,
            needle: "n_estimators",
            out: model.clone(),
        },
        Case {
            input: "`fit --out` a folder holding another tool's `model.json` (TensorFlow.js)",
            args: fit("iforest", &wbc, &tfjs, &[]),
            code: 1,
            needle: "not an oddity model file",
            out: tfjs.join("weights.safetensors"),
        },
        Case {
            input: "`fit --out` a non-empty folder that is not a model directory",
            args: fit("iforest", &wbc, &notes, &[]),
            code: 1,
            needle: "not an oddity model directory",
            out: notes.join("model.json"),
        },
        Case {
            input: "`fit --out` an existing regular file",
            args: fit("iforest", &wbc, &a_file, &[]),
            code: 1,
            needle: "exists and is not a directory",
            out: model.clone(),
        },
        Case {
            input: "`fit --out` below a regular file",
            args: fit("iforest", &wbc, &a_file.join("m"), &[]),
            code: 1,
            needle: "is a file, not a directory",
            out: model.clone(),
        },
        Case {
            input: "bad `--out` is reported before the data is read (or training starts)",
            args: fit("ganomaly", &t.join("no-such-data"), &a_file, &[]),
            code: 1,
            needle: "a-file.txt",
            out: model.clone(),
        },
        Case {
            input: "`--out X --checkpoint X`",
            args: fit("dplan", &wbc, &model, &["--checkpoint", &s(&model)]),
            code: 2,
            needle: "overlap",
            out: model.clone(),
        },
        Case {
            input: "`--resume` pointed at a model directory",
            args: fit("dplan", &wbc, &model, &["--resume", &s(&iforest)]),
            code: 2,
            needle: "is a model directory",
            out: model.clone(),
        },
        Case {
            input: "`score --out` a directory",
            args: score(&iforest, &wbc, &empty_dir),
            code: 1,
            needle: "is a directory",
            out: csv.clone(),
        },
        Case {
            input: "`eval --results` under /proc (cannot be created)",
            args: eval("iforest", &wbc, Path::new("/proc/oddity-results.jsonl"), &[]),
            code: 1,
            needle: "creates no files under /dev or /proc",
            out: res.clone(),
        },
        Case {
            input: "`--set n_estimators=1000000000000`",
            args: fit("iforest", &wbc, &model, &["--set", "n_estimators=1000000000000"]),
            code: 2,
            needle: "`n_estimators` = 1000000000000",
            out: model.clone(),
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
        },
        Case {
            input: "`--set hidden=1000000000000` (DPLAN)",
            args: fit("dplan", &one_anomaly_csv(t), &model, &["--set", "hidden=1000000000000"]),
            code: 2,
            needle: "`hidden`",
            out: model.clone(),
        },
        Case {
            input: "`--set ngf=100000000` (GANomaly)",
            args: fit("ganomaly", &data("mnist-small"), &model, &["--set", "ngf=100000000"]),
            code: 2,
            needle: "`ngf`",
            out: model.clone(),
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
        },
        Case {
            input: "`--resize 100000x100000`",
            args: fit("iforest", &data("coil20-small"), &model, &["--resize", "100000x100000"]),
            code: 2,
            needle: "--resize 100000x100000",
            out: model.clone(),
        },
        Case {
            input: "IDX `.gz` of 4 kB whose header claims 5,000,000 images",
            args: fit("iforest", &idx_bomb, &model, &[]),
            code: 1,
            needle: "5000000 images of 28x28",
            out: model.clone(),
        },
        Case {
            input: "`/dev/zero` given as `.npy`",
            args: fit("iforest", &zero_npy, &model, &[]),
            code: 1,
            needle: "not a data file",
            out: model.clone(),
        },
        Case {
            input: "`/dev/zero` given as `.csv`",
            args: fit("iforest", &zero_csv, &model, &[]),
            code: 1,
            needle: "not a data file",
            out: model.clone(),
        },
        Case {
            input: "duplicate column names (CSV)",
            args: fit("iforest", &dup, &model, &[]),
            code: 1,
            needle: "appears twice",
            out: model.clone(),
        },
        Case {
            input: "columns in another order than at fit time",
            args: [score(&iforest_abc, &cba, &csv), vec!["--no-labels".into()]].concat(),
            code: 1,
            needle: "another order",
            out: csv.clone(),
        },
        Case {
            input: "REPEN `subsample_size` not below the unlabelled sample count",
            args: fit("repen", &one_anomaly_csv(t), &model, &["--set", "subsample_size=1000"]),
            code: 2,
            needle: "subsample_size",
            out: model.clone(),
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
        },
        Case {
            input: "`eval --seed 1 --seed 1`",
            args: eval("iforest", &wbc, &res, &["--seed", "1", "--seed", "1"]),
            code: 2,
            needle: "given twice",
            out: res.clone(),
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
        },
        Case {
            input: "`--resize` on an IDX folder",
            args: fit("iforest", &data("mnist-small"), &model, &["--resize", "8x8"]),
            code: 2,
            needle: "resize",
            out: model.clone(),
        },
        Case {
            input: "contamination out of range",
            args: fit("iforest", &wbc, &model, &["--set", "contamination=0.9"]),
            code: 2,
            needle: "contamination",
            out: model.clone(),
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

/// The matrix runs under a fixed memory budget (stable messages) and `ulimit -v` 8 GiB: a size
/// check that failed would show as an aborted allocation (exit 134), not a quiet success.
fn run(args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_oddity"));
    cmd.args(args).env("ODDITY_MEMORY_LIMIT", "4000000000");
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                let lim = libc::rlimit {
                    rlim_cur: 8 << 30,
                    rlim_max: 8 << 30,
                };
                libc::setrlimit(libc::RLIMIT_AS, &lim);
                Ok(())
            });
        }
    }
    cmd.output().expect("run oddity")
}

/// A 2×2 grayscale PNG.
fn image_2x2(path: &Path) {
    image::GrayImage::from_raw(2, 2, vec![0, 64, 128, 255])
        .unwrap()
        .save(path)
        .unwrap();
}

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
    for case in cases(t) {
        let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
        let o = run(&args);
        let line = assert_error(&o, case.code, case.needle);
        assert!(!case.out.exists(), "{}: {} was written", case.input, case.out.display());
        table += &format!(
            "| {} | `{}` | {} | {} |\n",
            case.input,
            args[0],
            case.code,
            clean(&line)
        );
    }
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
`ODDITY_UPDATE_DOCS=1 cargo test -p oddity-cli --test bad_inputs`). Every row: the command exits\n\
with the code shown (1 = data or model file, 2 = usage or hyperparameter), prints exactly this one\n\
line on stderr, does not panic, and leaves nothing at its output path (`--out`, `--results`).\n\
Paths are shortened to the file name.\n\n";
