"""Model exchange with the `oddity` CLI: a model fitted in Python scores identically with
`oddity score --model-dir`, a model fitted with `oddity fit` loads in Python, and the same seed
gives the same numbers on both sides."""

import csv
import gzip
import json
import struct
import subprocess

import numpy as np
import pytest

import oddity
from conftest import ALL, FAST, data_for


def write_csv(path, X, labels):
    """Features as the shortest decimal of each float32 (both sides parse the same f32) + label."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"f{i}" for i in range(X.shape[1])] + ["label"])
        for row, lab in zip(X.astype(np.float32).tolist(), labels):
            w.writerow([repr(v) for v in row] + [int(lab)])


def write_idx(directory, train_u8, test_u8):
    """An MNIST-format folder (gzip IDX files) holding the given uint8 images; labels are zeros."""
    directory.mkdir()
    for split, imgs in (("train", train_u8), ("t10k", test_u8)):
        n, h, w = imgs.shape
        with gzip.open(directory / f"{split}-images-idx3-ubyte.gz", "wb") as f:
            f.write(struct.pack(">IIII", 0x803, n, h, w) + imgs.tobytes())
        with gzip.open(directory / f"{split}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(struct.pack(">II", 0x801, n) + bytes(n))


def run(cli, *args):
    out = subprocess.run([cli, *map(str, args)], capture_output=True, text=True)
    assert out.returncode == 0, f"oddity {' '.join(map(str, args))} failed:\n{out.stderr}"
    return out.stdout


def cli_score(cli, model_dir, data):
    """(scores as float32, predictions) from `oddity score`."""
    rows = list(csv.DictReader(run(cli, "score", "--model-dir", model_dir, "--data", data).splitlines()))
    return np.array([r["score"] for r in rows], dtype=np.float32), np.array([int(r["prediction"]) for r in rows])


@pytest.fixture(scope="module")
def files(tmp_path_factory, cardio, mnist):
    """The fit data of every class as a file the CLI reads, and the same samples in Python, in
    the CLI's scoring order."""
    d = tmp_path_factory.mktemp("data")
    X, truth, y = cardio
    write_csv(d / "unsup.csv", X, truth)
    write_csv(d / "weak.csv", X, y)
    tr, trl, te, _ = mnist
    raw = np.rint(tr[trl == 0] * 255).astype(np.uint8)
    raw_test = np.rint(te[:20] * 255).astype(np.uint8)
    write_idx(d / "digits", raw, raw_test)
    images_all = np.concatenate([tr[trl == 0], te[:20]])
    out = {}
    for cls in ALL:
        if cls is oddity.GANomaly:
            out[cls] = (d / "digits", images_all)
        elif cls._kind in oddity.WEAKLY_SUPERVISED:
            out[cls] = (d / "weak.csv", X)
        else:
            out[cls] = (d / "unsup.csv", X)
    return out


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_python_model_scores_identically_in_the_cli(cls, cli, fitted, files, tmp_path):
    det, _ = fitted[cls]
    data, X = files[cls]
    det.save(tmp_path / "m")
    scores, pred = cli_score(cli, tmp_path / "m", data)
    py = det.decision_function(X)
    assert scores.shape == py.shape
    np.testing.assert_array_equal(scores, py.astype(np.float32))
    np.testing.assert_array_equal(pred, det.predict(X))


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_cli_fit_loads_in_python_and_matches_a_python_fit_with_the_same_seed(cls, cli, fitted, files, tmp_path):
    data, X = files[cls]
    sets = [a for k, v in FAST[cls].items() for a in ("--set", f"{k}={json.dumps(v)}")]
    run(cli, "fit", "--model", cls._kind, "--data", data, "--out", tmp_path / "m", "--seed", 0, *sets)
    cli_scores, _ = cli_score(cli, tmp_path / "m", data)
    loaded = cls.load(tmp_path / "m")
    assert loaded.get_params() == cls(random_state=0, **FAST[cls]).get_params()
    np.testing.assert_array_equal(loaded.decision_function(X).astype(np.float32), cli_scores)
    # the model fitted in Python with seed 0 on the same samples is the same model
    det, _ = fitted[cls]
    assert det.threshold_ == loaded.threshold_
    np.testing.assert_array_equal(det.decision_function(X).astype(np.float32), cli_scores)


@pytest.mark.parametrize("layout", ["nchw", "nhw"])
def test_images_as_npy_score_identically_in_the_cli(layout, cli, mnist, tmp_path):
    """An image model saved from Python scores `[n, c, h, w]` (and `[n, h, w]`) .npy / .npz files in
    the CLI exactly as in Python; and a CLI fit on the .npy file is the same model."""
    tr, trl, te, _ = mnist
    imgs = tr[trl == 0][:40]
    kw = dict(epochs=1, ngf=8, ndf=8, nz=8, batch_size=8, bn_at_score="batch")
    det = oddity.GANomaly(random_state=0, **kw).fit(imgs)
    det.save(tmp_path / "g")
    test = te[:30] if layout == "nhw" else te[:30, None]
    np.save(tmp_path / "t.npy", test)
    np.savez(tmp_path / "t.npz", X=test, y=(np.arange(30) % 2))
    py = det.decision_function(test)
    for f in ("t.npy", "t.npz"):
        scores, pred = cli_score(cli, tmp_path / "g", tmp_path / f)
        np.testing.assert_array_equal(scores, py.astype(np.float32), err_msg=f)
        np.testing.assert_array_equal(pred, det.predict(test), err_msg=f)
    np.save(tmp_path / "train.npy", imgs if layout == "nhw" else imgs[:, None])
    sets = [a for k, v in kw.items() for a in ("--set", f"{k}={json.dumps(v)}")]
    run(cli, "fit", "--model", "ganomaly", "--data", tmp_path / "train.npy", "--out", tmp_path / "c", "--seed", 0, *sets)
    cli_scores, _ = cli_score(cli, tmp_path / "c", tmp_path / "t.npy")
    np.testing.assert_array_equal(cli_scores, py.astype(np.float32))
