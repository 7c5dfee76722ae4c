//! Checks every metric against scikit-learn / scipy outputs stored in `tests/fixtures/metrics.json`
//! (written by `scripts/make_metric_fixtures.py`; see it for how the cases are drawn).
//!
//! Tolerance: 1e-9 absolute for every value, thresholds exactly. The brief allowed 1e-6 relative where float32
//! scores are involved, but it is not needed: the fixture stores each score as a decimal that maps back to the
//! same float32, and sklearn was given those same float32 values, so both sides rank identical numbers and get
//! identical tie groups and counts. AUC, AP and curve points are then ratios of integer counts computed in
//! f64, so they differ from sklearn only by summation order (~1e-16).

use oddity::Error;
use oddity::metrics::{ari, average_precision, clustering_accuracy, nmi, pr_curve, roc_auc, roc_curve};
use serde::Deserialize;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/metrics.json");
const TOL: f64 = 1e-9;

#[derive(Deserialize)]
struct Fixtures {
    ranking: Vec<RankingCase>,
    clustering: Vec<ClusteringCase>,
}

#[derive(Deserialize)]
struct RankingCase {
    name: String,
    labels: Vec<u8>,
    scores: Vec<f64>,
    roc_auc: f64,
    average_precision: f64,
    roc: Option<Roc>,
    pr: Option<Pr>,
}

/// sklearn's `roc_curve(drop_intermediate=False)`, without its leading `+inf` threshold.
#[derive(Deserialize)]
struct Roc {
    fpr: Vec<f64>,
    tpr: Vec<f64>,
    thresholds: Vec<f64>,
}

/// sklearn's `precision_recall_curve` (one threshold fewer than points).
#[derive(Deserialize)]
struct Pr {
    precision: Vec<f64>,
    recall: Vec<f64>,
    thresholds: Vec<f64>,
}

#[derive(Deserialize)]
struct ClusteringCase {
    name: String,
    truth: Vec<u32>,
    pred: Vec<u32>,
    acc: f64,
    nmi: f64,
    ari: f64,
}

impl RankingCase {
    fn labels(&self) -> Vec<bool> {
        self.labels.iter().map(|&l| l == 1).collect()
    }
    fn scores(&self) -> Vec<f32> {
        self.scores.iter().map(|&s| s as f32).collect()
    }
}

fn fixtures() -> Fixtures {
    let text = std::fs::read_to_string(FIXTURE).expect("read metrics fixture");
    serde_json::from_str(&text).expect("parse metrics fixture")
}

fn assert_close(what: &str, case: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= TOL,
        "{case}: {what} = {got}, sklearn {want} (diff {:e})",
        got - want
    );
}

fn assert_all_close(what: &str, case: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{case}: {what} length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert_close(&format!("{what}[{i}]"), case, g, w);
    }
}

fn thresholds_f32(values: &[f64]) -> Vec<f32> {
    values.iter().map(|&t| t as f32).collect()
}

#[test]
fn fixture_covers_the_planned_cases() {
    let f = fixtures();
    assert!(f.ranking.len() >= 20 && f.clustering.len() >= 20);
    let sizes: Vec<usize> = f.ranking.iter().map(|c| c.labels.len()).collect();
    assert!(sizes.contains(&2) && sizes.contains(&5000));
    // Heavy ties: some case has far fewer distinct scores than samples.
    assert!(f.ranking.iter().any(|c| {
        let mut s = c.scores();
        s.sort_by(f32::total_cmp);
        s.dedup_by(|a, b| a == b);
        c.labels.len() >= 1000 && s.len() <= 10
    }));
    assert!(f.ranking.iter().filter(|c| c.roc.is_some()).count() >= 10);
    assert!(f.clustering.iter().any(|c| c.truth.len() == 5000));
}

#[test]
fn roc_auc_and_average_precision_match_sklearn() {
    for case in fixtures().ranking {
        let (labels, scores) = (case.labels(), case.scores());
        assert_close("roc_auc", &case.name, roc_auc(&labels, &scores).unwrap(), case.roc_auc);
        let ap = average_precision(&labels, &scores).unwrap();
        assert_close("average_precision", &case.name, ap, case.average_precision);
    }
}

#[test]
fn roc_curve_matches_sklearn() {
    let mut checked = 0;
    for case in fixtures().ranking {
        let Some(want) = &case.roc else { continue };
        let c = roc_curve(&case.labels(), &case.scores()).unwrap();
        assert_eq!(c.thresholds.first(), Some(&f32::INFINITY), "{}", case.name);
        assert_eq!(c.thresholds[1..], thresholds_f32(&want.thresholds)[..], "{}", case.name);
        assert_all_close("fpr", &case.name, &c.x, &want.fpr);
        assert_all_close("tpr", &case.name, &c.y, &want.tpr);
        checked += 1;
    }
    assert!(checked >= 10);
}

#[test]
fn pr_curve_matches_sklearn() {
    let mut checked = 0;
    for case in fixtures().ranking {
        let Some(want) = &case.pr else { continue };
        let c = pr_curve(&case.labels(), &case.scores()).unwrap();
        // Ours has one more threshold: +inf for the final (recall 0, precision 1) point.
        assert_eq!(c.thresholds.last(), Some(&f32::INFINITY), "{}", case.name);
        assert_eq!(
            c.thresholds[..c.thresholds.len() - 1],
            thresholds_f32(&want.thresholds)[..],
            "{}",
            case.name
        );
        assert_all_close("recall", &case.name, &c.x, &want.recall);
        assert_all_close("precision", &case.name, &c.y, &want.precision);
        checked += 1;
    }
    assert!(checked >= 10);
}

#[test]
fn trapezoid_area_under_roc_curve_equals_roc_auc() {
    for case in fixtures().ranking {
        let (labels, scores) = (case.labels(), case.scores());
        let area = roc_curve(&labels, &scores).unwrap().trapezoid_area();
        assert_close("trapezoid area", &case.name, area, roc_auc(&labels, &scores).unwrap());
        assert_close("trapezoid area vs sklearn AUC", &case.name, area, case.roc_auc);
    }
}

#[test]
fn step_sum_under_pr_curve_equals_average_precision() {
    for case in fixtures().ranking {
        let (labels, scores) = (case.labels(), case.scores());
        let c = pr_curve(&labels, &scores).unwrap();
        // sklearn: -Σ diff(recall) · precision[:-1]
        let steps: f64 = c.x.windows(2).zip(&c.y).map(|(r, p)| (r[0] - r[1]) * p).sum();
        assert_close("PR step sum", &case.name, steps, case.average_precision);
    }
}

#[test]
fn clustering_metrics_match_sklearn() {
    for case in fixtures().clustering {
        let (t, p) = (&case.truth, &case.pred);
        assert_close("acc", &case.name, clustering_accuracy(t, p).unwrap(), case.acc);
        assert_close("nmi", &case.name, nmi(t, p).unwrap(), case.nmi);
        assert_close("ari", &case.name, ari(t, p).unwrap(), case.ari);
    }
}

#[test]
fn fixture_inputs_with_one_class_are_rejected() {
    // Drop all negatives from a real fixture case: sklearn raises for AUC; we raise for all four.
    let case = &fixtures().ranking[5];
    let (labels, scores): (Vec<bool>, Vec<f32>) =
        case.labels().into_iter().zip(case.scores()).filter(|(l, _)| *l).unzip();
    assert!(!labels.is_empty());
    assert!(matches!(roc_auc(&labels, &scores), Err(Error::InvalidData(_))));
    assert!(matches!(
        average_precision(&labels, &scores),
        Err(Error::InvalidData(_))
    ));
}
