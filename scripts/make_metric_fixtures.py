#!/usr/bin/env python3
"""Write crates/oddity/tests/fixtures/metrics.json: seeded random inputs with scikit-learn's / scipy's outputs.

Usage (from anywhere):  python3 scripts/make_metric_fixtures.py

On first run this creates scripts/.venv (gitignored) and installs numpy, scikit-learn and scipy into it, then
re-runs itself with that interpreter. The Rust test crates/oddity/tests/metrics_sklearn.rs checks every case,
so the Rust tests never need Python.

Ranking cases: labels (0/1) and float32 scores. Every score is written as the shortest decimal that maps back
to the same float32 through float64 (what serde_json + `as f32` does in Rust), and sklearn is given exactly
those float32 values, so both sides rank identical numbers. Curves are stored only for cases with few
distinct scores, to keep the file small; roc thresholds are stored without sklearn's leading +inf.

Clustering cases: truth / pred as u32 labels; ACC via scipy.optimize.linear_sum_assignment on the
contingency table (as the DEC/IDEC `cluster_acc`), NMI / ARI via sklearn.
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(HERE, ".venv")
VENV_PY = os.path.join(VENV, "bin", "python")
OUT = os.path.join(os.path.dirname(HERE), "crates", "oddity", "tests", "fixtures", "metrics.json")
SEED = 20240917
MAX_CURVE_POINTS = 120


def ensure_venv():
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(VENV_PY):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([VENV_PY, "-m", "pip", "install", "-q", "numpy", "scikit-learn", "scipy"])
    os.execv(VENV_PY, [VENV_PY, os.path.abspath(__file__)] + sys.argv[1:])


ensure_venv()

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import sklearn  # noqa: E402
from scipy.optimize import linear_sum_assignment  # noqa: E402
from sklearn import metrics as skm  # noqa: E402
from sklearn.metrics.cluster import contingency_matrix  # noqa: E402

rng = np.random.default_rng(SEED)


def f32_list(values):
    """float32 array -> list of Python floats whose JSON repr is the shortest float32 decimal."""
    out = []
    for x in np.asarray(values, dtype=np.float32):
        short = float(str(x))  # numpy prints the shortest float32 repr; keeps -0.0
        assert np.float32(short) == x, (x, short)  # float64 parse then cast to f32 gives x back
        out.append(short)
    return out


def f32_exact(values):
    return np.asarray(f32_list(values), dtype=np.float64).astype(np.float32)


def make_labels(n, frac_pos):
    y = rng.random(n) < frac_pos
    # Both classes must be present.
    if not y.any():
        y[rng.integers(n)] = True
    if y.all():
        y[rng.integers(n)] = False
    return y


def make_scores(y, kind):
    n = y.size
    signal = rng.normal(size=n) + 1.2 * y
    if kind == "continuous":
        s = signal
    elif kind == "decimals1":  # heavy ties: one decimal place
        s = np.round(signal, 1)
    elif kind == "levels3":  # very heavy ties: four integer levels
        s = np.clip(np.round(signal), -1, 2)
    elif kind == "binary":
        s = (signal > 0.6).astype(np.float64)
    elif kind == "constant":
        s = np.full(n, 0.25)
    elif kind == "large":  # large magnitudes, negatives and exact ties
        s = np.round(signal * 1e5) * 64.0
    elif kind == "tiny":
        s = signal * 1e-30
    elif kind == "zeros_signed":  # -0.0 and +0.0 must tie
        s = np.where(signal > 0.5, 1.0, np.where(rng.random(n) < 0.5, -0.0, 0.0))
    elif kind == "reversed":
        s = -signal
    else:
        raise ValueError(kind)
    return f32_exact(s)


def ranking_case(name, y, s):
    case = {
        "name": name,
        "labels": [int(v) for v in y],
        "scores": f32_list(s),
        "roc_auc": float(skm.roc_auc_score(y, s)),
        "average_precision": float(skm.average_precision_score(y, s)),
    }
    fpr, tpr, thr = skm.roc_curve(y, s, drop_intermediate=False)
    if fpr.size <= MAX_CURVE_POINTS:
        assert np.isinf(thr[0])
        case["roc"] = {"fpr": [float(v) for v in fpr], "tpr": [float(v) for v in tpr], "thresholds": f32_list(thr[1:])}
        prec, rec, pthr = skm.precision_recall_curve(y, s)
        case["pr"] = {
            "precision": [float(v) for v in prec],
            "recall": [float(v) for v in rec],
            "thresholds": f32_list(pthr),
        }
    return case


def cluster_acc(truth, pred):
    w = contingency_matrix(truth, pred)
    rows, cols = linear_sum_assignment(w, maximize=True)
    return float(w[rows, cols].sum()) / truth.size


def clustering_case(name, truth, pred):
    truth = np.asarray(truth, dtype=np.int64)
    pred = np.asarray(pred, dtype=np.int64)
    assert truth.min() >= 0 and max(truth.max(), pred.max()) < 2**32
    return {
        "name": name,
        "truth": [int(v) for v in truth],
        "pred": [int(v) for v in pred],
        "acc": cluster_acc(truth, pred),
        "nmi": float(skm.normalized_mutual_info_score(truth, pred)),
        "ari": float(skm.adjusted_rand_score(truth, pred)),
    }


def noisy_clustering(truth, k_pred, noise):
    """Relabel truth onto k_pred clusters in random order (merging or splitting classes), then reassign a
    fraction `noise` of the samples to random clusters."""
    classes, idx = np.unique(truth, return_inverse=True)
    k = classes.size
    perm = rng.permutation(k_pred)
    if k_pred >= k:
        home, spare = perm[:k], perm[k:]
    else:
        home, spare = perm[np.arange(k) % k_pred], perm[:0]  # several classes share a cluster
    pred = home[idx]
    if spare.size:  # part of each class splits off into a spare cluster
        split = rng.random(truth.size) < 0.3
        pred[split] = spare[idx[split] % spare.size]
    flip = rng.random(truth.size) < noise
    pred[flip] = rng.integers(k_pred, size=flip.sum())
    return pred


def ranking_cases():
    cases = []
    cases.append(ranking_case("two_samples", np.array([False, True]), f32_exact([0.3, 0.7])))
    cases.append(ranking_case("two_samples_tied", np.array([True, False]), f32_exact([0.5, 0.5])))
    cases.append(ranking_case("three_reversed", np.array([True, False, False]), f32_exact([0.1, 0.2, 0.3])))
    plan = [
        (5, 0.5, "continuous"),
        (10, 0.3, "continuous"),
        (20, 0.5, "decimals1"),
        (37, 0.1, "levels3"),
        (50, 0.5, "binary"),
        (64, 0.2, "constant"),
        (100, 0.05, "continuous"),
        (100, 0.5, "reversed"),
        (150, 0.3, "zeros_signed"),
        (200, 0.1, "tiny"),
        (500, 0.02, "decimals1"),
        (500, 0.5, "large"),
        (1000, 0.1, "levels3"),
        (1000, 0.3, "continuous"),
        (2000, 0.01, "decimals1"),
        (3000, 0.5, "binary"),
        (5000, 0.05, "decimals1"),
        (5000, 0.002, "levels3"),
    ]
    for n, frac, kind in plan:
        y = make_labels(n, frac)
        cases.append(ranking_case(f"n{n}_pos{frac}_{kind}", y, make_scores(y, kind)))
    return cases


def clustering_cases():
    cases = []
    cases.append(clustering_case("one_sample", [3], [5]))
    cases.append(clustering_case("two_samples_split", [0, 0], [0, 1]))
    cases.append(clustering_case("two_samples_merged", [0, 1], [4, 4]))
    cases.append(clustering_case("single_cluster_both", [2] * 30, [7] * 30))
    truth = rng.integers(3, size=40)
    cases.append(clustering_case("single_cluster_pred", truth, np.zeros(40, dtype=np.int64)))
    cases.append(clustering_case("single_class_truth", np.zeros(40, dtype=np.int64), rng.integers(4, size=40)))
    cases.append(clustering_case("all_singletons_pred", truth, rng.permutation(40)))
    cases.append(clustering_case("permuted_exact", truth, (truth + 1) % 3 * 1000 + 17))
    big = np.array([0, 7, 4_000_000_000, 123_456])
    cases.append(clustering_case("large_label_values", rng.integers(3, size=60), big[rng.integers(4, size=60)]))
    plan = [
        # n, classes, clusters, noise
        (10, 2, 2, 0.3),
        (25, 3, 5, 0.2),
        (50, 5, 3, 0.1),
        (100, 4, 4, 0.0),
        (100, 10, 10, 0.5),
        (300, 3, 8, 0.25),
        (500, 8, 4, 0.2),
        (1000, 10, 10, 0.3),
        (1000, 2, 20, 0.1),
        (2000, 20, 2, 0.05),
        (5000, 10, 12, 0.4),
        (5000, 6, 6, 1.0),  # unrelated labellings: NMI, ARI near 0
    ]
    for n, k_true, k_pred, noise in plan:
        weights = rng.dirichlet(np.ones(k_true) * 2.0)  # imbalanced class sizes
        truth = rng.choice(k_true, size=n, p=weights)
        pred = noisy_clustering(truth, k_pred, noise)
        cases.append(clustering_case(f"n{n}_k{k_true}_c{k_pred}_noise{noise}", truth, pred))
    return cases


def main():
    data = {
        "generator": "scripts/make_metric_fixtures.py",
        "seed": SEED,
        "versions": {"numpy": np.__version__, "scikit-learn": sklearn.__version__, "scipy": scipy.__version__},
        "ranking": ranking_cases(),
        "clustering": clustering_cases(),
    }
    text = json.dumps(data, separators=(",", ":"))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write(text + "\n")
    print(f"wrote {os.path.relpath(OUT, os.path.dirname(HERE))}: {len(text) / 1024:.0f} KiB, "
          f"{len(data['ranking'])} ranking + {len(data['clustering'])} clustering cases")


if __name__ == "__main__":
    main()
