//! Helpers shared by the CLI test files: run the `oddity` binary, read its output, check error exits.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A file shipped in the repository's `data/` folder.
pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data").join(rel)
}

pub fn oddity(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oddity"))
        .args(args)
        .output()
        .expect("run oddity")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// An error exit: the given code, one line on stderr starting with `error:` and containing `needle`,
/// no panic. Returns that line.
pub fn assert_error(o: &Output, code: i32, needle: &str) -> String {
    assert_eq!(o.status.code(), Some(code), "stderr: {}", stderr(o));
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {err}");
    assert!(lines[0].starts_with("error:") && lines[0].contains(needle), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    lines[0].to_string()
}
