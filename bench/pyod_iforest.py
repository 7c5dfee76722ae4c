#!/usr/bin/env python3
"""PyOD's IForest vs oddity's IForest on ODDS sets: ROC-AUC and fit + score time.

    bench/pyod_iforest.py [--odds DIR] [--seeds N] [--out docs/bench/python-vs-pyod.md]

Needs a virtualenv with pyod, scikit-learn, scipy, h5py (smtp is MATLAB v7.3) and oddity installed
as a release build (`pip install crates/oddity-py`); `bench/pyod-setup` makes one in bench/.venv.
Both detectors use their defaults (100 trees, 256 samples per tree, contamination 0.1), are fitted
on all samples and score the same samples (the ODDS protocol). Times are wall-clock seconds of
fit() + decision_function(), the median over seeds.
"""

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

DATASETS = ["cardio", "thyroid", "annthyroid", "mammography", "satellite", "pendigits", "shuttle", "smtp"]


def load_mat(path):
    try:
        from scipy.io import loadmat

        m = loadmat(path)
        return np.asarray(m["X"], dtype=np.float64), np.asarray(m["y"]).ravel().astype(int)
    except NotImplementedError:  # MATLAB v7.3 = HDF5, stored transposed
        import h5py

        with h5py.File(path, "r") as f:
            return np.asarray(f["X"], dtype=np.float64).T, np.asarray(f["y"]).ravel().astype(int)


def timed(make, X):
    t = time.perf_counter()
    det = make().fit(X)
    s = det.decision_function(X)
    return s, time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--odds", default="/work/shared/data/odds")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--out", default=None)
    a = ap.parse_args()

    import oddity
    import pyod
    import sklearn
    from pyod.models.iforest import IForest as PyodIForest
    from sklearn.metrics import roc_auc_score

    rows = []
    for name in a.datasets.split(","):
        X, y = load_mat(os.path.join(a.odds, f"{name}.mat"))
        res = {k: ([], []) for k in ("pyod1", "pyod2", "oddity")}
        for seed in range(a.seeds):
            makers = {
                "pyod1": lambda: PyodIForest(random_state=seed, n_jobs=1),
                "pyod2": lambda: PyodIForest(random_state=seed, n_jobs=2),
                "oddity": lambda: oddity.IForest(random_state=seed),
            }
            for k, make in makers.items():
                s, t = timed(make, X)
                res[k][0].append(roc_auc_score(y, s))
                res[k][1].append(t)
        row = (name, X.shape[0], X.shape[1], int(y.sum()), res)
        rows.append(row)
        print(
            f"{name:12s} n={X.shape[0]:6d} d={X.shape[1]:3d}  "
            + "  ".join(f"{k} AUC {statistics.mean(v[0]):.3f} {statistics.median(v[1]):.3f}s" for k, v in res.items()),
            flush=True,
        )

    lines = [
        "| dataset | n | d | anomalies | PyOD AUC | oddity AUC | PyOD fit+score s (n_jobs=1) | PyOD s (n_jobs=2) | oddity s | speed-up vs n_jobs=1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, n, d, na, res in rows:
        auc = {k: statistics.mean(v[0]) for k, v in res.items()}
        sd = {k: statistics.pstdev(v[0]) for k, v in res.items()}
        t = {k: statistics.median(v[1]) for k, v in res.items()}
        lines.append(
            f"| {name} | {n} | {d} | {na} | {auc['pyod1']:.3f} ± {sd['pyod1']:.3f} | {auc['oddity']:.3f} ± {sd['oddity']:.3f} "
            f"| {t['pyod1']:.3f} | {t['pyod2']:.3f} | {t['oddity']:.3f} | {t['pyod1'] / t['oddity']:.1f}x |"
        )
    table = "\n".join(lines)
    env = (
        f"Python {platform.python_version()}, pyod {pyod.__version__}, scikit-learn {sklearn.__version__}, "
        f"numpy {np.__version__}, oddity {oddity.__version__} (release build); {os.cpu_count()} CPUs (a compile job ran on one of them during the run)"
    )
    print(table)
    if a.out:
        with open(a.out, "w") as f:
            f.write(
                "# oddity.IForest vs pyod.models.iforest.IForest\n\n"
                "Same machine, same data, both with their defaults (100 trees, 256 samples per tree,\n"
                "contamination 0.1); fit on all samples, score the same samples, ROC-AUC against the\n"
                f"ODDS labels. Mean ± sd over {a.seeds} seeds (0..{a.seeds - 1}); times are the median wall-clock\n"
                "seconds of `fit(X)` + `decision_function(X)`. PyOD's IForest is scikit-learn's\n"
                "IsolationForest; PyOD AUC is the same for n_jobs=1 and 2. oddity uses every core (rayon).\n\n"
                f"Command: `bench/pyod-setup && bench/.venv/bin/python bench/pyod_iforest.py --seeds {a.seeds} --out docs/bench/python-vs-pyod.md`\n\n"
                f"{env}\n\n{table}\n"
            )


if __name__ == "__main__":
    sys.exit(main())
