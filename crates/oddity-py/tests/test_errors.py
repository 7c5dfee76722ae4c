"""One exception type per oddity error variant (docs/python.md, "Errors"): one test per variant
that Python can trigger. `UnsupportedFormat` (data files are not read from Python) and `Backend`
(a failing tensor backend) cannot be triggered from Python."""

import json
import math

import numpy as np
import pytest

import oddity
from oddity import _native


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


def test_io_is_os_error_and_file_not_found_when_missing(tmp_path):
    with pytest.raises(FileNotFoundError):
        _native.Model.load(tmp_path / "missing")


def test_model_file_is_os_error(iforest, tmp_path):
    iforest.save(tmp_path / "m")
    (tmp_path / "m" / "weights.safetensors").write_bytes(b"not weights")
    with pytest.raises(OSError, match="checksum"):
        _native.Model.load(tmp_path / "m")


def test_format_is_os_error(iforest, tmp_path):
    import hashlib

    iforest.save(tmp_path / "m")
    junk = b"\x08\x00\x00\x00\x00\x00\x00\x00{}      "
    (tmp_path / "m" / "weights.safetensors").write_bytes(junk)
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    meta["weights_sha256"] = hashlib.sha256(junk).hexdigest()
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    with pytest.raises(OSError, match="weights.safetensors"):
        _native.Model.load(tmp_path / "m")


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
