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

use burn::module::Module;
use burn::optim::{ModuleOptimizer, OptimizerRecord};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};

use crate::data::Dataset;
use crate::error::{Error, Result};

/// Version of the checkpoint format this build writes and reads.
pub const CHECKPOINT_VERSION: u32 = 1;
/// The state file in a checkpoint folder.
pub const STATE_JSON: &str = "state.json";
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
    /// A checkpoint of another model, format version, data, seed or architecture is an error, and
    /// so is one further along than the `planned` epochs/steps of this run (`what`: the setting
    /// that plans them), which would otherwise be written out under the smaller count.
    pub fn resume<S: DeserializeOwned>(&self, planned: u64, what: &str) -> Result<Option<Resumed<S>>> {
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
        // The kind before the state: another model's state fails on its fields otherwise.
        let kind = raw.get("kind").and_then(|k| k.as_str()).unwrap_or("unknown");
        if kind != self.kind {
            return Err(Error::format(
                &path,
                format!("checkpoint of a `{kind}` model, not `{}`", self.kind),
            ));
        }
        let header: Header<S> =
            serde_json::from_value(raw).map_err(|e| Error::format(&path, format!("checkpoint state: {e}")))?;
        if header.fingerprint != self.fingerprint {
            return Err(Error::format(
                &path,
                "checkpoint of a different run (data, seed or architecture differ); \
                 only the number of epochs/steps and the learning rate may change when resuming",
            ));
        }
        if header.step > planned {
            return Err(Error::config(
                what,
                format!(
                    "asks for {planned} but the checkpoint in {} has {} done; resuming can keep or extend \
                     the schedule, not shorten it",
                    self.cfg.dir.display(),
                    header.step
                ),
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

/// The tail of a divergence error: where the last good checkpoint is (`unit` `saved`, e.g. epoch 3)
/// when training checkpoints and has saved one, else a hint to lower the learning rate `lr`.
pub fn kept_note(ckpt: Option<&Checkpointer>, unit: &str, saved: usize, lr: &str) -> String {
    match ckpt {
        Some(c) if saved > 0 => format!(
            "; the checkpoint of {unit} {saved} is kept in {} (resume from it with a smaller {lr}: --resume)",
            c.dir().display()
        ),
        _ => format!(" (try a smaller {lr})"),
    }
}

/// The position of a seeded ChaCha8 stream, for a loop state (decimal: JSON has no u128).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamPosition(String);

impl StreamPosition {
    pub fn of(rng: &ChaCha8Rng) -> Self {
        StreamPosition(rng.get_word_pos().to_string())
    }

    /// Moves `rng` (seeded as when the position was taken) back to the position.
    pub fn restore(&self, rng: &mut ChaCha8Rng, state_file: &Path) -> Result<()> {
        let pos = self.0.parse::<u128>().map_err(|e| file_error(state_file, e))?;
        rng.set_word_pos(pos);
        Ok(())
    }
}

/// A saved sample order, checked against the number of samples of the resumed run.
pub fn sample_order(order: Vec<usize>, n: usize, state_file: &Path) -> Result<Vec<usize>> {
    if order.len() != n || order.iter().any(|&i| i >= n) {
        return Err(file_error(state_file, "sample order of another dataset"));
    }
    Ok(order)
}

/// A damaged or foreign checkpoint file.
pub fn file_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::format(path, format!("checkpoint file: {e}"))
}

/// Writes a burn module (weights and batch-norm statistics, with their parameter ids).
pub fn save_module<M: Module>(module: &M, path: &Path) -> Result<()> {
    module.clone().save_file(path).map_err(|e| file_error(path, e))
}

/// Loads what [`save_module`] wrote into `module` (built with the same architecture).
pub fn load_module<M: Module>(module: M, path: &Path) -> Result<M> {
    module.try_load_file(path).map_err(|e| file_error(path, e))
}

/// Writes a burn optimiser's state (moments and step counts, keyed by parameter id).
pub fn save_optimizer(opt: &ModuleOptimizer, path: &Path) -> Result<()> {
    opt.to_record().save(path).map_err(|e| file_error(path, e))
}

/// Loads what [`save_optimizer`] wrote into `opt`.
pub fn load_optimizer(opt: ModuleOptimizer, path: &Path) -> Result<ModuleOptimizer> {
    Ok(opt.load_record(OptimizerRecord::load(path).map_err(|e| file_error(path, e))?))
}

/// Flushes a file or directory to disk (directories: Unix only; elsewhere they cannot be opened).
pub(crate) fn sync(path: &Path) -> Result<()> {
    if !cfg!(unix) && path.is_dir() {
        return Ok(());
    }
    fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(path, e))
}

/// SHA-256 (hex) over the model kind, the seed, the given config (as JSON, minus the fields a
/// resumed run may change) and the training data's shape and values.
pub fn fingerprint(kind: &str, seed: u64, config: &impl Serialize, may_change: &[&str], data: &Dataset) -> String {
    // Plain serde_json (widened f32s), not crate::json: existing checkpoints keep their fingerprint.
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

/// Magic bytes of [`write_f32s`] files.
const F32S_MAGIC: &[u8; 8] = b"ODDF32v1";

/// Writes float vectors to one little-endian binary file (exact: no decimal round trip):
/// magic, vector count (u64), then each vector's length (u64) and values.
pub fn write_f32s(path: &Path, vecs: &[&[f32]]) -> Result<()> {
    let total: usize = vecs.iter().map(|v| 8 + 4 * v.len()).sum();
    let mut bytes = Vec::with_capacity(16 + total);
    bytes.extend_from_slice(F32S_MAGIC);
    bytes.extend_from_slice(&(vecs.len() as u64).to_le_bytes());
    for v in vecs {
        bytes.extend_from_slice(&(v.len() as u64).to_le_bytes());
        bytes.extend(v.iter().flat_map(|x| x.to_le_bytes()));
    }
    fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

/// Reads a file written by [`write_f32s`]; a damaged or truncated file is an error.
pub fn read_f32s(path: &Path) -> Result<Vec<Vec<f32>>> {
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = || Error::format(path, "damaged checkpoint file (bad header or truncated)");
    let mut rest = bytes.strip_prefix(F32S_MAGIC.as_slice()).ok_or_else(bad)?;
    let take_u64 = |rest: &mut &[u8]| -> Result<usize> {
        let (head, tail) = rest.split_first_chunk::<8>().ok_or_else(bad)?;
        *rest = tail;
        usize::try_from(u64::from_le_bytes(*head)).map_err(|_| bad())
    };
    let count = take_u64(&mut rest)?;
    let mut out = Vec::new();
    for _ in 0..count {
        let len = take_u64(&mut rest)?;
        let n = len.checked_mul(4).filter(|&n| n <= rest.len()).ok_or_else(bad)?;
        let (data, tail) = rest.split_at(n);
        out.push(
            data.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        );
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_files_round_trip_exactly_and_reject_damage() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.bin");
        let a = [1.0f32, f32::MIN_POSITIVE, -0.0, 1e-45, 3.402_823_5e38];
        let b: [f32; 0] = [];
        write_f32s(&p, &[&a, &b]).unwrap();
        let back = read_f32s(&p).unwrap();
        assert_eq!(back.len(), 2);
        assert!(back[0].iter().zip(&a).all(|(x, y)| x.to_bits() == y.to_bits()));
        assert!(back[1].is_empty());
        let bytes = fs::read(&p).unwrap();
        for cut in [0, 7, 15, bytes.len() - 1] {
            fs::write(&p, &bytes[..cut]).unwrap();
            assert!(read_f32s(&p).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn a_checkpoint_of_another_run_or_kind_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Checkpointing {
            dir: dir.path().join("ck"),
            resume: true,
        };
        let a = Checkpointer::new(&cfg, "dplan", "aaa".into());
        assert!(
            a.resume::<u32>(u64::MAX, "epochs").unwrap().is_none(),
            "nothing to resume yet"
        );
        a.save(3, &7u32, |_| Ok(())).unwrap();
        let back = a.resume::<u32>(u64::MAX, "epochs").unwrap().unwrap();
        assert_eq!((back.step, back.state), (3, 7));
        let e = Checkpointer::new(&cfg, "dplan", "bbb".into())
            .resume::<u32>(u64::MAX, "epochs")
            .err()
            .unwrap();
        assert!(e.to_string().contains("different run"), "{e}");
        let e = Checkpointer::new(&cfg, "ganomaly", "aaa".into())
            .resume::<u32>(u64::MAX, "epochs")
            .err()
            .unwrap();
        assert!(e.to_string().contains("not `ganomaly`"), "{e}");
        // Another kind's state (other fields) names the kind, not a missing field.
        let e = Checkpointer::new(&cfg, "ganomaly", "aaa".into())
            .resume::<(String, String)>(u64::MAX, "epochs")
            .err()
            .unwrap();
        assert!(e.to_string().contains("checkpoint of a `dplan` model"), "{e}");
        // A shorter schedule than the checkpoint's would mislabel the model.
        let e = a.resume::<u32>(2, "epochs").err().unwrap();
        assert!(e.is_usage() && e.to_string().contains("has 3 done"), "{e}");
        assert!(a.resume::<u32>(3, "epochs").unwrap().is_some());
        // Not resuming: the old checkpoint is ignored and replaced.
        let fresh = Checkpointing {
            resume: false,
            ..cfg.clone()
        };
        assert!(
            Checkpointer::new(&fresh, "dplan", "bbb".into())
                .resume::<u32>(u64::MAX, "epochs")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_crash_between_the_two_renames_falls_back_to_the_previous_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Checkpointing {
            dir: dir.path().join("ck"),
            resume: true,
        };
        let c = Checkpointer::new(&cfg, "dplan", "f".into());
        c.save(1, &1u32, |_| Ok(())).unwrap();
        fs::rename(cfg.dir.join(CURRENT), cfg.dir.join(PREVIOUS)).unwrap();
        assert_eq!(c.resume::<u32>(u64::MAX, "epochs").unwrap().unwrap().step, 1);
        // A failing writer leaves the last complete checkpoint in place.
        c.save(2, &2u32, |_| Ok(())).unwrap();
        let e = c.save(3, &3u32, |_| Err(Error::InvalidData("disk full".into())));
        assert!(e.is_err());
        assert_eq!(c.resume::<u32>(u64::MAX, "epochs").unwrap().unwrap().step, 2);
    }
}
