//! What the CLI does to the paths it writes (docs/reliability.md, "Output paths"): regular files
//! replaced atomically, special files and `/dev/stdout` written in place, symbolic links followed,
//! the umask respected, model directories never deleted, concurrent writers refused cleanly, and
//! a full standard output an error rather than a panic. Also the column check at score time.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{assert_error, data, oddity, stderr, stdout};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A quick iforest fit of wbc into `dir`.
fn fit_wbc(dir: &Path) -> Output {
    oddity(&[
        "fit",
        "--model",
        "iforest",
        "--data",
        s(&data("odds/wbc.mat")),
        "--out",
        s(dir),
        "--set",
        "n_estimators=10",
    ])
}

fn score_wbc(model: &Path, out: &str) -> Output {
    oddity(&[
        "score",
        "--model-dir",
        s(model),
        "--data",
        s(&data("odds/wbc.mat")),
        "--out",
        out,
    ])
}

/// `oddity args` with the umask set to `mask` in the child.
#[cfg(unix)]
fn with_umask(mask: u32, args: &[&str]) -> Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oddity"));
    cmd.args(args);
    // SAFETY: umask is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::umask(mask as libc::mode_t);
            Ok(())
        });
    }
    cmd.output().unwrap()
}

#[cfg(unix)]
#[test]
fn score_out_writes_special_files_in_place_follows_links_and_respects_the_umask() {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let t = tempfile::tempdir().unwrap();
    let model = t.path().join("m");
    assert!(fit_wbc(&model).status.success());
    let expected = {
        let o = oddity(&["score", "--model-dir", s(&model), "--data", s(&data("odds/wbc.mat"))]);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    assert!(expected.lines().count() > 300);

    // A FIFO with a reader: the scores arrive through it and it stays a FIFO.
    let fifo = t.path().join("scores.fifo");
    let c = std::ffi::CString::new(s(&fifo)).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
    };
    let o = score_wbc(&model, s(&fifo));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(reader.join().unwrap(), expected);
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());

    // /dev/stdout: the scores go to standard output.
    let o = score_wbc(&model, "/dev/stdout");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), expected);

    // A character device (/dev/null through a link): written in place, still a device.
    let null_link = t.path().join("null.csv");
    std::os::unix::fs::symlink("/dev/null", &null_link).unwrap();
    assert!(score_wbc(&model, s(&null_link)).status.success());
    assert!(fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    assert!(fs::symlink_metadata(&null_link).unwrap().file_type().is_symlink());

    // /dev/full: the write error is reported, nothing replaced.
    let o = score_wbc(&model, "/dev/full");
    assert_error(&o, 1, "/dev/full");
    assert!(fs::metadata("/dev/full").unwrap().file_type().is_char_device());

    // A symbolic link to a file: the file gets the scores, the link stays a link.
    let real = t.path().join("real.csv");
    fs::write(&real, "old").unwrap();
    let link = t.path().join("link.csv");
    std::os::unix::fs::symlink("real.csv", &link).unwrap();
    assert!(score_wbc(&model, s(&link)).status.success());
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(fs::read_to_string(&real).unwrap(), expected);

    // New files get 0666 less the umask; a replaced file keeps its mode.
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let private = t.path().join("private.csv");
    let o = with_umask(
        0o077,
        &[
            "score",
            "--model-dir",
            s(&model),
            "--data",
            s(&data("odds/wbc.mat")),
            "--out",
            s(&private),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(mode(&private), 0o600);
    let shared = t.path().join("shared.csv");
    let o = with_umask(
        0o002,
        &[
            "score",
            "--model-dir",
            s(&model),
            "--data",
            s(&data("odds/wbc.mat")),
            "--out",
            s(&shared),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(mode(&shared), 0o664);
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o640)).unwrap();
    assert!(score_wbc(&model, s(&shared)).status.success());
    assert_eq!(mode(&shared), 0o640);
    // A new model directory too.
    let m2 = t.path().join("m-private");
    let o = with_umask(
        0o077,
        &[
            "fit",
            "--model",
            "iforest",
            "--data",
            s(&data("odds/wbc.mat")),
            "--out",
            s(&m2),
            "--set",
            "n_estimators=5",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!((mode(&m2), mode(&m2.join("model.json"))), (0o700, 0o600));
}

/// The issue's own case: `mknod -m 666 myfull c 1 7` (a device node outside /dev) given as
/// `--out` was replaced by a plain file of scores. Now it is written in place: the full device
/// reports its error, the null device swallows the scores, and both stay devices. Needs root
/// (mknod); skipped where it is refused.
#[cfg(unix)]
#[test]
fn a_device_node_outside_dev_is_written_in_place_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: mknod needs root");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let model = t.path().join("m");
    assert!(fit_wbc(&model).status.success());
    let node = |name: &str, minor: u32| {
        let p = t.path().join(name);
        let c = std::ffi::CString::new(s(&p)).unwrap();
        let dev = libc::makedev(1, minor);
        (unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, dev) } == 0).then_some(p)
    };
    let Some(full) = node("myfull", 7) else {
        eprintln!("skipped: mknod refused ({})", std::io::Error::last_os_error());
        return;
    };
    assert_error(&score_wbc(&model, s(&full)), 1, "No space left on device");
    assert!(fs::symlink_metadata(&full).unwrap().file_type().is_char_device());
    let null = node("mynull", 3).unwrap();
    let o = score_wbc(&model, s(&null));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(fs::symlink_metadata(&null).unwrap().file_type().is_char_device());
    let names: Vec<_> = fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 3, "nothing else written: {names:?}");
}

#[test]
fn fit_replaces_only_oddity_model_directories_and_keeps_their_other_files() {
    let t = tempfile::tempdir().unwrap();
    // Another tool's model folder with a model.json: refused, untouched.
    let tfjs = t.path().join("tfjs");
    fs::create_dir(&tfjs).unwrap();
    fs::write(tfjs.join("model.json"), "{}").unwrap();
    fs::write(tfjs.join("shard.bin"), [7u8; 1000]).unwrap();
    assert_error(&fit_wbc(&tfjs), 1, "not an oddity model file");
    assert_eq!(fs::read(tfjs.join("shard.bin")).unwrap(), vec![7u8; 1000]);
    assert_eq!(fs::read_to_string(tfjs.join("model.json")).unwrap(), "{}");
    assert_eq!(fs::read_dir(&tfjs).unwrap().count(), 2);

    // An oddity model folder with the user's notes: the model is replaced, the notes stay.
    let m = t.path().join("m");
    assert!(fit_wbc(&m).status.success());
    fs::write(m.join("notes.txt"), "seed 0 looked best").unwrap();
    fs::create_dir(m.join("plots")).unwrap();
    let before = fs::read(m.join("model.json")).unwrap();
    let o = oddity(&[
        "fit",
        "--model",
        "iforest",
        "--data",
        s(&data("odds/wbc.mat")),
        "--out",
        s(&m),
        "--seed",
        "3",
        "--set",
        "n_estimators=10",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(
        fs::read(m.join("model.json")).unwrap(),
        before,
        "the model was replaced"
    );
    assert_eq!(fs::read_to_string(m.join("notes.txt")).unwrap(), "seed 0 looked best");
    assert!(m.join("plots").is_dir());
    assert!(score_wbc(&m, s(&t.path().join("s.csv"))).status.success());
    let left: Vec<String> = fs::read_dir(&m)
        .unwrap()
        .chain(fs::read_dir(t.path()).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".oddity"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// `--out .` and several fits racing for one `--out`: each ends with a model or a clear one-line
/// error, the result loads, and no `.oddity-model-*` folder is left behind.
#[test]
fn concurrent_fits_and_out_dot_end_cleanly() {
    let t = tempfile::tempdir().unwrap();
    let here = t.path().join("here");
    fs::create_dir(&here).unwrap();
    for _ in 0..2 {
        let o = Command::new(env!("CARGO_BIN_EXE_oddity"))
            .current_dir(&here)
            .args([
                "fit",
                "--model",
                "iforest",
                "--data",
                s(&data("odds/wbc.mat")),
                "--out",
                ".",
                "--set",
                "n_estimators=5",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert!(here.join("model.json").is_file());

    let out = t.path().join("race");
    let children: Vec<_> = (0..4)
        .map(|seed| {
            Command::new(env!("CARGO_BIN_EXE_oddity"))
                .args([
                    "fit",
                    "--model",
                    "iforest",
                    "--data",
                    s(&data("odds/wbc.mat")),
                    "--out",
                    s(&out),
                    "--seed",
                    &seed.to_string(),
                    "--set",
                    "n_estimators=20",
                ])
                .stderr(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ok = 0;
    for c in children {
        let o = c.wait_with_output().unwrap();
        if o.status.success() {
            ok += 1;
        } else {
            let e = assert_error(&o, 1, "race");
            assert!(e.contains("another oddity process"), "{e}");
        }
    }
    assert!(ok >= 1);
    assert!(score_wbc(&out, s(&t.path().join("s.csv"))).status.success());
    for dir in [t.path(), out.as_path(), here.as_path()] {
        let left: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".oddity"))
            .collect();
        assert!(left.is_empty(), "{}: {left:?}", dir.display());
    }
}

/// `> /dev/full`: one error line and exit 1 (it was a panic, exit 101), for every command that
/// prints a table.
#[cfg(unix)]
#[test]
fn a_full_standard_output_is_an_error_not_a_panic() {
    let wbc = data("odds/wbc.mat");
    let cases: [&[&str]; 3] = [
        &["info", "--data", s(&wbc)],
        &["models"],
        &[
            "eval",
            "--model",
            "iforest",
            "--data",
            s(&wbc),
            "--set",
            "n_estimators=5",
        ],
    ];
    for args in cases {
        let o = Command::new(env!("CARGO_BIN_EXE_oddity"))
            .args(args)
            .stdout(fs::OpenOptions::new().write(true).open("/dev/full").unwrap())
            .output()
            .unwrap();
        let line = assert_error(&o, 1, "standard output");
        assert!(line.contains("No space left on device"), "{args:?}: {line}");
    }
}

/// A model fitted on columns a, b, c refuses c, b, a (and renamed or missing columns) naming the
/// difference; `--allow-reordered-columns` maps them by name and gives the same scores; a
/// model.json written before the columns were recorded still loads.
#[test]
fn score_checks_the_columns_the_model_was_fitted_on() {
    let t = tempfile::tempdir().unwrap();
    let rows: Vec<[f32; 3]> = (0..60)
        .map(|i| [i as f32, (i * 7 % 13) as f32, (i % 5) as f32 * 0.5])
        .collect();
    let write = |name: &str, order: [usize; 3], header: &str| {
        let mut text = format!("{header}\n");
        for r in &rows {
            text += &format!("{},{},{}\n", r[order[0]], r[order[1]], r[order[2]]);
        }
        let p = t.path().join(name);
        fs::write(&p, text).unwrap();
        p
    };
    let abc = write("abc.csv", [0, 1, 2], "a,b,c");
    let cba = write("cba.csv", [2, 1, 0], "c,b,a");
    let abx = write("abx.csv", [0, 1, 2], "a,b,x");
    let m = t.path().join("m");
    let o = oddity(&[
        "fit",
        "--model",
        "iforest",
        "--data",
        s(&abc),
        "--no-labels",
        "--out",
        s(&m),
        "--set",
        "n_estimators=10",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let score = |file: &Path, extra: &[&str]| {
        let mut args = vec!["score", "--model-dir", s(&m), "--data", s(file), "--no-labels"];
        args.extend(extra);
        oddity(&args)
    };
    let e = assert_error(&score(&cba, &[]), 1, "columns: expected those the model was fitted on");
    assert!(
        e.contains("another order") && e.contains("--allow-reordered-columns"),
        "{e}"
    );
    let e = assert_error(&score(&abx, &[]), 1, "columns: expected those the model was fitted on");
    assert!(e.contains("missing c") && e.contains("not in the model x"), "{e}");
    let reference = score(&abc, &[]);
    assert!(reference.status.success(), "{}", stderr(&reference));
    let mapped = score(&cba, &["--allow-reordered-columns"]);
    assert!(mapped.status.success(), "{}", stderr(&mapped));
    assert_eq!(stdout(&mapped), stdout(&reference));
    assert_error(&score(&abx, &["--allow-reordered-columns"]), 1, "missing c");

    // An older model.json (no feature_names): loads, columns matched by position as before.
    let json = m.join("model.json");
    let mut v: serde_json::Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["summary"]["feature_names"], serde_json::json!(["a", "b", "c"]));
    v["summary"].as_object_mut().unwrap().remove("feature_names");
    fs::write(&json, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let old = score(&cba, &[]);
    assert!(old.status.success(), "{}", stderr(&old));
}
