#!/usr/bin/env python3
"""oddity's Isolation Forest against scikit-learn's: quality (ROC-AUC) and speed.

Usage (from the repository root):

    python3 bench/iforest_vs_sklearn.py                 # scikit-learn half only
    python3 bench/iforest_vs_sklearn.py --oddity        # also run target/release/oddity

On first use the script creates its own virtual environment in `bench/.venv` (numpy,
scikit-learn, scipy, h5py) and re-runs itself there.

(a) Quality: for every `odds/*.mat` under `--data-dir` (default `../shared/data` from the
    repository root), the mean ROC-AUC over `--seeds` seeds (0, 1, ...) of
    `IsolationForest(random_state=s)` fitted and scored on the whole set, and of
    `oddity eval --model iforest --data FILE --seed S --json`, which prints JSON lines
    `{"dataset","model","seed","metric":"roc_auc","value","seconds"}`. Differences above 0.01
    are flagged with `!`.
(b) Speed: fit + score on ADBench `adbench/Classical/32_shuttle.npz` and on a synthetic
    1,000,000 x 16 float32 set (`np.random.default_rng(0).standard_normal((1_000_000, 16))`).
    scikit-learn runs with `n_jobs=--jobs` for fitting and a threading joblib backend of the same
    size for scoring. oddity: both sets through `oddity eval --json`; the
    synthetic set is written to a temporary `.npz` with labels (the 1% of rows with the largest
    norm) so that it runs through `oddity eval` too. Reported for oddity: the fit + score seconds
    that `eval` measures (data in memory, as for sklearn) and the wall clock of the command.
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import shared_venv

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ["numpy", "scikit-learn", "scipy", "h5py"]


def load_mat(path):
    """ODDS .mat: MATLAB v5 through scipy, v7.3 (HDF5, e.g. smtp.mat) through h5py."""
    import numpy as np
    import scipy.io

    try:
        m = scipy.io.loadmat(path)
        x, y = m["X"], m["y"]
    except NotImplementedError:
        import h5py

        with h5py.File(path, "r") as f:
            x, y = f["X"][()].T, f["y"][()].T
    return np.asarray(x, dtype=np.float32), np.asarray(y).ravel().astype(int)


def sklearn_auc(x, y, seed):
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score

    f = IsolationForest(random_state=seed).fit(x)
    return roc_auc_score(y, -f.score_samples(x))


def run_oddity(cmd):
    t = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return out, time.perf_counter() - t


def oddity_auc(binary, path, seed):
    out, _ = run_oddity([str(binary), "eval", "--model", "iforest", "--data", str(path), "--seed", str(seed), "--json"])
    for line in out.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        rec = json.loads(line)
        if rec.get("metric") == "roc_auc" and rec.get("model", "iforest") == "iforest":
            return float(rec["value"])
    raise RuntimeError(f"no roc_auc line in oddity output for {path}:\n{out}")


def quality(args, binary):
    import numpy as np

    files = sorted((args.data_dir / "odds").glob("*.mat"))
    if not files:
        print(f"no odds/*.mat under {args.data_dir}")
        return
    seeds = range(args.seeds)
    print(f"\n(a) ROC-AUC, mean over seeds {list(seeds)}; '!' marks |diff| > 0.01, '~' that the")
    print("    difference is nonetheless within 3 standard errors of the two means (seed noise:")
    print("    Isolation Forest's ROC-AUC varies by up to ~0.05 between seeds on some sets)")
    print(f"{'dataset':<14}{'n':>8}{'d':>5}{'sklearn':>10}{'oddity':>10}{'diff':>9}{'3 se':>8}")
    for path in files:
        x, y = load_mat(path)
        sk = np.array([sklearn_auc(x, y, s) for s in seeds])
        head = f"{path.stem:<14}{x.shape[0]:>8}{x.shape[1]:>5}{sk.mean():>10.4f}"
        if binary is None:
            print(f"{head}{'-':>10}{'-':>9}{'-':>8}", flush=True)
            continue
        od = np.array([oddity_auc(binary, path, s) for s in seeds])
        diff = od.mean() - sk.mean()
        se3 = 3 * np.sqrt((sk.var(ddof=1) + od.var(ddof=1)) / len(sk)) if len(sk) > 1 else float("nan")
        flag = (" !" + (" ~" if abs(diff) <= se3 else "")) if abs(diff) > 0.01 else ""
        print(f"{head}{od.mean():>10.4f}{diff:>+9.4f}{se3:>8.4f}{flag}", flush=True)


def sklearn_time(x, jobs):
    from joblib import parallel_config
    from sklearn.ensemble import IsolationForest

    t = time.perf_counter()
    f = IsolationForest(random_state=0, n_jobs=jobs).fit(x)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    with parallel_config(backend="threading", n_jobs=jobs):
        f.score_samples(x)
    return fit_s, time.perf_counter() - t


def oddity_eval_seconds(binary, path):
    """`oddity eval --json`: (fit + score seconds reported by oddity, wall clock of the whole command)."""
    out, wall = run_oddity([str(binary), "eval", "--model", "iforest", "--data", str(path), "--seed", "0", "--json"])
    recs = [json.loads(l) for l in out.splitlines() if l.strip().startswith("{")]
    return recs[0]["seconds"], wall


def speed(args, binary):
    import numpy as np

    print(f"\n(b) speed, seconds (scikit-learn with {args.jobs} jobs). 'oddity' = fit + score as timed inside")
    print("    `oddity eval` (like sklearn's: data already in memory); 'cli' = wall clock of the whole command,")
    print("    including process start, reading the file and the AUC computation.")
    print(f"{'data':<22}{'sk fit':>9}{'sk score':>10}{'sk total':>10}{'oddity':>9}{'ratio':>8}{'cli':>8}{'ratio':>8}")

    def report(name, sk, od):
        total = sk[0] + sk[1]
        if od is None:
            print(f"{name:<22}{sk[0]:>9.3f}{sk[1]:>10.3f}{total:>10.3f}{'-':>9}{'-':>8}{'-':>8}{'-':>8}", flush=True)
        else:
            inner, wall = od
            print(f"{name:<22}{sk[0]:>9.3f}{sk[1]:>10.3f}{total:>10.3f}{inner:>9.3f}{total / inner:>7.1f}x"
                  f"{wall:>8.3f}{total / wall:>7.1f}x", flush=True)

    shuttle = args.data_dir / "adbench" / "Classical" / "32_shuttle.npz"
    if shuttle.exists():
        z = np.load(shuttle)
        x = np.asarray(z["X"], dtype=np.float32)
        sk = sklearn_time(x, args.jobs)
        od = oddity_eval_seconds(binary, shuttle) if binary is not None else None
        report(f"shuttle {x.shape[0]}x{x.shape[1]}", sk, od)
    else:
        print(f"(no {shuttle})")

    if args.skip_big:
        return
    x = np.random.default_rng(0).standard_normal((1_000_000, 16)).astype(np.float32)
    sk = sklearn_time(x, args.jobs)
    od = None
    if binary is not None:
        # Labels only so that `oddity eval` can run: the 1% of rows farthest from the origin.
        norm = np.linalg.norm(x, axis=1)
        y = (norm > np.quantile(norm, 0.99)).astype(np.int64)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "synthetic.npz"
            np.savez(path, X=x, y=y)
            od = oddity_eval_seconds(binary, path)
    report("synthetic 1000000x16", sk, od)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--oddity", nargs="?", const=REPO / "target" / "release" / "oddity", default=None, type=Path,
                   help="also run oddity (binary path, default target/release/oddity)")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--skip-quality", action="store_true")
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--skip-big", action="store_true", help="skip the 1,000,000 x 16 synthetic timing")
    args = p.parse_args()
    shared_venv.ensure('sklearn, scipy, h5py, numpy', PACKAGES)
    import sklearn

    print(f"scikit-learn {sklearn.__version__}; data from {args.data_dir}")
    binary = args.oddity
    if binary is not None and not binary.exists():
        sys.exit(f"{binary} not found: build it with `cargo build --release` or pass --oddity PATH")
    if not args.skip_quality:
        quality(args, binary)
    if not args.skip_speed:
        speed(args, binary)


if __name__ == "__main__":
    main()
