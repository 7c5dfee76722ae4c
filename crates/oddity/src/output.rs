//! One policy for every path oddity writes (score files, reports, results, model and checkpoint
//! folders), checked before any work starts and applied when writing:
//!
//! - a **regular file** (or a new path) is written atomically: a temporary sibling, fsynced, renamed
//!   over the path; an existing file keeps its permissions, a new one gets `0666` less the umask;
//! - a **special file** (device node, FIFO, socket) and anything under `/dev` or `/proc`
//!   (`/dev/stdout`, `/dev/fd/N`) is opened and written in place, never replaced;
//! - a **symbolic link** is followed: the file it points to is written (atomically when it is a
//!   regular file), the link itself stays;
//! - a **directory** where a file is expected, or a file where a folder is expected, is an error.
//!
//! Folders oddity creates get `0777` less the umask.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// How a file path is written.
enum Target {
    /// Opened and written in place (devices, FIFOs, `/dev/stdout`).
    InPlace(PathBuf),
    /// Written to a temporary sibling and renamed over this path (symbolic links resolved).
    Atomic(PathBuf),
}

/// `/dev/…` and `/proc/…` (`/dev/stdout` → `/proc/self/fd/1` → a pipe or terminal): never replaced.
fn is_system_path(path: &Path) -> bool {
    cfg!(unix) && (path.starts_with("/dev") || path.starts_with("/proc"))
}

/// Follows symbolic links of the last component (also dangling ones) to the path they name.
pub fn resolve_links(path: &Path) -> Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let t = fs::read_link(&p).map_err(|e| Error::io(&p, e))?;
                p = if t.is_absolute() { t } else { parent_of(&p).join(t) };
            }
            _ => return Ok(p),
        }
    }
    Err(Error::output(path, "too many levels of symbolic links"))
}

/// The folder holding `path` (`.` for a bare file name).
pub fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn target(path: &Path) -> Result<Target> {
    if is_system_path(path) {
        return Ok(Target::InPlace(path.to_path_buf()));
    }
    let real = resolve_links(path)?;
    if is_system_path(&real) {
        return Ok(Target::InPlace(real));
    }
    match fs::metadata(&real) {
        Ok(m) if m.is_dir() => Err(Error::output(path, "is a directory; expected a file name")),
        Ok(m) if m.is_file() => Ok(Target::Atomic(real)),
        Ok(_) => Ok(Target::InPlace(real)),
        Err(e) if missing(&e) => Ok(Target::Atomic(real)),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Not there, or below a file (`file.txt/out.csv`): the caller walks up to say which.
fn missing(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

/// Checks, before any work, that `path` can be written as a file under the policy above: not a
/// directory, and its folder exists (or can be created) and is writable.
pub fn check_file(path: &Path) -> Result<()> {
    match target(path)? {
        Target::InPlace(p) if is_system_path(&p) && fs::metadata(&p).is_err() => Err(Error::output(
            path,
            "does not exist (oddity creates no files under /dev or /proc)",
        )),
        Target::InPlace(_) => Ok(()),
        Target::Atomic(real) => check_folder(&parent_of(&real), path),
    }
}

/// Checks, before any work, that `dir` can be an output folder: not a file, and it (or the
/// folder it would be created in) is writable.
pub fn check_dir(dir: &Path) -> Result<()> {
    let real = resolve_links(dir)?;
    match fs::metadata(&real) {
        Ok(m) if !m.is_dir() => Err(Error::output(
            dir,
            "exists and is not a directory; expected a folder to write into",
        )),
        _ => check_folder(&real, dir),
    }
}

/// `folder` (or its nearest existing ancestor, where the rest would be created) must be a
/// writable directory; `shown` is the path the user gave, for the message.
fn check_folder(folder: &Path, shown: &Path) -> Result<()> {
    let mut p = folder.to_path_buf();
    loop {
        match fs::metadata(&p) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => {
                return Err(Error::output(
                    shown,
                    format!("{} is a file, not a directory", p.display()),
                ));
            }
            Err(e) if missing(&e) => match p.parent() {
                Some(up) if !up.as_os_str().is_empty() => p = up.to_path_buf(),
                _ => {
                    p = PathBuf::from(".");
                    break;
                }
            },
            Err(e) => return Err(Error::io(&p, e)),
        }
    }
    // A probe file: permission bits, read-only mounts and ACLs all answer the same way. Named by
    // this process (the message shows the OS error only, so it stays the same from run to run).
    static PROBES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let probe = p.join(format!(".oddity-probe-{}-{n}", std::process::id()));
    match fs::OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(f) => {
            drop(f);
            let _ = fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(Error::output(shown, format!("cannot write in {}: {e}", p.display()))),
    }
}

/// Writes `bytes` to `path` under the policy above.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    match target(path)? {
        Target::InPlace(p) => fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&p)
            .and_then(|mut f| f.write_all(bytes).and_then(|_| f.flush()))
            .map_err(|e| Error::io(path, e)),
        Target::Atomic(real) => {
            let parent = parent_of(&real);
            create_dirs(&parent)?;
            let kept = fs::metadata(&real).ok().map(|m| m.permissions());
            let mut tmp = file_builder().tempfile_in(&parent).map_err(|e| Error::io(&parent, e))?;
            tmp.write_all(bytes)
                .and_then(|_| tmp.as_file().sync_all())
                .map_err(|e| Error::io(path, e))?;
            if let Some(perm) = kept {
                fs::set_permissions(tmp.path(), perm).map_err(|e| Error::io(path, e))?;
            }
            tmp.persist(&real).map_err(|e| Error::io(path, e.error))?;
            crate::checkpoint::sync(&parent)
        }
    }
}

/// Creates `dir` and its parents (`0777` less the umask).
pub fn create_dirs(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}

/// A temporary file with the mode a new file gets (`0666` less the umask) instead of `0600`.
fn file_builder() -> tempfile::Builder<'static, 'static> {
    let mut b = tempfile::Builder::new();
    b.prefix(".oddity-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(fs::Permissions::from_mode(0o666));
    }
    b
}

/// A temporary folder with the mode a new folder gets (`0777` less the umask), named `prefix…`.
pub fn dir_builder(prefix: &str) -> tempfile::Builder<'_, 'static> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(fs::Permissions::from_mode(0o777));
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_followed_and_kept_and_a_file_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let real = t.path().join("real.csv");
        fs::write(&real, "old").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = t.path().join("link.csv");
        std::os::unix::fs::symlink("real.csv", &link).unwrap();
        write_file(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"new");
        assert_eq!(fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o640);
        let names: Vec<_> = fs::read_dir(t.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn a_directory_is_not_a_file_and_a_file_is_not_a_folder() {
        let t = tempfile::tempdir().unwrap();
        assert!(matches!(check_file(t.path()), Err(Error::Output { .. })));
        assert!(matches!(write_file(t.path(), b"x"), Err(Error::Output { .. })));
        let f = t.path().join("f");
        fs::write(&f, "x").unwrap();
        assert!(matches!(check_dir(&f), Err(Error::Output { .. })));
        let e = check_file(&f.join("sub/out.csv")).unwrap_err();
        assert!(e.to_string().contains("is a file, not a directory"), "{e}");
        assert!(check_file(&t.path().join("new/sub/out.csv")).is_ok());
    }
}
