//! What produced a results file: version, git revision, command line, seeds, data checksums,
//! cores, wall time.

use std::io::Read;
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::records::{DataFile, RunInfo};
use crate::error::{Error, Result};

/// The git revision oddity was built from, if it was built from a checkout.
pub const GIT_REVISION: Option<&str> = option_env!("ODDITY_GIT_REVISION");

/// Starts timing a run; [`RunClock::finish`] gives its [`RunInfo`].
pub struct RunClock {
    started: Instant,
    started_unix: u64,
}

impl RunClock {
    pub fn start() -> Self {
        RunClock {
            started: Instant::now(),
            started_unix: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        }
    }

    /// The run's provenance; `data` are checksummed now.
    pub fn finish(&self, command: Vec<String>, seeds: Vec<u64>, data: &[&Path]) -> Result<RunInfo> {
        Ok(RunInfo {
            oddity_version: env!("CARGO_PKG_VERSION").to_string(),
            git_revision: GIT_REVISION.map(str::to_string),
            command,
            seeds,
            data: data.iter().map(|p| checksum(p)).collect::<Result<_>>()?,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            started_unix: self.started_unix,
            wall_seconds: self.started.elapsed().as_secs_f64(),
        })
    }
}

/// SHA-256 and size of a file, or of a directory's files (sorted relative paths and contents).
pub fn checksum(path: &Path) -> Result<DataFile> {
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        let mut files = Vec::new();
        collect_files(path, path, &mut files)?;
        files.sort();
        for rel in files {
            hasher.update(rel.as_bytes());
            hasher.update([0u8]);
            bytes += hash_file(&path.join(&rel), &mut hasher)?;
        }
    } else {
        bytes = hash_file(path, &mut hasher)?;
    }
    Ok(DataFile {
        path: path.display().to_string(),
        bytes,
        sha256: format!("{:x}", hasher.finalize()),
    })
}

fn hash_file(path: &Path, hasher: &mut Sha256) -> Result<u64> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok(total);
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        if path.is_dir() {
            collect_files(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_checksum_matches_sha256_of_abc() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("abc.txt");
        std::fs::write(&p, "abc").unwrap();
        let d = checksum(&p).unwrap();
        assert_eq!(d.bytes, 3);
        assert_eq!(
            d.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn directory_checksum_changes_with_any_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("a"), "1").unwrap();
        std::fs::write(dir.path().join("sub/b"), "2").unwrap();
        let before = checksum(dir.path()).unwrap();
        assert_eq!(before.bytes, 2);
        std::fs::write(dir.path().join("sub/b"), "3").unwrap();
        assert_ne!(checksum(dir.path()).unwrap().sha256, before.sha256);
        assert!(checksum(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn run_info_has_the_machine_and_version() {
        let info = RunClock::start()
            .finish(vec!["oddity".into()], vec![0, 1], &[])
            .unwrap();
        assert!(info.cores >= 1);
        assert_eq!(info.oddity_version, env!("CARGO_PKG_VERSION"));
        assert_eq!(info.seeds, vec![0, 1]);
    }
}
