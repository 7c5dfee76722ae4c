//! What each fuzz target feeds to oddity: the bytes become a file (or a model directory) in a scratch
//! folder and go through the same public entry point a user's file would. Shared, by `#[path]`, with
//! the regression test in `crates/oddity/tests/suite/fuzz_regressions.rs`, which replays every
//! committed crash input through these functions.
//!
//! A returned `Err` is the correct outcome for hostile bytes; a panic, abort or runaway allocation is
//! a bug. Nothing here may `unwrap` on what the input controls.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use oddity::data::{self, Dataset, Labels, LoadOptions};
use oddity::detector::FitContext;
use oddity::progress::Silent;
use oddity::registry::{self, Input, Settings};

/// The fuzz targets, by name (file `fuzz_targets/<name>.rs`, corpus `fuzz/corpus/<name>`).
pub const TARGETS: [&str; 13] = [
    "idx",
    "npy",
    "npz",
    "mat_v5",
    "mat_v73",
    "csv",
    "arff",
    "tar_xz",
    "parquet",
    "png",
    "model_json",
    "model_weights",
    "set",
];

/// Runs `target` on `input`; true when the input loaded (and, for model directories, scored).
/// Panics only for an unknown target name — or on a bug.
pub fn run(target: &str, input: &[u8]) -> bool {
    if target.starts_with("model_")
        && let Some(dir) = std::env::var_os("ODDITY_FUZZ_WRITE_SEEDS")
    {
        write_model_seeds(Path::new(&dir));
    }
    match target {
        "idx" => idx(input),
        "npy" => file("x.npy", input),
        "npz" => file("x.npz", input),
        "mat_v5" | "mat_v73" => file("x.mat", input),
        "csv" => file("x.csv", input),
        "arff" => file("x.arff", input),
        "tar_xz" => file("x.tar.xz", input),
        "parquet" => file("x.parquet", input),
        "png" => png(input),
        "model_json" => model_dir(input, Part::Json),
        "model_weights" => model_dir(input, Part::Weights),
        "set" => set(input),
        other => panic!("unknown fuzz target `{other}`"),
    }
}

/// A scratch folder private to this process (on `/dev/shm` when there is one: no disk writes).
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = Path::new("/dev/shm");
        let base = if base.is_dir() {
            base.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("oddity-fuzz-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("create the fuzz scratch folder");
        dir
    })
}

/// A fresh, empty sub-folder of the scratch folder, private to the calling thread (the
/// regression tests call the harness from parallel test threads).
fn fresh(name: &str) -> PathBuf {
    let thread = format!("{:?}", std::thread::current().id()).replace(|c: char| !c.is_ascii_alphanumeric(), "");
    let dir = scratch().join(format!("{name}-{thread}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create a scratch sub-folder");
    dir
}

/// Writes `input` as `name` and loads it the way `oddity info --data FILE` does.
fn file(name: &str, input: &[u8]) -> bool {
    let path = fresh("file").join(name);
    fs::write(&path, input).expect("write the fuzz input");
    data::load(&path, &LoadOptions::default())
        .map(|l| touch(&l.train))
        .is_ok()
}

/// A loaded dataset must be internally consistent: reading every value and label must not panic.
fn touch(d: &Dataset) {
    let _ = d.layout().describe();
    let n = d.n();
    assert_eq!(d.x().len(), n * d.dim(), "{}: values do not match the shape", d.name());
    if n > 0 {
        let _ = d.row(n - 1);
    }
    match d.labels() {
        Labels::None => {}
        Labels::Anomaly(f) => assert_eq!(f.len(), n, "anomaly flags do not match rows"),
        Labels::Classes { ids, names } => {
            assert_eq!(ids.len(), n, "class ids do not match rows");
            assert!(
                ids.iter().all(|&i| (i as usize) < names.len()),
                "class id without a name"
            );
        }
    }
}

/// Splits `input` in two: the first two bytes (little-endian, clamped) give the first part's length.
pub fn split2(input: &[u8]) -> (&[u8], &[u8]) {
    match input {
        [a, b, rest @ ..] => rest.split_at(usize::from(u16::from_le_bytes([*a, *b])).min(rest.len())),
        _ => (&[], &[]),
    }
}

/// An IDX directory: the input is split into a labels file (first part) and an images file; both
/// serve as train and test.
fn idx(input: &[u8]) -> bool {
    let (labels, images) = split2(input);
    let dir = fresh("idx");
    for split in ["train", "t10k"] {
        fs::write(dir.join(format!("{split}-images-idx3-ubyte")), images).expect("write images");
        fs::write(dir.join(format!("{split}-labels-idx1-ubyte")), labels).expect("write labels");
    }
    data::load(&dir, &LoadOptions::default())
        .map(|l| touch(&l.train))
        .is_ok()
}

/// A PNG folder holding one COIL-style image (the input) and one valid 2×2 image; loaded as is and
/// resized (the first byte picks the size), as `--resize` would. True if either load succeeds.
fn png(input: &[u8]) -> bool {
    let dir = fresh("png");
    fs::write(dir.join("obj1__0.png"), input).expect("write the image");
    fs::write(dir.join("obj2__0.png"), VALID_PNG).expect("write the image");
    let side = u32::from(input.first().copied().unwrap_or(0) % 40);
    let mut ok = false;
    for resize in [None, Some((side, side.max(1)))] {
        let opts = LoadOptions {
            resize,
            ..LoadOptions::default()
        };
        ok |= data::load(&dir, &opts).map(|l| touch(&l.train)).is_ok();
    }
    ok
}

/// A valid 2×2 grayscale PNG.
const VALID_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x00, 0x00, 0x00, 0x57, 0xdd, 0x52, 0xf8, 0x00, 0x00, 0x00, 0x0e, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x70, 0x60, 0x68, 0xf8, 0x0f, 0x00, 0x03, 0x05, 0x01, 0xc0, 0x4e, 0x33,
    0x5b, 0xe9, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// Which file of a model directory the input replaces.
#[derive(Clone, Copy)]
enum Part {
    Json,
    Weights,
}

/// One saved model of every registered kind, fitted once per process on tiny seeded data.
pub struct Template {
    pub kind: &'static str,
    pub json: Vec<u8>,
    pub weights: Vec<u8>,
    /// Data of the layout the model was fitted on, for scoring a loaded model.
    pub data: Dataset,
}

pub fn templates() -> &'static [Template] {
    static T: OnceLock<Vec<Template>> = OnceLock::new();
    T.get_or_init(|| {
        registry::models()
            .into_iter()
            .map(|entry| {
                let kind = entry.name;
                let data = tiny_data(entry.input);
                let settings = entry.quick_settings().expect("quick settings parse");
                let det = entry
                    .fit(&settings, &data, &FitContext::new(1, &Silent))
                    .unwrap_or_else(|e| panic!("fitting the {kind} template: {e}"));
                let dir = fresh(&format!("template-{kind}"));
                let model = dir.join("model");
                det.save(&model).expect("save the template");
                Template {
                    kind,
                    json: fs::read(model.join(oddity::persist::MODEL_JSON)).expect("read model.json"),
                    weights: fs::read(model.join(oddity::persist::WEIGHTS_FILE)).expect("read weights"),
                    data,
                }
            })
            .collect()
    })
}

/// Tiny seeded data of an input kind, for the models' quick settings.
pub fn tiny_data(input: Input) -> Dataset {
    match input {
        Input::Tabular => tabular(),
        Input::Images => images(),
    }
}

/// 64 rows × 4 features, every 8th row far out and flagged.
fn tabular() -> Dataset {
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in 0..64u32 {
        let out = i % 8 == 0;
        for j in 0..4u32 {
            let v = ((i * 7 + j * 13) % 17) as f32 / 17.0 - 0.5;
            x.push(if out { v + 5.0 } else { v });
        }
        y.push(out);
    }
    Dataset::tabular("tiny", 4, x, Labels::Anomaly(y)).expect("tiny tabular data")
}

/// 16 images 1×16×16 of two classes.
fn images() -> Dataset {
    let n = 16;
    let x: Vec<f32> = (0..n * 256).map(|k| ((k * 31 % 97) as f32) / 97.0).collect();
    let layout = data::Layout::Images { c: 1, h: 16, w: 16 };
    let ids = (0..n as u32).map(|i| i % 2).collect();
    Dataset::new(
        "tiny images",
        layout,
        x,
        Labels::Classes {
            ids,
            names: vec!["0".into(), "1".into()],
        },
    )
    .expect("tiny image data")
}

/// A model directory: the template of kind `input[0] % kinds` with one file replaced by the rest of
/// the input. A replaced weights file gets its checksum written into `model.json`, so the weights
/// parser is reached (the checksum itself is tested elsewhere). Loaded models must score.
fn model_dir(input: &[u8], part: Part) -> bool {
    let Some((&k, rest)) = input.split_first() else {
        return false;
    };
    let all = templates();
    let t = &all[usize::from(k) % all.len()];
    let dir = fresh("model");
    let json = match part {
        Part::Json => rest.to_vec(),
        Part::Weights => with_checksum(&t.json, rest),
    };
    let weights = match part {
        Part::Json => &t.weights[..],
        Part::Weights => rest,
    };
    fs::write(dir.join(oddity::persist::MODEL_JSON), json).expect("write model.json");
    fs::write(dir.join(oddity::persist::WEIGHTS_FILE), weights).expect("write weights");
    let Ok(det) = registry::load(&dir) else { return false };
    let Ok(scores) = det.score(&t.data) else { return false };
    assert_eq!(scores.len(), t.data.n(), "{}: one score per row", t.kind);
    true
}

/// Seeds for `model_json` / `model_weights`: one file per template, framed as the targets read it
/// (`<dir>/model_json/<kind>`, `<dir>/model_weights/<kind>`), and for `set` ([`set_seeds`],
/// `<dir>/set/<kind>`). Written once per process.
fn write_model_seeds(dir: &Path) {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let out = dir.join("set");
        fs::create_dir_all(&out).expect("create the seed folder");
        for (kind, bytes) in set_seeds() {
            fs::write(out.join(kind), bytes).expect("write a seed");
        }
        for (i, t) in templates().iter().enumerate() {
            for (sub, body) in [("model_json", &t.json), ("model_weights", &t.weights)] {
                let out = dir.join(sub);
                fs::create_dir_all(&out).expect("create the seed folder");
                let mut bytes = vec![i as u8];
                bytes.extend_from_slice(body);
                fs::write(out.join(t.kind), bytes).expect("write a seed");
            }
        }
    });
}

/// `json` with its `weights_sha256` replaced by the checksum of `weights`.
fn with_checksum(json: &[u8], weights: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let mut v: serde_json::Value = serde_json::from_slice(json).expect("template model.json");
    let sum: String = sha2::Sha256::digest(weights)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    v["weights_sha256"] = serde_json::Value::String(sum);
    serde_json::to_vec(&v).expect("serialise model.json")
}

/// Keys that set how long a fit runs (epochs, steps, trees, restarts) or how wide the image nets
/// are, with the largest value the `set` target lets through: a larger fuzzed value is lowered to
/// it, so every input is a fit of about a second. Sizes that drive memory are left alone (the
/// target runs under a memory budget, `ODDITY_MEMORY_LIMIT`).
const CAPS: [(&str, &[(&str, u64)]); 7] = [
    ("iforest", &[("n_estimators", 64)]),
    (
        "dplan",
        &[
            ("episodes", 2),
            ("steps_per_episode", 100),
            ("warmup_steps", 100),
            ("batch_size", 1024),
        ],
    ),
    (
        "devnet",
        &[("epochs", 2), ("batches_per_epoch", 4), ("batch_size", 1024)],
    ),
    ("deep-sad", &[("epochs", 2), ("ae_epochs", 2), ("batch_size", 1024)]),
    (
        "repen",
        &[
            ("epochs", 2),
            ("batches_per_epoch", 4),
            ("batch_size", 1024),
            ("ensemble_size", 8),
        ],
    ),
    (
        "ganomaly",
        &[
            ("epochs", 1),
            ("batch_size", 64),
            ("ngf", 64),
            ("ndf", 64),
            ("nz", 256),
            ("extralayers", 2),
        ],
    ),
    (
        "deep-cluster",
        &[
            ("pretrain_epochs", 1),
            ("maxiter", 4),
            ("n_init", 2),
            ("kmeans_max_iter", 20),
            ("batch_size", 64),
            ("embedding", 64),
        ],
    ),
];

/// `oddity fit --model M --set …` with fuzzed settings: the first byte picks the model (in
/// registry order), every further line is one `--set` argument as typed on the command line
/// (`key=value`, or anything else). They go after the model's quick settings (`ModelEntry::quick`) and are
/// checked the way `fit` checks them before reading data ([`Settings::parse`], `apply`); what
/// passes is fitted on the tiny data of the model's kind and scored. `pretrained` (a folder
/// deep-cluster reads or writes) is always reset to none, and the keys in [`CAPS`] lowered to
/// their cap. True when the fit and the scoring succeeded.
fn set(input: &[u8]) -> bool {
    let Some((&k, rest)) = input.split_first() else {
        return false;
    };
    let models = registry::models();
    let entry = &models[usize::from(k) % models.len()];
    let mut items: Vec<String> = entry.quick.iter().map(|s| s.to_string()).collect();
    items.extend(
        String::from_utf8_lossy(rest)
            .split('\n')
            .filter(|l| !l.is_empty())
            .map(str::to_string),
    );
    items.extend(caps(entry.name, &items));
    let Ok(settings) = Settings::parse(&items) else {
        return false;
    };
    if settings.apply(entry).is_err() {
        return false;
    }
    let data = tiny_data(entry.input);
    let Ok(det) = entry.fit(&settings, &data, &FitContext::new(1, &Silent)) else {
        return false;
    };
    let Ok(scores) = det.score(&data) else {
        return false;
    };
    assert_eq!(scores.len(), data.n(), "{}: one score per row", entry.name);
    assert!(
        scores.iter().all(|s| s.is_finite()),
        "{}: a non-finite score got through",
        entry.name
    );
    true
}

/// The settings appended after the fuzzed ones (a later `--set` of a key wins): each capped key
/// whose last value is a number above its cap, at the cap, and `pretrained` reset.
fn caps(kind: &str, items: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let last = |key: &str| {
        items.iter().rev().find_map(|i| {
            let (k, v) = i.split_once('=')?;
            (k.trim() == key).then(|| v.trim().to_string())
        })
    };
    let caps = CAPS.iter().find(|(k, _)| *k == kind).map_or(&[][..], |(_, c)| *c);
    for &(key, cap) in caps {
        let too_big = last(key)
            .and_then(|v| serde_json::from_str::<serde_json::Value>(&v).ok())
            .and_then(|v| v.as_f64())
            .is_some_and(|v| v > cap as f64);
        if too_big {
            out.push(format!("{key}={cap}"));
        }
    }
    if kind == "deep-cluster" {
        out.push("pretrained=\"\"".to_string());
    }
    out
}

/// Inputs of the `set` target with valid settings, one per registered model (the corpus seeds;
/// the regression test checks that each one fits).
pub fn set_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let lines = |kind: &str| match kind {
        "iforest" => "n_estimators=7\nmax_samples=16\nmax_features=0.5\nbootstrap=true",
        "ganomaly" => "nz=8\nextralayers=1\ncontamination=0.2",
        "dplan" => "hidden=8\nmemory_size=100\nclip_norm=null",
        "devnet" => "hidden=4\nmargin=3\nreference_samples=100\nkeep_best_epoch=false",
        "deep-sad" => "hidden=[8,4]\nrep_dim=2\neta=2",
        "repen" => "embedding=3\nensemble_size=2\nsubsample_size=4",
        "deep-cluster" => "n_clusters=3\nalpha=2",
        _ => "contamination=0.1",
    };
    registry::models()
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut bytes = vec![i as u8];
            bytes.extend_from_slice(lines(m.name).as_bytes());
            (m.name, bytes)
        })
        .collect()
}
