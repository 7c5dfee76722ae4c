//! `--device` on `fit` / `eval` / `score`, `info --devices`, and model directories of older
//! versions that recorded the device in `model.json` (scored from the command line).

use super::common::{assert_error, data, oddity, stderr, stdout};

const LEGACY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../oddity/tests/fixtures/v1-device/ganomaly"
);

#[test]
fn info_devices_lists_the_cpu_and_the_backends_of_this_build() {
    let o = oddity(&["info", "--devices"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("cpu") && out.contains("backends in this build: cpu"),
        "{out}"
    );
    // Neither --data nor --devices: a usage error.
    assert_error(&oddity(&["info"]), 2, "--data");
}

#[test]
fn a_bad_or_absent_device_is_a_usage_error_before_any_work() {
    let mnist = data("mnist-small");
    let mnist = mnist.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("m");
    let out = out.to_str().unwrap();
    let fit = |device: &str| {
        oddity(&[
            "fit", "--model", "ganomaly", "--data", mnist, "--out", out, "--device", device,
        ])
    };
    assert_error(&fit("tpu"), 2, "unknown device `tpu`");
    assert_error(&fit("cpu:2"), 2, "`device`");
    let backends = stdout(&oddity(&["info", "--devices"]));
    if !backends.contains("cuda[:N]") {
        assert_error(&fit("cuda"), 2, "--features cuda");
    }
    assert!(!tmp.path().join("m").exists(), "nothing is written");
    assert_error(
        &oddity(&["eval", "--model", "ganomaly", "--data", mnist, "--device", "tpu"]),
        2,
        "unknown device",
    );
    assert_error(
        &oddity(&["score", "--model-dir", LEGACY, "--data", mnist, "--device", "tpu"]),
        2,
        "unknown device",
    );
    // `--set device=…` is the same setting (kept for scripts), checked the same way.
    assert_error(
        &oddity(&[
            "fit",
            "--model",
            "ganomaly",
            "--data",
            mnist,
            "--out",
            out,
            "--set",
            "device=tpu",
        ]),
        2,
        "unknown device `tpu`",
    );
    assert!(!tmp.path().join("m").exists(), "nothing is written");
}

/// A model directory written by an older oddity (its config has `"device": "cpu"`) still scores
/// from the command line, on `--device cpu`, with the scores that version wrote — to f32 rounding:
/// the fixture was written on an AVX2 machine, and the GEMM's AVX-512 kernels sum in another order.
#[test]
fn a_model_file_with_a_device_key_still_scores() {
    let o = oddity(&[
        "score",
        "--model-dir",
        LEGACY,
        "--data",
        data("coil20-small").to_str().unwrap(),
        "--resize",
        "16x16",
        "--device",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let old = std::fs::read_to_string(format!("{LEGACY}.scores.csv")).unwrap();
    let column = |text: &str| -> Vec<f64> {
        let mut lines = text.lines();
        let col = lines.next().unwrap().split(',').position(|c| c == "score").unwrap();
        lines.map(|l| l.split(',').nth(col).unwrap().parse().unwrap()).collect()
    };
    let (new, old) = (column(&stdout(&o)), column(&old));
    assert_eq!(new.len(), old.len());
    for (i, (a, b)) in new.iter().zip(&old).enumerate() {
        assert!((a - b).abs() <= 1e-5 * b.abs(), "row {i}: {a} now, {b} in the fixture");
    }
}
