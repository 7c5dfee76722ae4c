"""One exception type per oddity error variant (docs/python.md, "Errors"): one test per variant
that Python can trigger. `UnsupportedFormat` (data files are not read from Python) and `Backend`
(a failing tensor backend) cannot be triggered from Python."""

import hashlib
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

import oddity
from oddity import _native

#: Model directories of an older format (`device` in the config, no training-score mean / sd).
FIXTURES = Path(__file__).resolve().parents[2] / "oddity" / "tests" / "fixtures" / "v1-device"


@pytest.fixture(scope="module")
def blob():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    y = np.zeros(60, dtype=np.uint8)
    y[:5] = 1
    X[:5] += 4
    return X, y


@pytest.fixture(scope="module")
def iforest(blob):
    X, _ = blob
    return oddity.IForest(n_estimators=10).fit(X)


def test_invalid_config_is_value_error():
    with pytest.raises(ValueError, match="`n_estimators`"):
        _native.Model.fit("iforest", json.dumps({"n_estimators": 0}), np.zeros((4, 2), np.float32))


def test_shape_is_value_error(iforest, blob):
    X, _ = blob
    with pytest.raises(ValueError, match=r"shape mismatch: X: sample shape: expected \[4\] .*, got \[3\]"):
        iforest.detector_.score(X[:, :3])


def test_invalid_data_is_value_error(blob):
    X, _ = blob
    with pytest.raises(ValueError, match="invalid data"):
        # no labelled anomaly, past the Python class's own check
        _native.Model.fit("devnet", "{}", X, np.zeros(len(X), np.uint8))


def test_non_finite_is_value_error(iforest, blob):
    X = blob[0].copy()
    X[2, 1] = math.nan
    with pytest.raises(ValueError, match=r"non-finite value NaN at row 2, column 1 \(X\[2, 1\]\)"):
        iforest.detector_.score(X)


def test_unknown_model_is_value_error():
    with pytest.raises(ValueError, match="unknown model `nope`"):
        _native.Model.fit("nope", "{}", np.zeros((4, 2), np.float32))


def test_too_large_is_value_error(blob):
    with pytest.raises(ValueError, match="memory"):
        _native.Model.fit("iforest", json.dumps({"n_estimators": 10**15}), blob[0])


def test_io_is_os_error(iforest, tmp_path):
    iforest.save(tmp_path / "m")
    (tmp_path / "m" / "model.json").unlink()
    (tmp_path / "m" / "model.json").mkdir()
    with pytest.raises(OSError, match="model.json") as e:
        _native.Model.load(tmp_path / "m")
    assert not isinstance(e.value, FileNotFoundError)


def test_io_is_file_not_found_error_when_missing(blob, tmp_path):
    # a pretrained-autoencoder folder with weights but without its ae.json
    (tmp_path / "ae.safetensors").write_bytes(b"")
    det = oddity.DeepCluster(
        arch="mlp", mlp_hidden=(8,), pretrain_epochs=1, maxiter=10, n_init=1, n_clusters=2, pretrained=str(tmp_path)
    )
    with pytest.raises(FileNotFoundError, match="ae.json"):
        det.fit(blob[0])


def test_model_file_is_os_error(iforest, tmp_path):
    iforest.save(tmp_path / "m")
    (tmp_path / "m" / "weights.safetensors").write_bytes(b"not weights")
    with pytest.raises(OSError, match="checksum"):
        _native.Model.load(tmp_path / "m")


def test_format_is_os_error(tmp_path):
    # a GANomaly directory (an old-format fixture) whose weights are not a GANomaly weights file
    m = tmp_path / "m"
    shutil.copytree(FIXTURES / "ganomaly", m)
    junk = b"\x08\x00\x00\x00\x00\x00\x00\x00{}      "
    (m / "weights.safetensors").write_bytes(junk)
    meta = json.loads((m / "model.json").read_text())
    meta["weights_sha256"] = hashlib.sha256(junk).hexdigest()
    (m / "model.json").write_text(json.dumps(meta))
    with pytest.raises(OSError, match="weights.safetensors") as e:
        _native.Model.load(m)
    assert not str(e.value).startswith("model directory")  # Format, not ModelFile


def test_old_model_files_load_and_give_linear_probabilities():
    det = oddity.load(FIXTURES / "deep-cluster")
    X = np.asarray(det.decision_function(np.zeros((3, 30))))
    assert X.shape == (3,)
    proba = det.predict_proba(np.zeros((3, 30)))
    assert proba.shape == (3, 2) and ((proba >= 0) & (proba <= 1)).all()
    with pytest.raises(ValueError, match="refit"):
        det.predict_proba(np.zeros((3, 30)), method="unify")


def test_output_is_os_error(iforest, tmp_path):
    (tmp_path / "f").write_text("not a model directory")
    with pytest.raises(OSError, match="f"):
        iforest.detector_.save(tmp_path / "f")


@pytest.mark.parametrize(
    "cls, kwargs",
    [
        (oddity.DevNet, dict(epochs=3, lr=1e30, clip_norm=0.0)),
        (oddity.DeepSAD, dict(epochs=3, ae_epochs=1, lr=1e30)),
        (oddity.REPEN, dict(epochs=3, lr=1e30)),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_a_diverging_fit_raises_diverged_error(cls, kwargs, blob):
    X, y = blob
    with pytest.raises(oddity.DivergedError, match="training diverged at epoch") as e:
        cls(**kwargs).fit(X, y)
    assert isinstance(e.value, RuntimeError)
    assert oddity.DivergedError.__module__ == "oddity"
