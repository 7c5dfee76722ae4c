#!/usr/bin/env python3
"""Reference numbers for oddity's Isolation Forest tests, computed with scikit-learn.

Run from anywhere: `python3 scripts/iforest_reference.py`. On first use it creates its own
virtual environment in `scripts/.venv` (numpy + scikit-learn) and re-runs itself there.

It prints
  1. expected scores (the mean over 20,000 trees, so the forest's randomness averages out) of
     sklearn's IsolationForest on the 16 x 3 toy set `TOY` for several configurations; the Rust
     test `matches_sklearn_expected_scores` in crates/oddity/tests/iforest.rs holds these values;
  2. ROC-AUC of sklearn's IsolationForest (20 seeds) on the synthetic set that the Rust test
     `synthetic_quality_matches_sklearn` generates with the same SplitMix64 stream, so both see
     the identical data.
"""
import math
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"


def ensure_venv():
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV)])
        subprocess.check_call([str(py), "-m", "pip", "install", "-q", "numpy", "scikit-learn"])
    os.execv(str(py), [str(py), *sys.argv])


# 16 x 3 toy set: a cluster, a duplicated row, a mostly constant third column and two outliers.
TOY = [
    [0.0, 0.0, 1.0], [0.1, -0.2, 1.0], [-0.3, 0.1, 1.0], [0.2, 0.3, 1.0],
    [-0.1, -0.1, 1.0], [0.4, -0.3, 1.0], [-0.2, 0.4, 1.0], [0.3, 0.1, 1.0],
    [0.0, 0.5, 2.0], [-0.4, -0.4, 1.0], [0.5, 0.0, 1.0], [0.1, 0.1, 1.0],
    [0.1, 0.1, 1.0], [3.0, 3.0, 1.0], [-2.0, 0.5, 5.0], [0.2, -0.1, 1.0],
]
# Points scored but not trained on.
QUERIES = [[0.0, 0.0, 1.0], [10.0, 10.0, 10.0], [0.25, 0.25, 1.5], [-1.0, 0.2, 1.0]]

CONFIGS = {
    "default": {},
    "max_samples_8": {"max_samples": 8},
    "max_features_half": {"max_features": 0.5},
    "bootstrap": {"bootstrap": True},
}

MASK = (1 << 64) - 1


class SplitMix64:
    """SplitMix64 (Steele, Lea, Flood 2014); mirrored by the Rust test."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):  # [0, 1)
        return (self.next_u64() >> 11) * (1.0 / (1 << 53))

    def normal(self):  # Box-Muller, cosine branch only
        u1 = 1.0 - self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def synthetic(seed=20240601, n_normal=1000, n_outlier=50, d=6, box=3.5):
    """Gaussian normals N(0, I) followed by outliers uniform in [-box, box]^d."""
    import numpy as np

    g = SplitMix64(seed)
    rows = [[g.normal() for _ in range(d)] for _ in range(n_normal)]
    rows += [[box * (2.0 * g.uniform() - 1.0) for _ in range(d)] for _ in range(n_outlier)]
    x = np.array(rows, dtype=np.float64).astype(np.float32)
    y = np.array([0] * n_normal + [1] * n_outlier)
    return x, y


def main():
    ensure_venv()
    import numpy as np
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score

    x = np.array(TOY, dtype=np.float32)
    q = np.array(QUERIES, dtype=np.float32)
    print("# 1. expected scores, sklearn IsolationForest(n_estimators=20000)")
    for name, kw in CONFIGS.items():
        runs = []
        for seed in range(3):
            f = IsolationForest(n_estimators=20000, random_state=seed, **kw).fit(x)
            runs.append(-f.score_samples(np.vstack([x, q])))
        runs = np.array(runs)
        mean = runs.mean(axis=0)
        spread = runs.max(axis=0) - runs.min(axis=0)
        print(f"{name}: max spread over 3 seeds = {spread.max():.5f}")
        print("    [" + ", ".join(f"{v:.4f}" for v in mean) + "],")

    print("\n# 2. synthetic set (SplitMix64 seed 20240601): sklearn ROC-AUC over 20 seeds")
    xs, ys = synthetic()
    print(f"x[0] = {xs[0].tolist()}, x[1000] = {xs[1000].tolist()}")
    aucs = [roc_auc_score(ys, -IsolationForest(random_state=s).fit(xs).score_samples(xs)) for s in range(20)]
    aucs = np.array(aucs)
    print(f"mean {aucs.mean():.4f}  std {aucs.std():.4f}  min {aucs.min():.4f}  max {aucs.max():.4f}")
    # Context: what a far weaker detector scores (distance to the mean, a near-optimal rule here).
    dist = np.linalg.norm(xs - xs.mean(axis=0), axis=1)
    print(f"distance-to-mean ROC-AUC {roc_auc_score(ys, dist):.4f}")


if __name__ == "__main__":
    main()
