//! Crash-safe training through the binary: a GANomaly fit killed with SIGKILL after its first
//! checkpoint, then resumed with `--resume`, gives the same model — byte-identical score files —
//! as an uninterrupted fit with the same seed; the killed run leaves no model at `--out`.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{data, oddity, stderr};

const SETS: [&str; 10] = [
    "--set", "epochs=3", "--set", "ngf=8", "--set", "ndf=8", "--set", "nz=16", "--seed", "11",
];

fn fit_args<'a>(mnist: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["fit", "--model", "ganomaly", "--data", mnist, "--out", out];
    v.extend(SETS);
    v.extend(extra);
    v
}

fn scores(model: &Path, mnist: &str) -> Vec<u8> {
    let o = oddity(&["score", "--model-dir", model.to_str().unwrap(), "--data", mnist]);
    assert!(o.status.success(), "{}", stderr(&o));
    o.stdout
}

fn step(ck: &Path) -> Option<u64> {
    let bytes = std::fs::read(ck.join("current/state.json")).ok()?;
    serde_json::from_slice::<serde_json::Value>(&bytes).ok()?["step"].as_u64()
}

#[test]
fn a_fit_killed_mid_run_and_resumed_equals_an_uninterrupted_fit() {
    let mnist = data("mnist-small");
    let mnist = mnist.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let straight = tmp.path().join("straight");
    let o = oddity(&fit_args(mnist, straight.to_str().unwrap(), &[]));
    assert!(o.status.success(), "{}", stderr(&o));

    let ck = tmp.path().join("ck");
    let out = tmp.path().join("resumed");
    let (ck_s, out_s) = (ck.to_str().unwrap(), out.to_str().unwrap());
    let mut child = Command::new(env!("CARGO_BIN_EXE_oddity"))
        .args(fit_args(mnist, out_s, &["--checkpoint", ck_s]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while step(&ck).is_none() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the fit ended before its first checkpoint"
        );
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "no checkpoint after 10 minutes"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let killed_at = step(&ck).unwrap();
    assert!(killed_at < 3, "killed after the last epoch: nothing was interrupted");
    assert!(!out.exists(), "a killed fit must not leave a model at --out");

    let o = oddity(&fit_args(mnist, out_s, &["--resume", ck_s]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(step(&ck), Some(3));
    assert!(
        scores(&out, mnist) == scores(&straight, mnist),
        "resumed after a kill at epoch {killed_at}: scores differ from the uninterrupted fit"
    );
    eprintln!("killed after epoch {killed_at} of 3; resumed fit scores byte-identical");
}
