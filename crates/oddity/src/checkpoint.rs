//! Crash-safe training: a checkpoint folder that a training loop rewrites after every epoch (or
//! every N steps), and reads back to resume after a crash or a kill.
//!
//! Layout: `DIR/current/` holds `state.json` (format version, model kind, a fingerprint of
//! everything that must not change between the interrupted run and its resumption, the step count,
//! the loop's own state) plus the model's tensor files. A new checkpoint is written complete into
//! `DIR/.staging/`, fsynced, then swapped in by two renames (`current` → `.previous`,
//! `.staging` → `current`); a crash between the two leaves `.previous`, which resuming falls back
//! to. So a checkpoint on disk is always a whole one.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};

use crate::data::Dataset;
use crate::error::{Error, Result};

/// Version of the checkpoint format this build writes and reads.
pub const CHECKPOINT_VERSION: u32 = 1;
const STATE_JSON: &str = "state.json";
const CURRENT: &str = "current";
const STAGING: &str = ".staging";
const PREVIOUS: &str = ".previous";

/// Where to checkpoint, and whether to continue from what is there.
#[derive(Debug, Clone)]
pub struct Checkpointing {
    pub dir: PathBuf,
    /// Continue from the checkpoint in `dir` (if there is one); otherwise start afresh and
    /// replace whatever is there.
    pub resume: bool,
}

#[derive(Serialize, Deserialize)]
struct Header<S> {
    format_version: u32,
    kind: String,
    fingerprint: String,
    /// Completed epochs (or steps, for step-based loops).
    step: u64,
    state: S,
}

/// A checkpoint read back for resuming: the completed step count, the loop's state and the folder
/// holding the tensor files.
pub struct Resumed<S> {
    pub step: u64,
    pub state: S,
    pub dir: PathBuf,
}

/// Writes and reads one training run's checkpoints.
pub struct Checkpointer {
    cfg: Checkpointing,
    kind: &'static str,
    fingerprint: String,
}

impl Checkpointer {
    /// `fingerprint` should come from [`fingerprint`]: what a resumed run must share with the
    /// interrupted one.
    pub fn new(cfg: &Checkpointing, kind: &'static str, fingerprint: String) -> Self {
        Checkpointer {
            cfg: cfg.clone(),
            kind,
            fingerprint,
        }
    }

    /// The checkpoint folder.
    pub fn dir(&self) -> &Path {
        &self.cfg.dir
    }

    /// The saved state when resuming and a checkpoint exists; `None` when starting afresh.
    /// A checkpoint of another model, format version, data, seed or architecture is an error.
    pub fn resume<S: DeserializeOwned>(&self) -> Result<Option<Resumed<S>>> {
        if !self.cfg.resume {
            return Ok(None);
        }
        let dir = [CURRENT, PREVIOUS]
            .iter()
            .map(|d| self.cfg.dir.join(d))
            .find(|d| d.join(STATE_JSON).is_file());
        let Some(dir) = dir else {
            return Ok(None);
        };
        let path = dir.join(STATE_JSON);
        let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let raw: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| Error::format(&path, format!("not valid JSON: {e}")))?;
        match raw.get("format_version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(CHECKPOINT_VERSION) => {}
            Some(v) => {
                return Err(Error::format(
                    &path,
                    format!("checkpoint format version {v}; this oddity reads version {CHECKPOINT_VERSION}"),
                ));
            }
            None => return Err(Error::format(&path, "no format_version: not an oddity checkpoint")),
        }
        let header: Header<S> =
            serde_json::from_value(raw).map_err(|e| Error::format(&path, format!("checkpoint state: {e}")))?;
        if header.kind != self.kind {
            return Err(Error::format(
                &path,
                format!("checkpoint of a `{}` model, not `{}`", header.kind, self.kind),
            ));
        }
        if header.fingerprint != self.fingerprint {
            return Err(Error::format(
                &path,
                "checkpoint of a different run (data, seed or architecture differ); \
                 only the number of epochs/steps and the learning rate may change when resuming",
            ));
        }
        Ok(Some(Resumed {
            step: header.step,
            state: header.state,
            dir,
        }))
    }

    /// Writes a checkpoint after `step` completed epochs/steps: `write_files` puts the tensor files
    /// into the folder it is given; `state` goes to `state.json`. Replaces the previous checkpoint
    /// only once the new one is complete on disk.
    pub fn save<S: Serialize>(
        &self,
        step: u64,
        state: &S,
        write_files: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<()> {
        let root = &self.cfg.dir;
        fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
        let staging = root.join(STAGING);
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
        write_files(&staging)?;
        let header = Header {
            format_version: CHECKPOINT_VERSION,
            kind: self.kind.to_string(),
            fingerprint: self.fingerprint.clone(),
            step,
            state,
        };
        let json = serde_json::to_vec(&header).map_err(|e| Error::format(&staging, e.to_string()))?;
        let state_path = staging.join(STATE_JSON);
        fs::write(&state_path, json).map_err(|e| Error::io(&state_path, e))?;
        for entry in fs::read_dir(&staging).map_err(|e| Error::io(&staging, e))? {
            let path = entry.map_err(|e| Error::io(&staging, e))?.path();
            sync(&path)?;
        }
        sync(&staging)?;
        let (current, previous) = (root.join(CURRENT), root.join(PREVIOUS));
        if previous.exists() {
            fs::remove_dir_all(&previous).map_err(|e| Error::io(&previous, e))?;
        }
        if current.exists() {
            fs::rename(&current, &previous).map_err(|e| Error::io(&current, e))?;
        }
        fs::rename(&staging, &current).map_err(|e| Error::io(&current, e))?;
        sync(root)?;
        let _ = fs::remove_dir_all(&previous);
        Ok(())
    }
}

/// Flushes a file or directory to disk.
fn sync(path: &Path) -> Result<()> {
    fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(path, e))
}

/// SHA-256 (hex) over the model kind, the seed, the given config (as JSON, minus the fields a
/// resumed run may change) and the training data's shape and values.
pub fn fingerprint(kind: &str, seed: u64, config: &impl Serialize, may_change: &[&str], data: &Dataset) -> String {
    let mut config = serde_json::to_value(config).unwrap_or_default();
    if let Some(obj) = config.as_object_mut() {
        for key in may_change {
            obj.remove(*key);
        }
    }
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    h.update(seed.to_le_bytes());
    h.update(config.to_string().as_bytes());
    h.update(format!("{:?}", data.layout()).as_bytes());
    h.update((data.n() as u64).to_le_bytes());
    let mut buf = Vec::with_capacity(4 * 4096);
    for chunk in data.x().chunks(4096) {
        buf.clear();
        buf.extend(chunk.iter().flat_map(|v| v.to_le_bytes()));
        h.update(&buf);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
