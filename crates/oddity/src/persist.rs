//! Model directories: `model.json` (format version, kind, config, threshold, score range, input
//! layout) plus `weights.safetensors` where a model has tensors.
//!
//! A new directory is written into a temporary sibling and renamed into place; an existing model
//! directory gets its two files renamed over the old ones (other files in it stay). A crash or an
//! error never leaves a half-written model that loads. `model.json` records the
//! SHA-256 of the weights file; loading checks it, so a truncated or swapped weights file is an
//! error rather than silent garbage.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backend::Device;
use crate::detector::{Common, Detector, FitSummary, Model};
use crate::error::{Error, Result};

/// Version of the model-directory format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Name of the metadata file in a model directory.
pub const MODEL_JSON: &str = "model.json";
/// Name of the tensor file in a model directory.
pub const WEIGHTS_FILE: &str = "weights.safetensors";

/// The contents of `model.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub format_version: u32,
    pub kind: String,
    /// Version of oddity that wrote the file (informational).
    pub oddity_version: String,
    pub config: serde_json::Value,
    pub common: Common,
    pub summary: FitSummary,
    /// SHA-256 (hex) of `weights.safetensors`.
    pub weights_sha256: String,
}

/// Writes `det` to the model directory `dir`: created when missing (written into a temporary
/// sibling and renamed into place), or updated in place when it is empty or an oddity model
/// directory (the new weights and `model.json` renamed over the old ones; other files in it are
/// kept). Anything else at `dir` is refused and left untouched (see [`check_out_dir`]).
pub fn save<M: Model>(det: &Detector<M>, dir: &Path) -> Result<()> {
    let dir = crate::output::resolve_links(dir)?;
    check_out_dir(&dir)?;
    if !dir.exists() {
        let parent = crate::output::parent_of(&dir);
        crate::output::create_dirs(&parent)?;
        let staging = crate::output::dir_builder(".oddity-model-")
            .tempdir_in(&parent)
            .map_err(|e| Error::io(&parent, e))?;
        write_model_files(det, staging.path(), &dir)?;
        crate::checkpoint::sync(staging.path())?;
        match fs::rename(staging.path(), &dir) {
            Ok(()) => {
                // Renamed away: nothing left for the guard to delete.
                let _ = staging.keep();
                return crate::checkpoint::sync(&parent);
            }
            // Another process created `dir` meanwhile: update it in place like any model directory.
            Err(_) if dir.is_dir() => {}
            Err(e) => return Err(Error::io(&dir, e)),
        }
    }
    update_in_place(det, &dir)
}

/// Replaces `model.json` and the weights of the existing directory `dir` (locked against a
/// concurrent writer), keeping every other file in it.
fn update_in_place<M: Model>(det: &Detector<M>, dir: &Path) -> Result<()> {
    let lock = fs::File::open(dir).map_err(|e| Error::io(dir, e))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            return Err(Error::output(
                dir,
                "another oddity process is writing this model directory; try again when it has finished",
            ));
        }
        Err(fs::TryLockError::Error(e)) => return Err(Error::io(dir, e)),
    }
    check_out_dir(dir)?;
    let staging = crate::output::dir_builder(".oddity-model-")
        .tempdir_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    write_model_files(det, staging.path(), dir)?;
    // Weights first: a crash between the two renames leaves a checksum mismatch that loading reports.
    for name in [WEIGHTS_FILE, MODEL_JSON] {
        fs::rename(staging.path().join(name), dir.join(name)).map_err(|e| Error::io(dir.join(name), e))?;
    }
    crate::checkpoint::sync(dir)
}

/// Writes `weights.safetensors` and `model.json` (fsynced) into `into`; `dir` names the model
/// directory in messages.
fn write_model_files<M: Model>(det: &Detector<M>, into: &Path, dir: &Path) -> Result<()> {
    let config = crate::json::to_value(&det.config).map_err(|e| Error::model_file(dir, format!("config: {e}")))?;
    let weights = into.join(WEIGHTS_FILE);
    det.model.save_weights(&weights)?;
    canonical_header(&weights)?;
    crate::checkpoint::sync(&weights)?;
    let weights_sha256 = sha256_file(&weights)?;
    let file = ModelFile {
        format_version: FORMAT_VERSION,
        kind: M::KIND.to_string(),
        oddity_version: env!("CARGO_PKG_VERSION").to_string(),
        config,
        common: det.common,
        summary: det.summary.clone(),
        weights_sha256,
    };
    let json = serde_json::to_vec_pretty(&file).map_err(|e| Error::model_file(dir, e.to_string()))?;
    let json_path = into.join(MODEL_JSON);
    let mut f = fs::File::create(&json_path).map_err(|e| Error::io(&json_path, e))?;
    f.write_all(&json)
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io(&json_path, e))
}

/// Checks, before fitting, that `dir` may receive a model: missing (its folder writable), an
/// empty folder, or an oddity model directory (its `model.json` has a `format_version` and a
/// `kind`). A file, or a folder holding anything else (another tool's `model.json`, say), is
/// refused: `fit` never deletes or overwrites what it did not write.
pub fn check_out_dir(dir: &Path) -> Result<()> {
    let real = crate::output::resolve_links(dir)?;
    crate::output::check_dir(&real).map_err(|e| match e {
        Error::Output { reason, .. } => Error::output(dir, reason),
        e => e,
    })?;
    if !real.is_dir() {
        return Ok(());
    }
    let mut entries = fs::read_dir(&real).map_err(|e| Error::io(dir, e))?;
    if entries.next().is_none() {
        return Ok(());
    }
    let json = real.join(MODEL_JSON);
    let bytes = match fs::read(&json) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::output(
                dir,
                "exists, is not empty and is not an oddity model directory (no model.json); \
                 refusing to write into it (choose a new or empty folder)",
            ));
        }
        Err(e) => return Err(Error::io(&json, e)),
    };
    // The fields every oddity model file has (whatever its kind), which other tools' do not.
    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Head {
        format_version: u64,
        kind: String,
        oddity_version: String,
        weights_sha256: String,
    }
    match serde_json::from_slice::<Head>(&bytes) {
        Ok(h) if h.format_version > 0 => Ok(()),
        _ => Err(Error::output(
            dir,
            "holds a model.json that is not an oddity model file (another tool's model?); \
             refusing to replace it (choose a new or empty folder)",
        )),
    }
}

/// Reads and checks `model.json` (format version) and the weights checksum.
pub fn read_model_file(dir: &Path) -> Result<ModelFile> {
    if !dir.is_dir() {
        let what = if dir.exists() { "is a file" } else { "does not exist" };
        return Err(Error::model_file(
            dir,
            format!("{what}; expected a model directory written by `oddity fit`"),
        ));
    }
    let json_path = dir.join(MODEL_JSON);
    let bytes = fs::read(&json_path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::model_file(dir, format!("no {MODEL_JSON}: not a model directory")),
        _ => Error::io(&json_path, e),
    })?;
    // Look at the version before the full schema, so a newer file says so instead of failing on a field.
    let raw: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::model_file(dir, format!("{MODEL_JSON} is not valid JSON: {e}")))?;
    let version = raw.get("format_version").and_then(|v| v.as_u64());
    match version {
        Some(v) if v == FORMAT_VERSION as u64 => {}
        Some(v) if v > FORMAT_VERSION as u64 => {
            return Err(Error::model_file(
                dir,
                format!("format version {v} is newer than this oddity supports ({FORMAT_VERSION}); upgrade oddity"),
            ));
        }
        Some(v) => return Err(Error::model_file(dir, format!("unsupported format version {v}"))),
        None => return Err(Error::model_file(dir, format!("{MODEL_JSON} has no format_version"))),
    }
    let file: ModelFile =
        serde_json::from_value(raw).map_err(|e| Error::model_file(dir, format!("{MODEL_JSON}: {e}")))?;
    let actual = sha256_file(&dir.join(WEIGHTS_FILE)).map_err(|e| match e {
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            Error::model_file(dir, format!("{WEIGHTS_FILE} is missing"))
        }
        e => e,
    })?;
    if actual != file.weights_sha256 {
        return Err(Error::model_file(
            dir,
            format!("{WEIGHTS_FILE} does not match {MODEL_JSON} (checksum differs: damaged or replaced)"),
        ));
    }
    Ok(file)
}

/// Config keys that older versions wrote into `model.json` and this one drops on load: `device`
/// (now a fit / load argument, [`crate::detector::FitContext::device`]).
const RETIRED_CONFIG_KEYS: &[&str] = &["device"];

/// Loads a model directory written by [`save`] for model type `M`, onto `device`.
pub fn load<M: Model>(dir: &Path, device: &Device) -> Result<Detector<M>> {
    let file = read_model_file(dir)?;
    load_from_file(dir, file, device)
}

/// Builds the detector from an already-read `model.json`, onto `device`.
pub fn load_from_file<M: Model>(dir: &Path, mut file: ModelFile, device: &Device) -> Result<Detector<M>> {
    if file.kind != M::KIND {
        return Err(Error::model_file(
            dir,
            format!("holds a `{}` model, not `{}`", file.kind, M::KIND),
        ));
    }
    if let serde_json::Value::Object(config) = &mut file.config {
        for key in RETIRED_CONFIG_KEYS {
            config.remove(*key);
        }
    }
    let config: M::Config = serde_json::from_value(file.config).map_err(|e| {
        Error::model_file(
            dir,
            format!(
                "{MODEL_JSON} says `{}` but its config is not a `{}` config: {e}",
                M::KIND,
                M::KIND
            ),
        )
    })?;
    crate::detector::ModelConfig::validate(&config).map_err(|e| Error::model_file(dir, e.to_string()))?;
    file.common
        .validate()
        .map_err(|e| Error::model_file(dir, e.to_string()))?;
    let model = M::load_weights(&config, &dir.join(WEIGHTS_FILE), device)?;
    Ok(Detector {
        model,
        config,
        common: file.common,
        summary: file.summary,
        train_scores: None,
    })
}

/// Rewrites a safetensors file's JSON header with every object's keys sorted. The safetensors
/// crate (directly and through burn) writes the metadata map in `HashMap` order, random per
/// process, so the same model gave different bytes and checksums. Same content, same offsets.
fn canonical_header(path: &Path) -> Result<()> {
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |why: &str| Error::model_file(path, format!("cannot rewrite the weights header: {why}"));
    let (len, rest) = bytes.split_first_chunk::<8>().ok_or_else(|| bad("no header"))?;
    let n = usize::try_from(u64::from_le_bytes(*len)).map_err(|_| bad("header length"))?;
    let (head, data) = rest.split_at_checked(n).ok_or_else(|| bad("truncated header"))?;
    let value: serde_json::Value = serde_json::from_slice(head).map_err(|e| bad(&e.to_string()))?;
    let mut text = String::with_capacity(n);
    canonical_json(&value, &mut text);
    // The data starts 8-byte aligned: safetensors pads the header with spaces.
    while !(8 + text.len()).is_multiple_of(8) {
        text.push(' ');
    }
    let mut out = Vec::with_capacity(8 + text.len() + data.len());
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(data);
    fs::write(path, out).map_err(|e| Error::io(path, e))
}

/// Compact JSON with object keys in sorted order.
fn canonical_json(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let mut entries: Vec<_> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical_json(v, out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn sha256_file(path: &Path) -> Result<String> {
    let mut f = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|e| Error::io(path, e))?;
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes `bytes` to `path` under oddity's output policy (see [`crate::output`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::output::write_file(path, bytes)
}

/// Checks, before a network is built from `model.json`'s config, that the config describes as many
/// values as the weights file holds: a damaged or hostile config (say `nz: 1000000000`) is then an
/// error instead of an attempt to allocate gigabytes. `implied` is the model's own count (`None`
/// when it overflows).
pub fn check_value_count(path: &Path, header: &safetensors::tensor::Metadata, implied: Option<u128>) -> Result<()> {
    let held: Option<u128> = header.tensors().values().try_fold(0u128, |acc, info| {
        let n = info.shape.iter().try_fold(1u128, |p, &d| p.checked_mul(d as u128))?;
        acc.checked_add(n)
    });
    match (implied, held) {
        (Some(a), Some(b)) if a == b => Ok(()),
        (implied, held) => Err(Error::format(
            path,
            format!(
                "holds {} values but model.json's config describes {}: the config and the weights do not belong together",
                held.map_or("too many".into(), |v| v.to_string()),
                implied.map_or("an impossibly large network".into(), |v| v.to_string())
            ),
        )),
    }
}
