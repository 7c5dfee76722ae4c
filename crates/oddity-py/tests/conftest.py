"""Shared fixtures: real data shipped in the repository's data/ folder, fast model settings, and
the `oddity` CLI binary for the model-exchange tests."""

import gzip
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import oddity

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "data"

#: Small budgets so the whole suite runs in well under two minutes on two cores.
FAST = {
    oddity.IForest: {},
    oddity.DevNet: dict(epochs=20, batches_per_epoch=5, batch_size=128),
    oddity.DeepSAD: dict(ae_epochs=10, epochs=10, ae_lr_milestones=(), lr_milestones=()),
    oddity.REPEN: dict(epochs=10, ensemble_size=10, batches_per_epoch=5),
    oddity.DPLAN: dict(
        episodes=2,
        steps_per_episode=300,
        warmup_steps=200,
        epsilon_steps=400,
        target_update=200,
        sample_size=200,
        memory_size=2000,
    ),
    oddity.DeepCluster: dict(
        arch="mlp", mlp_hidden=(32, 32, 64), pretrain_epochs=3, maxiter=300, n_init=2, n_clusters=3, update_interval=20
    ),
    oddity.GANomaly: dict(epochs=5, ngf=16, ndf=16, nz=32, batch_size=16, bn_at_score="batch"),
}
TABULAR = [c for c in FAST if c is not oddity.GANomaly]
ALL = list(FAST)


def auc(truth, scores):
    """ROC-AUC by the rank-sum formula (ties get average ranks)."""
    truth = np.asarray(truth).astype(bool)
    order = np.argsort(scores, kind="mergesort")
    s = np.asarray(scores)[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    npos, nneg = truth.sum(), (~truth).sum()
    return (ranks[truth].sum() - npos * (npos + 1) / 2) / (npos * nneg)


@pytest.fixture(scope="session")
def cardio():
    """ODDS cardio via ADBench (data/adbench/6_cardio.npz): 1,831 x 21, 176 anomalies. Returns
    X (float32), truth (0/1) and partial labels y: 30 known anomalies, everything else 0."""
    z = np.load(DATA / "adbench" / "6_cardio.npz")
    X, truth = z["X"].astype(np.float32), z["y"].astype(int)
    assert X.shape == (1831, 21) and truth.sum() == 176
    y = np.zeros(len(X), dtype=int)
    y[np.random.default_rng(0).choice(np.flatnonzero(truth), 30, replace=False)] = 1
    return X, truth, y


def _idx(path, offset):
    return np.frombuffer(gzip.open(path).read(), np.uint8, offset=offset)


@pytest.fixture(scope="session")
def mnist():
    """MNIST subset (data/mnist-small): train images [1000, 28, 28] in [0, 1] (as the Rust IDX
    loader scales them) with digit labels, and the 500 test images with labels."""
    d = DATA / "mnist-small"
    scale = np.float32(255)
    tr = _idx(d / "train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28).astype(np.float32) / scale
    te = _idx(d / "t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28).astype(np.float32) / scale
    trl = _idx(d / "train-labels-idx1-ubyte.gz", 8)
    tel = _idx(d / "t10k-labels-idx1-ubyte.gz", 8)
    assert tr.shape == (1000, 28, 28) and te.shape == (500, 28, 28)
    assert np.bincount(trl).tolist()[:3] == [97, 116, 99]
    return tr, trl, te, tel


def data_for(cls, cardio, mnist):
    """(X to fit, y to fit) for a class: MNIST digit-0 training images for GANomaly, cardio else."""
    if cls is oddity.GANomaly:
        tr, trl, _, _ = mnist
        return tr[trl == 0], None
    X, _, y = cardio
    return X, (y if cls._kind in oddity.WEAKLY_SUPERVISED else None)


@pytest.fixture(scope="session")
def cli():
    """The `oddity` CLI binary: $ODDITY_BIN (set by scripts/python-tests; must exist), else
    target/debug/oddity under $CARGO_TARGET_DIR or the repository; the exchange tests skip
    only when neither is set nor found."""
    env = os.environ.get("ODDITY_BIN")
    if env:
        assert Path(env).is_file(), f"ODDITY_BIN={env} does not exist"
        return env
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    for p in (target / "debug" / "oddity", target / "release" / "oddity", shutil.which("oddity")):
        if p and Path(p).is_file():
            return str(p)
    pytest.skip("oddity CLI binary not found (build it or set ODDITY_BIN)")


@pytest.fixture(scope="session")
def fitted(cardio, mnist):
    """One detector per class fitted with seed 0 (fitting is the slow part; tests share them)."""
    out = {}
    for cls in ALL:
        X, y = data_for(cls, cardio, mnist)
        out[cls] = (cls(random_state=0, **FAST[cls]).fit(X, y), X)
    return out
