//! Model directories: `model.json` (format version, kind, config, threshold, score range, input
//! layout) plus `weights.safetensors` where a model has tensors.
//!
//! A directory is written into a temporary sibling and renamed into place, so a crash or an
//! error never leaves a half-written model at the output path. `model.json` records the
//! SHA-256 of the weights file; loading checks it, so a truncated or swapped weights file is an
//! error rather than silent garbage.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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

/// Writes `det` to the model directory `dir` (created, or replaced if it holds a model).
pub fn save<M: Model>(det: &Detector<M>, dir: &Path) -> Result<()> {
    let config = crate::json::to_value(&det.config).map_err(|e| Error::model_file(dir, format!("config: {e}")))?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    if dir.exists() && !dir.is_dir() {
        return Err(Error::model_file(dir, "exists and is not a directory"));
    }
    let staging = tempfile::Builder::new()
        .prefix(".oddity-model-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    let weights = staging.path().join(WEIGHTS_FILE);
    det.model.save_weights(&weights)?;
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
    let json_path = staging.path().join(MODEL_JSON);
    let mut f = fs::File::create(&json_path).map_err(|e| Error::io(&json_path, e))?;
    f.write_all(&json)
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io(&json_path, e))?;
    readable_by_others(&json_path, 0o644)?;
    let staged = staging.keep();
    readable_by_others(&staged, 0o755)?;
    crate::checkpoint::sync(&staged)?;
    replace_dir(staged, dir)?;
    crate::checkpoint::sync(&parent)
}

/// Temporary files and directories are private (0600 / 0700); a saved model should carry the
/// usual permissions (0644 / 0755) so other users and services can read it.
fn readable_by_others(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|e| Error::io(path, e))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Moves the finished staging directory to `dir`, replacing an existing model directory.
fn replace_dir(staged: PathBuf, dir: &Path) -> Result<()> {
    if dir.exists() {
        let is_model_dir = dir.join(MODEL_JSON).exists();
        let is_empty = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?.next().is_none();
        if !is_model_dir && !is_empty {
            let _ = fs::remove_dir_all(&staged);
            return Err(Error::model_file(
                dir,
                "exists and is not an oddity model directory; refusing to replace it",
            ));
        }
        let old = staged.with_extension("old");
        fs::rename(dir, &old).map_err(|e| Error::io(dir, e))?;
        fs::rename(&staged, dir).map_err(|e| Error::io(dir, e))?;
        let _ = fs::remove_dir_all(&old);
    } else {
        fs::rename(&staged, dir).map_err(|e| Error::io(dir, e))?;
    }
    Ok(())
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

/// Loads a model directory written by [`save`] for model type `M`.
pub fn load<M: Model>(dir: &Path) -> Result<Detector<M>> {
    let file = read_model_file(dir)?;
    load_from_file(dir, file)
}

/// Builds the detector from an already-read `model.json`.
pub fn load_from_file<M: Model>(dir: &Path, file: ModelFile) -> Result<Detector<M>> {
    if file.kind != M::KIND {
        return Err(Error::model_file(
            dir,
            format!("holds a `{}` model, not `{}`", file.kind, M::KIND),
        ));
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
    let model = M::load_weights(&config, &dir.join(WEIGHTS_FILE))?;
    Ok(Detector {
        model,
        config,
        common: file.common,
        summary: file.summary,
        train_scores: None,
    })
}

fn sha256_file(path: &Path) -> Result<String> {
    let mut f = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|e| Error::io(path, e))?;
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes `bytes` to `path` atomically (temporary file in the same directory, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(&parent).map_err(|e| Error::io(&parent, e))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::io(path, e))?;
    readable_by_others(tmp.path(), 0o644)?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
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
