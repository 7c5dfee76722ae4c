//! What produced a results file: version, git revision, command line, seeds, data checksums,
//! cores, wall time.

use std::io::Read;
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::results::{DataFile, RunInfo};

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

/// A Unix time as a UTC date and time: `2026-11-29 02:04:36 UTC`.
pub fn utc_date_time(unix: u64) -> String {
    let (y, m, d) = civil_from_days((unix / 86_400) as i64);
    let s = unix % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Year, month and day (proleptic Gregorian) of a day count since 1970-01-01; H. Hinnant's
/// `civil_from_days` (<https://howardhinnant.github.io/date_algorithms.html>).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of the 400-year era
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the year starting 1 March
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
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
    fn utc_date_time_matches_gnu_date() {
        // Reference values from `date -u -d @T '+%Y-%m-%d %H:%M:%S UTC'`.
        for (t, want) in [
            (0, "1970-01-01 00:00:00 UTC"),
            (951_782_400, "2000-02-29 00:00:00 UTC"),
            (1_709_251_199, "2024-02-29 23:59:59 UTC"),
            (1_795_917_876, "2026-11-29 02:04:36 UTC"),
            (4_102_444_799, "2099-12-31 23:59:59 UTC"),
            (253_402_300_799, "9999-12-31 23:59:59 UTC"),
        ] {
            assert_eq!(utc_date_time(t), want, "{t}");
        }
    }

    #[test]
    fn consecutive_days_walk_the_calendar() {
        let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let month_len = |y: i64, m: u32| match m {
            2 if leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let mut prev = civil_from_days(0);
        assert_eq!(prev, (1970, 1, 1));
        for day in 1..(800 * 366) {
            let (y, m, d) = civil_from_days(day);
            let (py, pm, pd) = prev;
            let want = if pd < month_len(py, pm) {
                (py, pm, pd + 1)
            } else if pm < 12 {
                (py, pm + 1, 1)
            } else {
                (py + 1, 1, 1)
            };
            assert_eq!((y, m, d), want, "day {day}");
            prev = (y, m, d);
        }
    }

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
