//! The report: a results file with every kind of detail (from real seeded runs on shipped data)
//! gives an HTML report with every section, image references that resolve, and curves whose
//! drawn area equals the metric in the results table.

use std::path::{Path, PathBuf};

use base64::Engine;
use oddity::data::{LoadOptions, load};
use oddity::eval::{LocoOptions, Plan};
use oddity::metrics::{average_precision, pr_curve, roc_auc, roc_curve};
use oddity::plot::curves::{CurveKind, plotted_points, trapezoid};
use oddity::registry::{self, Settings};
use oddity::report::provenance::utc_date_time;
use oddity::report::{RunClock, build};
use oddity::results::{Detail, EmbeddingMap, Results, append_details};

use crate::evaluate;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data").join(rel)
}

/// A results file with an iForest run (unsupervised), a DevNet run (weakly supervised, with a
/// training curve), a 1-epoch GANomaly run (scores, training curve, reconstruction grids) and an
/// embedding map.
fn results_file(dir: &Path) -> PathBuf {
    let path = dir.join("results.jsonl");
    let cardio = load(data("odds/cardio.mat"), &LoadOptions::default()).unwrap();
    let iforest = registry::find("iforest").unwrap();
    let e = evaluate(
        &iforest,
        &Settings::default(),
        &cardio,
        "cardio",
        0,
        &Plan::Unsupervised,
    )
    .unwrap();
    let mut metrics = e.records;
    let mut details = e.details;
    let adb = load(data("adbench/6_cardio.npz"), &LoadOptions::default()).unwrap();
    let devnet = registry::find("devnet").unwrap();
    let split = oddity::data::split::WeakSplitConfig {
        labeled_anomalies: 30,
        ..Default::default()
    };
    let s = Settings::parse(&["epochs=3"]).unwrap();
    let e = evaluate(&devnet, &s, &adb, "cardio-adb", 0, &Plan::Weak(split)).unwrap();
    metrics.extend(e.records);
    details.extend(e.details);
    let mnist = load(data("mnist-small"), &LoadOptions::default()).unwrap();
    let gan = registry::find("ganomaly").unwrap();
    let s = Settings::parse(&["epochs=1", "ngf=8", "ndf=8", "nz=16"]).unwrap();
    let loco = Plan::LeaveOneClassOut {
        anomaly_class: 1,
        options: LocoOptions::default(),
    };
    let e = evaluate(&gan, &s, &mnist, "mnist-small", 0, &loco).unwrap();
    metrics.extend(e.records);
    details.extend(e.details);
    details.push(Detail::Embedding(EmbeddingMap {
        dataset: "toy".into(),
        model: "deep-cluster".into(),
        seed: 0,
        method: "t-SNE".into(),
        xy: vec![0.0, 0.0, 1.0, 1.0, 0.5, 0.2],
        classes: vec![0, 1, 1],
        class_names: vec!["a".into(), "b".into()],
        clusters: vec![1, 0, 0],
    }));
    let run = RunClock::start()
        .finish(vec!["test".into()], vec![0], &[&data("odds/cardio.mat")])
        .unwrap();
    details.push(Detail::Run(run));
    let text: String = metrics
        .iter()
        .map(|m| serde_json::to_string(m).unwrap() + "\n")
        .collect();
    std::fs::write(&path, text).unwrap();
    append_details(&path, &details).unwrap();
    path
}

#[test]
fn report_has_every_section_and_every_image_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let path = results_file(dir.path());
    let results = Results::read(&path).unwrap();
    let out = dir.path().join("report");
    let written = build(&results, &path, &out).unwrap();
    assert_eq!(
        written.sections,
        vec![
            "provenance",
            "results",
            "curves",
            "histograms",
            "images",
            "embedding",
            "training"
        ]
    );
    let html = std::fs::read_to_string(&written.html).unwrap();
    for id in &written.sections {
        assert!(html.contains(&format!("id=\"{id}\"")), "section {id}");
    }
    for needle in [
        "roc_auc",
        "average_precision",
        "sha256",
        "most anomalous test images",
        "reconstruction G(x)",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    // The start time as a UTC date and time, next to the Unix time it came from.
    let started = results
        .details
        .iter()
        .find_map(|d| match d {
            Detail::Run(r) => Some(r.started_unix),
            _ => None,
        })
        .unwrap();
    let when = format!("{} (Unix time {started})", utc_date_time(started));
    assert!(html.contains(&when), "{when}");
    // Every embedded image is a decodable PNG.
    let mut n_images = 0;
    for part in html.split("src=\"data:image/png;base64,").skip(1) {
        let b64 = &part[..part.find('"').unwrap()];
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
        image::load_from_memory(&bytes).unwrap();
        n_images += 1;
    }
    // charts + 2 grids × 3 rows × 8 images
    assert!(
        n_images >= written.charts + 48,
        "{n_images} images, {} charts",
        written.charts
    );
    // Every linked file exists.
    for part in html.split("href=\"").skip(1) {
        let link = &part[..part.find('"').unwrap()];
        if !link.starts_with('#') {
            assert!(out.join(link).is_file(), "missing {link}");
        }
    }
    // ROC + PR per dataset (3), a histogram per run (3), 2 embedding maps, ≥ 3 training charts.
    assert!(written.charts >= 14, "{} charts", written.charts);
    let md = std::fs::read_to_string(&written.markdown).unwrap();
    assert!(md.contains("| cardio |") && md.contains("### roc_auc"), "{md}");
    let csv = std::fs::read_to_string(&written.csv).unwrap();
    assert!(csv.starts_with("dataset,model,metric,mean,sd,n,seconds_per_run\n"));
    assert_eq!(csv.lines().count(), 1 + 3 * 2, "{csv}");
}

#[test]
fn drawn_curves_agree_with_the_recorded_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let path = results_file(dir.path());
    let results = Results::read(&path).unwrap();
    let mut checked = 0;
    for d in &results.details {
        let Detail::Scores(s) = d else { continue };
        let flags: Vec<bool> = s.anomaly.iter().map(|&a| a == 1).collect();
        let metric = |name: &str| {
            results
                .metrics
                .iter()
                .find(|m| m.dataset == s.dataset && m.model == s.model && m.seed == s.seed && m.metric == name)
                .unwrap()
                .value
        };
        let roc = trapezoid(&plotted_points(CurveKind::Roc, &roc_curve(&flags, &s.scores).unwrap()));
        let pr = trapezoid(&plotted_points(CurveKind::Pr, &pr_curve(&flags, &s.scores).unwrap()));
        assert!((roc - metric("roc_auc")).abs() < 1e-12, "{}: {roc}", s.dataset);
        assert!((pr - metric("average_precision")).abs() < 1e-12, "{}: {pr}", s.dataset);
        assert_eq!(roc_auc(&flags, &s.scores).unwrap(), metric("roc_auc"));
        assert_eq!(
            average_precision(&flags, &s.scores).unwrap(),
            metric("average_precision")
        );
        checked += 1;
    }
    assert_eq!(checked, 3);
}

#[test]
fn a_metrics_only_file_still_gives_a_report_and_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.jsonl");
    std::fs::write(
        &path,
        "{\"dataset\":\"a\",\"model\":\"m\",\"seed\":0,\"metric\":\"roc_auc\",\"value\":0.8,\"seconds\":1.0}\n",
    )
    .unwrap();
    let written = build(&Results::read(&path).unwrap(), &path, &dir.path().join("r")).unwrap();
    assert_eq!(written.sections, vec!["provenance", "results"]);
    let html = std::fs::read_to_string(&written.html).unwrap();
    assert!(html.contains("metrics only") && html.contains("no run record"));
}

#[test]
fn sensitivity_curves_go_through_the_reference_and_reach_the_report() {
    use oddity::results::MetricRecord;
    use oddity::results::sensitivity::{curves, parse_variant};
    assert_eq!(
        parse_variant("dplan[a=1;b=x]"),
        Some(("dplan", vec![("a", "1"), ("b", "x")]))
    );
    assert_eq!(parse_variant("dplan"), None);
    assert_eq!(parse_variant("dplan[a]"), None);
    let rec = |dataset: &str, model: &str, seed: u64, value: f64| MetricRecord {
        dataset: dataset.into(),
        model: model.into(),
        seed,
        metric: "average_precision".into(),
        value,
        seconds: 1.0,
        category: None,
        defect: None,
    };
    let reference = "m[lr=0.001;scale=minmax]";
    let records = vec![
        rec("a", reference, 0, 0.5),
        rec("a", reference, 1, 0.7),
        rec("b", reference, 0, 0.2),
        rec("a", "m[lr=0.01]", 0, 0.9),
        rec("b", "m[lr=0.01]", 0, 0.4),
        rec("a", "m[lr=0.0001]", 0, 0.1),
        rec("b", "m[lr=0.0001]", 0, 0.3),
        rec("a", "m[scale=z]", 0, 0.8),
        // `c` lacks the reference: left out of the curves.
        rec("c", "m[lr=0.01]", 0, 1.0),
        rec("a", "other", 0, 0.0),
    ];
    let cs = curves(&records, "average_precision");
    assert_eq!(cs.len(), 2, "{cs:?}");
    let lr = &cs[0];
    assert_eq!((lr.base.as_str(), lr.key.as_str()), ("m", "lr"));
    // Numeric values in increasing order; the reference's position is kept.
    assert_eq!(lr.values, vec!["0.0001", "0.001", "0.01"]);
    assert_eq!(lr.reference, 1);
    assert_eq!(lr.datasets.len(), 2);
    // a: 0.1, 0.6 (mean of seeds), 0.9; b: 0.3, 0.2, 0.4.
    let want = [0.2, 0.4, 0.65];
    for (got, want) in lr.mean.iter().zip(want) {
        assert!((got - want).abs() < 1e-12, "{:?}", lr.mean);
    }
    assert_eq!(cs[1].key, "scale");
    assert_eq!(cs[1].values, vec!["minmax", "z"]);
    assert_eq!(cs[1].datasets.len(), 1);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sweep.jsonl");
    let lines: Vec<String> = records.iter().map(|r| serde_json::to_string(r).unwrap()).collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let written = build(&Results::read(&path).unwrap(), &path, &dir.path().join("r")).unwrap();
    assert!(written.sections.contains(&"sensitivity"), "{:?}", written.sections);
    let html = std::fs::read_to_string(&written.html).unwrap();
    assert!(html.contains("m average_precision vs lr"));
    assert!(
        dir.path()
            .join("r/plots/sensitivity-m-average-precision-lr.svg")
            .exists()
    );
}
