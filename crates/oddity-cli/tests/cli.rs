//! The `oddity` binary end to end: commands on real shipped files, exit codes, one-line errors,
//! and nothing written to an output path when a command fails.

mod common;
#[path = "cli/devices.rs"]
mod devices;
#[path = "cli/image_folders.rs"]
mod image_folders;
#[path = "cli/mvtec.rs"]
mod mvtec;

use std::path::Path;

use common::{assert_error, data, oddity, stderr, stdout};

#[test]
fn info_describes_a_mat_file() {
    let o = oddity(&["info", "--data", data("odds/wbc.mat").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("378") && out.contains("[378, 30]") && out.contains("21 anomalies"),
        "{out}"
    );
}

#[test]
fn info_describes_an_idx_directory_as_train_and_test() {
    let o = oddity(&["info", "--data", data("mnist-small").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("train") && out.contains("test") && out.contains("[1000, 1, 28, 28]"),
        "{out}"
    );
}

#[test]
fn fit_then_score_writes_a_csv_with_one_row_per_sample() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    let file = data("adbench/4_breastw.npz");
    let o = oddity(&[
        "fit",
        "--model",
        "iforest",
        "--data",
        file.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--set",
        "n_estimators=50",
        "--set",
        "contamination=0.35",
        "--seed",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = dir.path().join("scores.csv");
    let o = oddity(&[
        "score",
        "--model-dir",
        model.to_str().unwrap(),
        "--data",
        file.to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("index,score,scaled_score,prediction,label"));
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
    assert_eq!(rows.len(), 683);
    // breastw is easy for iForest: flagged rows should be mostly the labelled anomalies.
    let flagged: Vec<&Vec<String>> = rows.iter().filter(|r| r[3] == "1").collect();
    let hits = flagged.iter().filter(|r| r[4] == "1").count();
    assert!(
        flagged.len() > 150 && hits as f64 / flagged.len() as f64 > 0.8,
        "{hits}/{}",
        flagged.len()
    );
    // Scores go to stdout without --out, identical to the file.
    let o = oddity(&[
        "score",
        "--model-dir",
        model.to_str().unwrap(),
        "--data",
        file.to_str().unwrap(),
    ]);
    assert_eq!(stdout(&o), text);
}

/// The scaled score is the linear outlier probability from the training score range
/// (`Detector::probability`), so a row scores the same alone as in a batch.
#[test]
fn scaled_score_uses_the_training_range_and_does_not_depend_on_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let file = data("adrepository/annthyroid_21feat_normalised.csv");
    let model = dir.path().join("m");
    let o = oddity(&[
        "fit",
        "--model",
        "iforest",
        "--data",
        file.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--set",
        "n_estimators=10",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let score = |path: &Path| {
        let o = oddity(&[
            "score",
            "--model-dir",
            model.to_str().unwrap(),
            "--data",
            path.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let rows: Vec<(f64, f64)> = stdout(&o)
            .lines()
            .skip(1)
            .map(|l| {
                let c: Vec<&str> = l.split(',').collect();
                (c[1].parse().unwrap(), c[2].parse().unwrap())
            })
            .collect();
        rows
    };
    let all = score(&file);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("model.json")).unwrap()).unwrap();
    let (lo, hi) = (
        json["summary"]["train_score_min"].as_f64().unwrap(),
        json["summary"]["train_score_max"].as_f64().unwrap(),
    );
    for &(s, scaled) in &all {
        assert!(
            (scaled - ((s - lo) / (hi - lo)).clamp(0.0, 1.0)).abs() < 1e-6,
            "{s} -> {scaled}"
        );
    }
    // The most anomalous row alone: the same scaled score as in the batch (it used to be 0).
    let text = std::fs::read_to_string(&file).unwrap();
    let top = all.iter().enumerate().max_by(|a, b| a.1.0.total_cmp(&b.1.0)).unwrap().0;
    let lines: Vec<&str> = text.lines().collect();
    let one = dir.path().join("one.csv");
    std::fs::write(&one, format!("{}\n{}\n", lines[0], lines[top + 1])).unwrap();
    let alone = score(&one);
    assert_eq!(alone, vec![all[top]]);
    assert!(alone[0].1 > 0.5, "{alone:?}");
}

#[test]
fn eval_json_prints_one_record_per_metric_and_seed() {
    let o = oddity(&[
        "eval",
        "--model",
        "iforest",
        "--data",
        data("odds/wbc.mat").to_str().unwrap(),
        "--seed",
        "0",
        "--seed",
        "1",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let records: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(records.len(), 4);
    for r in &records {
        for key in ["dataset", "model", "seed", "metric", "value", "seconds"] {
            assert!(r.get(key).is_some(), "missing {key} in {r}");
        }
        assert_eq!(r["dataset"], "wbc");
        let v = r["value"].as_f64().unwrap();
        // iForest on ODDS wbc: ROC-AUC ≈ 0.93, AP ≈ 0.5 (sklearn); far above chance (0.5 / 0.056).
        match r["metric"].as_str().unwrap() {
            "roc_auc" => assert!(v > 0.85, "{r}"),
            "average_precision" => assert!(v > 0.3, "{r}"),
            m => panic!("unexpected metric {m}"),
        }
    }
}

/// GANomaly leave-one-class-out under both protocols on the shipped MNIST subset (tiny nets, one
/// epoch, 200 training digits): the records name the protocol; the honest run records its
/// validation loss. Leave-one-class-out flags on another model are a usage error.
#[test]
fn eval_leave_one_class_out_protocols_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let mnist = data("mnist-small");
    let run = |extra: &[&str], results: &Path| {
        let mut args = vec![
            "eval",
            "--model",
            "ganomaly",
            "--data",
            mnist.to_str().unwrap(),
            "--anomaly-class",
            "3",
            "--set",
            "epochs=2",
            "--set",
            "ngf=8",
            "--set",
            "ndf=8",
            "--set",
            "nz=8",
            "--max-train",
            "200",
            "--json",
            "--results",
            results.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = oddity(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        (stdout(&o), std::fs::read_to_string(results).unwrap())
    };
    let (honest, details) = run(&[], &dir.path().join("honest.jsonl"));
    assert!(honest.contains("\"dataset\":\"mnist-small (anomaly 3)\""), "{honest}");
    assert!(
        details.contains("validation loss per epoch"),
        "the epoch is chosen by validation loss"
    );
    let (official, details) = run(&["--protocol", "official"], &dir.path().join("official.jsonl"));
    assert!(
        official.contains("\"dataset\":\"mnist-small (anomaly 3, official protocol)\""),
        "{official}"
    );
    assert!(
        details.contains("validation ROC-AUC per epoch"),
        "chosen by ROC-AUC on the test set"
    );
    let (labelled, details) = run(&["--val-anomalies", "5"], &dir.path().join("labelled.jsonl"));
    assert!(labelled.contains("(anomaly 3)"), "{labelled}");
    assert!(
        details.contains("validation ROC-AUC per epoch"),
        "labelled anomalies: chosen by ROC-AUC"
    );
    let wbc = data("odds/wbc.mat");
    assert_error(
        &oddity(&[
            "eval",
            "--model",
            "iforest",
            "--data",
            wbc.to_str().unwrap(),
            "--max-train",
            "10",
        ]),
        2,
        "leave-one-class-out",
    );
    assert_error(
        &oddity(&[
            "eval",
            "--model",
            "ganomaly",
            "--data",
            mnist.to_str().unwrap(),
            "--anomaly-class",
            "3",
            "--val-fraction",
            "0.9",
        ]),
        2,
        "val-fraction",
    );
}

#[test]
fn usage_errors_exit_2() {
    let file = data("odds/wbc.mat");
    assert_error(
        &oddity(&["eval", "--model", "nope", "--data", file.to_str().unwrap()]),
        2,
        "unknown model `nope`",
    );
    assert_error(
        &oddity(&[
            "eval",
            "--model",
            "iforest",
            "--data",
            file.to_str().unwrap(),
            "--set",
            "n_estimators=0",
        ]),
        2,
        "n_estimators",
    );
    assert_error(
        &oddity(&[
            "eval",
            "--model",
            "iforest",
            "--data",
            file.to_str().unwrap(),
            "--set",
            "bogus=1",
        ]),
        2,
        "bogus",
    );
    assert_error(&oddity(&["bench", "speed", "--steps", "0", "--no-torch"]), 2, "steps");
    assert_error(
        &oddity(&["bench", "speed", "--reference", "no/such/script.py"]),
        2,
        "no/such/script.py not found",
    );
    // clap's own usage errors also exit 2, as one line
    let line = assert_error(&oddity(&["fit"]), 2, "required arguments were not provided");
    assert!(line.contains("--model") && line.contains("--out"), "{line}");
    assert_error(&oddity(&["score", "--bogus"]), 2, "unexpected argument '--bogus'");
    // a --set value of the wrong type names its key
    assert_error(
        &oddity(&[
            "fit",
            "--model",
            "iforest",
            "--data",
            file.to_str().unwrap(),
            "--out",
            "never",
            "--set",
            "n_estimators=abc",
        ]),
        2,
        "`n_estimators` = \"abc\"",
    );
}

#[test]
fn data_errors_exit_1_and_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.npz");
    std::fs::write(&bad, b"PK\x03\x04 definitely not a zip").unwrap();
    let out = dir.path().join("model");
    let o = oddity(&[
        "fit",
        "--model",
        "iforest",
        "--data",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_error(&o, 1, "broken.npz");
    assert!(!out.exists(), "nothing may be written to --out on failure");
    let missing = dir.path().join("nowhere.csv");
    assert_error(
        &oddity(&["info", "--data", missing.to_str().unwrap()]),
        1,
        "nowhere.csv",
    );
}

#[test]
fn scoring_with_a_model_of_another_width_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    let o = oddity(&[
        "fit",
        "--model",
        "iforest",
        "--data",
        data("odds/wbc.mat").to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = dir.path().join("s.csv");
    let o = oddity(&[
        "score",
        "--model-dir",
        model.to_str().unwrap(),
        "--data",
        data("adbench/4_breastw.npz").to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert_error(&o, 1, "expected [30]");
    assert!(!csv.exists());
}

#[test]
fn same_seed_gives_identical_score_files_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let file = data("odds/cardio.mat");
    let mut outputs = Vec::new();
    for run in 0..2 {
        let model = dir.path().join(format!("m{run}"));
        let o = oddity(&[
            "fit",
            "--model",
            "iforest",
            "--data",
            file.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
            "--seed",
            "11",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let o = oddity(&[
            "score",
            "--model-dir",
            model.to_str().unwrap(),
            "--data",
            file.to_str().unwrap(),
        ]);
        outputs.push(stdout(&o));
    }
    assert_eq!(outputs[0], outputs[1]);
    assert!(outputs[0].lines().count() == 1832);
}

/// Every registered model, fitted twice in separate processes with the same seed, writes
/// byte-identical model directories (weights included) and score files (short trainings so the
/// test stays fast).
#[test]
fn every_model_scores_bit_identically_across_processes_with_the_same_seed() {
    let cardio = data("adbench/6_cardio.npz");
    let mnist = data("mnist-small");
    let dir = tempfile::tempdir().unwrap();
    for entry in oddity::registry::models() {
        let model = entry.name;
        // The registry's quick settings: short trainings.
        let (file, sets) = match entry.input {
            oddity::registry::Input::Tabular => (&cardio, entry.quick),
            oddity::registry::Input::Images => (&mnist, entry.quick),
        };
        let mut outputs = Vec::new();
        for run in 0..2 {
            let out = dir.path().join(format!("{model}-{run}"));
            let mut args = vec![
                "fit",
                "--model",
                model,
                "--data",
                file.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--seed",
                "5",
            ];
            for s in sets {
                args.extend(["--set", s]);
            }
            let o = oddity(&args);
            assert!(o.status.success(), "{model}: {}", stderr(&o));
            let o = oddity(&[
                "score",
                "--model-dir",
                out.to_str().unwrap(),
                "--data",
                file.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{model}: {}", stderr(&o));
            outputs.push(stdout(&o));
        }
        assert!(outputs[0].lines().count() > 100, "{model}");
        assert_eq!(outputs[0], outputs[1], "{model}: same seed, different scores");
        // The whole model directory, file by file: same names, same bytes.
        let files = |run: usize| {
            let d = dir.path().join(format!("{model}-{run}"));
            let mut names: Vec<String> = std::fs::read_dir(&d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            let bytes: Vec<Vec<u8>> = names.iter().map(|n| std::fs::read(d.join(n)).unwrap()).collect();
            (names, bytes)
        };
        let (a, b) = (files(0), files(1));
        assert_eq!(a.0, b.0, "{model}: same seed, different files in the model directory");
        assert!(a.0.contains(&"weights.safetensors".to_string()), "{model}: {:?}", a.0);
        for (name, (x, y)) in a.0.iter().zip(a.1.iter().zip(&b.1)) {
            assert!(x == y, "{model}: same seed, different {name}");
        }
    }
}

#[test]
fn demo_runs_every_shipped_format_and_the_image_model() {
    let o = oddity(&["demo", "--seeds", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for name in [
        "wbc.mat",
        "smtp.mat",
        "4_breastw.npz",
        "annthyroid_21feat_normalised.csv",
        "cmc-nominal.arff",
        "cardio.parquet",
        "mnist-small (anomaly 0), BN auto (default) = ",
        "mnist-small (anomaly 0), BN running",
        "mnist-small (anomaly 0), BN batch",
        "6_cardio.npz",
        "dplan",
        "ACC init",
    ] {
        assert!(out.contains(name), "demo output lacks {name}:\n{out}");
    }
    // The default GANomaly row ranks anomalies first (issue 24: it showed 0.46 with running statistics).
    let row = out.lines().find(|l| l.contains("BN auto (default)")).unwrap();
    let cells: Vec<&str> = row.split(['│', '┆']).map(str::trim).filter(|c| !c.is_empty()).collect();
    let auc: f64 = cells[3].parse().unwrap_or_else(|_| panic!("no ROC-AUC in {row}"));
    assert!(auc > 0.75, "{row}");
}

#[test]
fn weakly_supervised_eval_and_bench() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/adbench/6_cardio.npz");
    // A bad hyperparameter is a usage error naming the field.
    let o = oddity(&["eval", "--model", "dplan", "--data", data, "--set", "p_labeled=2"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("p_labeled"), "{}", stderr(&o));
    // More labelled anomalies than the training split has.
    let o = oddity(&[
        "eval",
        "--model",
        "iforest",
        "--data",
        data,
        "--labeled-anomalies",
        "500",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("labeled-anomalies"), "{}", stderr(&o));
    // The bench: two models, one seed, results file and table.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bench");
    let o = oddity(&[
        "bench",
        "weakly-supervised",
        "--data",
        data,
        "--models",
        "dplan[warmup_steps=500;episodes=1;steps_per_episode=500],iforest",
        "--seeds",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let jsonl = std::fs::read_to_string(out.join("results.jsonl")).unwrap();
    let tagged = |tag: &str| {
        jsonl
            .lines()
            .filter(|l| l.contains(&format!("\"record\":\"{tag}\"")))
            .count()
    };
    let metrics = jsonl.lines().filter(|l| !l.contains("\"record\"")).count();
    assert_eq!(metrics, 4, "2 models × 2 metrics:\n{jsonl}");
    assert_eq!(
        (tagged("scores"), tagged("run")),
        (2, 1),
        "scores per run, one provenance record"
    );
    assert_eq!(tagged("history"), 1, "DPLAN's reward curve (iForest has none)");
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(
        md.contains("| dataset | dplan[warmup_steps=500;episodes=1;steps_per_episode=500] | iforest |"),
        "{md}"
    );
    assert!(md.contains("| 6_cardio |") && md.contains("**"), "{md}");
    // Its report: curves of both models, DPLAN's reward per episode, the command in the provenance.
    let report = dir.path().join("report");
    let o = oddity(&[
        "report",
        "--results",
        out.join("results.jsonl").to_str().unwrap(),
        "--out",
        report.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(report.join("report.html")).unwrap();
    for needle in [
        "ROC curves on 6_cardio",
        "total reward per episode",
        "bench weakly-supervised",
        "sha256",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    assert!(report.join("plots/roc-6-cardio.svg").is_file());
    assert!(
        report
            .join("plots/train-dplan-warmup-steps-500-episodes-1-steps-per-episode-500-total-reward-per-episode.png")
            .is_file()
    );
    // More seeds for one model, appended: the table averages both of its seeds.
    let o = oddity(&[
        "bench",
        "weakly-supervised",
        "--data",
        data,
        "--models",
        "iforest",
        "--first-seed",
        "1",
        "--seeds",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let jsonl = std::fs::read_to_string(out.join("results.jsonl")).unwrap();
    let iforest_seeds: Vec<&str> = jsonl
        .lines()
        .filter(|l| !l.contains("\"record\"") && l.contains("\"model\":\"iforest\"") && l.contains("roc_auc"))
        .collect();
    assert_eq!(iforest_seeds.len(), 2, "{jsonl}");
    assert!(iforest_seeds[1].contains("\"seed\":1"), "{jsonl}");
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.contains("Last invocation: seed 1,"), "{md}");
    let cardio = md.lines().find(|l| l.starts_with("| 6_cardio |")).unwrap();
    let iforest_cell = cardio.split('|').nth(3).unwrap();
    assert!(
        iforest_cell.contains('±') && !iforest_cell.contains("± 0.000"),
        "two iforest seeds give a spread: {cardio}"
    );
}

#[test]
fn report_of_a_bad_results_file_fails_cleanly_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.jsonl");
    std::fs::write(&bad, "{\"dataset\":\"a\",\"model\":\"m\"\n").unwrap();
    let out = dir.path().join("report");
    let o = oddity(&[
        "report",
        "--results",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_error(&o, 1, "broken.jsonl");
    assert!(!out.exists(), "nothing written on failure");
    let o = oddity(&[
        "report",
        "--results",
        dir.path().join("missing.jsonl").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_error(&o, 1, "missing.jsonl");
}

#[test]
fn eval_with_report_writes_results_and_html() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rep");
    let wbc = data("odds/wbc.mat");
    let o = oddity(&[
        "eval",
        "--model",
        "iforest",
        "--data",
        wbc.to_str().unwrap(),
        "--seed",
        "0",
        "--seed",
        "1",
        "--report",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("id=\"curves\"") && html.contains("id=\"histograms\"") && html.contains("wbc.mat"));
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.contains("| wbc |"), "{md}");
    // Running again replaces the results file instead of appending to it.
    let o = oddity(&[
        "eval",
        "--model",
        "iforest",
        "--data",
        wbc.to_str().unwrap(),
        "--report",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let jsonl = std::fs::read_to_string(out.join("results.jsonl")).unwrap();
    assert_eq!(jsonl.lines().filter(|l| l.contains("\"record\":\"run\"")).count(), 1);
}

#[test]
fn eval_cluster_task_reports_acc_nmi_ari_and_writes_tsne_pictures() {
    let dir = tempfile::tempdir().unwrap();
    let plots = dir.path().join("plots");
    let o = oddity(&[
        "eval",
        "--model",
        "deep-cluster",
        "--data",
        data("mnist-small").to_str().unwrap(),
        "--task",
        "cluster",
        "--k",
        "10",
        "--set",
        "arch=mlp",
        "--set",
        "mlp_hidden=[64]",
        "--set",
        "pretrain_epochs=2",
        "--set",
        "maxiter=20",
        "--set",
        "n_init=2",
        "--tsne-samples",
        "300",
        "--plots",
        plots.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let metrics: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["metric"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for m in [
        "acc",
        "nmi",
        "ari",
        "acc_refined",
        "nmi_refined",
        "ari_refined",
        "acc_kmeans_init",
        "pretrain_s_per_epoch",
    ] {
        assert!(metrics.iter().any(|x| x == m), "no {m} in {out}");
    }
    for f in ["mnist-small-seed0-tsne-class.png", "mnist-small-seed0-tsne-cluster.png"] {
        let bytes = std::fs::read(plots.join(f)).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{f} is not a PNG");
    }
    let csv = std::fs::read_to_string(plots.join("mnist-small-seed0-tsne.csv")).unwrap();
    assert_eq!(csv.lines().count(), 301);
    assert!(csv.starts_with("index,x,y,class,cluster,cluster_refined"));
    // The clustering task is for clustering models only.
    let o = oddity(&[
        "eval",
        "--model",
        "iforest",
        "--data",
        data("odds/wbc.mat").to_str().unwrap(),
        "--task",
        "cluster",
    ]);
    assert_error(&o, 2, "task");
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_oddity"))
        .args(["info", "--data", data("coil20-small").to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away, as `| head -0` does
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    child.wait().unwrap();
    assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{err}");
}

/// Significant digits of a number's text: `0.00025` → 2, `1.5e-8` → 2, `100` → 1.
fn significant_digits(t: &str) -> usize {
    let mantissa = t.trim_start_matches('-').split(['e', 'E']).next().unwrap_or("");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    digits.trim_start_matches('0').trim_end_matches('0').len().max(1)
}

/// A non-integer number must be written as people write it: no more significant digits than the
/// shortest text that reads back as the same f32 (`0.1`, not `0.10000000149011612`).
fn assert_no_f32_noise(token: &str, context: &str) {
    if !token.contains(['.', 'e', 'E']) {
        return;
    }
    let f: f32 = token.parse().unwrap_or_else(|e| panic!("{token}: {e} in {context}"));
    let shortest = format!("{f:e}");
    assert_eq!(shortest.parse::<f32>().unwrap(), f);
    assert!(
        significant_digits(token) <= significant_digits(&shortest),
        "{token} has f32→f64 noise (the f32 is {shortest}) in {context}"
    );
}

/// The number tokens of a JSON text (outside strings).
fn json_numbers(text: &str) -> Vec<String> {
    let (mut out, mut cur) = (Vec::new(), String::new());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c.is_ascii_digit() || (!cur.is_empty() && "+-.eE".contains(c)) || (cur.is_empty() && c == '-') {
            cur.push(c);
        } else {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            in_string = c == '"';
        }
    }
    out.extend((!cur.is_empty()).then_some(cur));
    out
}

#[test]
fn models_json_prints_every_default_as_people_write_it() {
    let o = oddity(&["models", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let models = doc["models"].as_array().unwrap();
    assert_eq!(models.len(), oddity::registry::models().len());
    let dplan = models.iter().find(|m| m["name"] == "dplan").unwrap();
    assert_eq!(dplan["protocol"], "weakly-supervised");
    assert!(dplan["defaults"]["learning_rate"].is_number(), "{dplan}");
    assert_eq!(dplan["presets"][0]["name"], "paper", "{dplan}");
    let numbers = json_numbers(&text);
    assert!(numbers.iter().filter(|t| t.contains('.')).count() > 20, "{numbers:?}");
    for t in &numbers {
        assert_no_f32_noise(t, "oddity models --json");
    }
    // The scanner catches what the issue saw.
    assert_eq!(
        json_numbers(r#"{"a":"1.5","gamma":0.9900000095367432,"n":[-3,1e-8]}"#),
        ["0.9900000095367432", "-3", "1e-8"]
    );
    let caught = std::panic::catch_unwind(|| assert_no_f32_noise("0.9900000095367432", "test"));
    assert!(caught.is_err());
}

#[test]
fn models_listing_fits_a_100_column_terminal_and_shows_every_default() {
    let o = oddity(&["models"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest <= 100, "a line of {widest} columns:\n{text}");
    let doc: serde_json::Value = serde_json::from_str(&stdout(&oddity(&["models", "--json"]))).unwrap();
    for m in doc["models"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        let block = text
            .split("\n\n")
            .find(|b| b.starts_with(&format!("{name} (")))
            .unwrap_or_else(|| panic!("no block for {name}:\n{text}"));
        let items: Vec<&str> = block.split([' ', ',', '\n']).collect();
        for (key, value) in m["defaults"].as_object().unwrap() {
            let item = items
                .iter()
                .find(|i| i.starts_with(&format!("{key}=")))
                .unwrap_or_else(|| panic!("{name}: no {key}= in\n{text}"));
            let shown = &item[key.len() + 1..];
            if value.is_number() {
                assert_eq!(shown.parse::<f64>().unwrap(), value.as_f64().unwrap(), "{name}.{key}");
                assert_no_f32_noise(shown, "oddity models");
            }
        }
    }
    assert!(text.contains("contamination (default 0.1)"), "{text}");
}

#[test]
fn saved_model_json_has_no_f32_noise_and_older_noisy_files_still_load() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    let file = data("adbench/6_cardio.npz");
    let (file, model_s) = (file.to_str().unwrap(), model.to_str().unwrap());
    let o = oddity(&[
        "fit",
        "--model",
        "devnet",
        "--data",
        file,
        "--out",
        model_s,
        "--set",
        "epochs=1",
        "--set",
        "lr=0.0003",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json_path = model.join("model.json");
    let text = std::fs::read_to_string(&json_path).unwrap();
    assert!(text.contains("\"lr\": 0.0003,"), "{text}");
    for t in json_numbers(&text) {
        assert_no_f32_noise(&t, "model.json");
    }
    let score = || {
        let o = oddity(&["score", "--model-dir", model_s, "--data", file]);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    let before = score();
    // model.json as earlier versions wrote it: every f32 of the config widened to f64.
    let widened = f64::from(0.0003f32).to_string();
    assert_eq!(widened, "0.0003000000142492354");
    std::fs::write(
        &json_path,
        text.replace("\"lr\": 0.0003,", &format!("\"lr\": {widened},")),
    )
    .unwrap();
    assert!(std::fs::read_to_string(&json_path).unwrap().contains(&widened));
    assert_eq!(score(), before);
}
