"""PyOD contract for every class: shapes, dtypes, score order, thresholds, inputs, errors."""

import inspect
import json

import numpy as np
import pytest

import oddity
from conftest import ALL, FAST, TABULAR, auc, data_for


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_pyod_contract_shapes_and_dtypes(cls, fitted):
    det, X = fitted[cls]
    n = len(X)
    assert det.decision_scores_.shape == (n,) and det.decision_scores_.dtype == np.float64
    assert isinstance(det.threshold_, float)
    assert det.labels_.shape == (n,) and det.labels_.dtype.kind == "i"
    assert set(np.unique(det.labels_)) <= {0, 1}
    # threshold = 90th percentile of the training scores (numpy's linear interpolation, as PyOD)
    assert det.threshold_ == pytest.approx(np.percentile(det.decision_scores_, 90), rel=1e-5, abs=1e-6)
    assert det.labels_.sum() == (det.decision_scores_ > det.threshold_).sum()
    assert abs(det.labels_.mean() - 0.1) < 0.02
    s = det.decision_function(X)
    assert s.shape == (n,) and s.dtype == np.float64
    np.testing.assert_array_equal(s, det.decision_scores_)
    p = det.predict(X)
    assert p.shape == (n,) and p.dtype.kind == "i"
    np.testing.assert_array_equal(p, det.labels_)
    proba = det.predict_proba(X)
    assert proba.shape == (n, 2) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert proba.min() >= 0.0 and proba.max() <= 1.0
    # linear min-max of the training scores: the lowest training score is 0, the highest 1
    assert proba[np.argmin(s), 1] == 0.0 and proba[np.argmax(s), 1] == 1.0
    assert det.contamination == 0.1
    assert det.n_features_in_ == int(np.prod(X.shape[1:]))


@pytest.mark.parametrize("cls", TABULAR, ids=lambda c: c.__name__)
def test_higher_scores_are_more_anomalous_on_cardio(cls, fitted, cardio):
    det, _ = fitted[cls]
    _, truth, _ = cardio
    a = auc(truth, det.decision_scores_)
    assert a > 0.6, f"{cls.__name__}: ROC-AUC {a:.3f} on cardio"
    # an obviously extreme sample gets a higher score than the median one
    X = cardio[0]
    far = X[:1] + 50 * X.std(axis=0)
    assert det.decision_function(far)[0] > np.median(det.decision_scores_)


def test_ganomaly_scores_other_digits_higher(fitted, mnist):
    det, _ = fitted[oddity.GANomaly]
    _, _, te, tel = mnist
    a = auc(tel != 0, det.decision_function(te))
    assert a > 0.6, f"GANomaly fitted on digit 0: ROC-AUC {a:.3f} for other digits"


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_save_load_round_trip_gives_identical_scores(cls, fitted, tmp_path):
    det, X = fitted[cls]
    det.save(tmp_path / "m")
    assert (tmp_path / "m" / "model.json").is_file()
    for back in (cls.load(tmp_path / "m"), oddity.load(str(tmp_path / "m"))):
        assert type(back) is cls
        np.testing.assert_array_equal(back.decision_function(X), det.decision_scores_)
        assert back.threshold_ == det.threshold_
        np.testing.assert_array_equal(back.predict_proba(X), det.predict_proba(X))
        assert back.get_params() == {**det.get_params(), "random_state": 0, "verbose": False}
        assert back.seed_ == det.seed_ == 0


def test_load_checks_the_class_and_the_path(fitted, tmp_path):
    det, _ = fitted[oddity.IForest]
    det.save(tmp_path / "m")
    with pytest.raises(ValueError, match="holds a `iforest` model"):
        oddity.DevNet.load(tmp_path / "m")
    with pytest.raises(OSError, match="does not exist"):
        oddity.load(tmp_path / "missing")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "model.json").write_text("{ not json")
    with pytest.raises(OSError, match="bad"):
        oddity.load(tmp_path / "bad")


def test_pickle_keeps_the_model(fitted):
    import pickle

    det, X = fitted[oddity.IForest]
    back = pickle.loads(pickle.dumps(det))
    np.testing.assert_array_equal(back.decision_function(X), det.decision_scores_)
    np.testing.assert_array_equal(back.decision_scores_, det.decision_scores_)


# ---- hyperparameters ----------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_keyword_arguments_mirror_the_rust_defaults(cls):
    sig = inspect.signature(cls)
    rust = json.loads(oddity._native.default_config(cls._kind))
    names = [p for p in sig.parameters]
    assert names == ["contamination", *sorted(rust), "n_jobs", "random_state", "verbose"]
    for k, v in rust.items():
        d = sig.parameters[k].default
        if k in cls._inferred:
            assert d is None, k  # taken from the data at fit
        elif isinstance(v, list):
            assert isinstance(d, tuple) and list(d) == v, k  # immutable, as scikit-learn wants
        elif isinstance(v, float):
            assert np.float32(d) == np.float32(v) and abs(d - v) <= 1e-6 * max(1.0, abs(v)), k
        else:
            assert d == v, k
    assert sig.parameters["contamination"].default == 0.1
    det = cls()
    common = {"n_jobs": None, "random_state": None, "verbose": False}
    assert det.get_params() == {"contamination": 0.1, **{k: sig.parameters[k].default for k in rust}, **common}


def test_float32_defaults_read_like_python():
    assert oddity.DPLAN().epsilon_min == 0.1
    assert oddity.DevNet().lr == 0.001


@pytest.mark.parametrize(
    "cls, kwargs, field",
    [
        (oddity.IForest, dict(n_estimators=0), "n_estimators"),
        (oddity.IForest, dict(n_estimators="many"), "n_estimators"),
        (oddity.IForest, dict(n_estimators=1.5), "n_estimators"),
        (oddity.IForest, dict(max_samples="bogus"), "max_samples"),
        (oddity.IForest, dict(contamination=0.7), "contamination"),
        (oddity.IForest, dict(n_trees=10), "n_trees"),
        (oddity.IForest, dict(random_state=-1), "random_state"),
        (oddity.DevNet, dict(epochs=0), "epochs"),
        (oddity.DeepSAD, dict(rep_dim=0), "rep_dim"),
        (oddity.REPEN, dict(embedding=0), "embedding"),
        (oddity.DPLAN, dict(gamma=1.5), "gamma"),
        (oddity.DeepCluster, dict(n_clusters=0), "n_clusters"),
        (oddity.DeepCluster, dict(init="bogus"), "init"),
        (oddity.DeepCluster, dict(spectral_neighbors=1), "spectral_neighbors"),
        (oddity.GANomaly, dict(isize=20), "isize"),
    ],
)
def test_bad_hyperparameters_raise_value_error_naming_them(cls, kwargs, field):
    with pytest.raises(ValueError, match=f"`{field}`"):
        cls(**kwargs)
    det = cls()
    with pytest.raises(ValueError, match=f"`{field}`"):
        det.set_params(**kwargs)
    assert det.get_params() == cls().get_params()  # a rejected set_params changes nothing


def test_set_params_and_seed_alias():
    det = oddity.IForest(seed=7)
    assert det.random_state == 7
    assert det.set_params(n_estimators=50) is det and det.n_estimators == 50
    assert "n_estimators=50" in repr(det)
    with pytest.raises(ValueError):
        oddity.IForest(seed=1, random_state=2)


def test_sklearn_clone_if_available(cardio):
    sklearn_base = pytest.importorskip("sklearn.base")
    det = oddity.IForest(n_estimators=20, random_state=3)
    c = sklearn_base.clone(det)
    assert c.get_params() == det.get_params() and c is not det


# ---- inputs -------------------------------------------------------------------------------------


def test_seeds_reproduce_and_differ(cardio):
    X = cardio[0]
    a = oddity.IForest(random_state=1).fit(X).decision_scores_
    b = oddity.IForest(random_state=1).fit(X).decision_scores_
    c = oddity.IForest(random_state=2).fit(X).decision_scores_
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_input_types_give_the_same_scores(cardio):
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    X = cardio[0]
    det = oddity.IForest(random_state=0).fit(X)
    ref = det.decision_scores_
    X64 = X.astype(np.float64)
    cols = [f"f{i}" for i in range(X.shape[1])]
    variants = {
        "float64": X64,
        "fortran32": np.asfortranarray(X),
        "fortran64": np.asfortranarray(X64),
        "strided": np.repeat(X, 2, axis=0)[::2],
        "list": X.tolist(),
        "pandas": pd.DataFrame(X64, columns=cols),
        "arrow": pa.table({c: X64[:, i] for i, c in enumerate(cols)}),
    }
    for name, v in variants.items():
        np.testing.assert_array_equal(det.decision_function(v), ref, err_msg=name)
    # fitting from a DataFrame gives the same model as from the array
    np.testing.assert_array_equal(oddity.IForest(random_state=0).fit(variants["pandas"]).decision_scores_, ref)


def test_images_with_or_without_channel_axis(mnist):
    tr, trl, _, _ = mnist
    X = tr[trl == 0][:64]
    kw = dict(FAST[oddity.GANomaly], random_state=0, epochs=1)
    a = oddity.GANomaly(**kw).fit(X)
    b = oddity.GANomaly(**kw).fit(X[:, None, :, :])
    np.testing.assert_array_equal(a.decision_scores_, b.decision_scores_)
    assert a.sample_shape_ == (1, 28, 28)
    np.testing.assert_array_equal(a.decision_function(X[:, None]), a.decision_scores_)


def test_nan_and_inf_raise_value_error_with_position(cardio, fitted):
    X = cardio[0].copy()
    X[5, 3] = np.nan
    with pytest.raises(ValueError, match="non-finite value NaN at row 5, column 3"):
        oddity.IForest().fit(X)
    det, _ = fitted[oddity.IForest]
    X[5, 3] = np.inf
    with pytest.raises(ValueError, match="row 5, column 3"):
        det.decision_function(X)


def test_bad_shapes_raise_value_error(cardio, fitted):
    det, X = fitted[oddity.IForest]
    with pytest.raises(ValueError, match="Expected 2D array"):
        det.decision_function(X[0])
    with pytest.raises(ValueError, match=r"samples are \[20\] but the model expects \[21\]"):
        det.decision_function(X[:, :20])
    with pytest.raises(ValueError, match="empty"):
        oddity.IForest().fit(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="numeric"):
        oddity.IForest().fit(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="not fitted"):
        oddity.IForest().decision_function(X)


@pytest.mark.parametrize("cls", [oddity.DevNet, oddity.DeepSAD, oddity.REPEN, oddity.DPLAN], ids=lambda c: c.__name__)
def test_weakly_supervised_models_need_labelled_anomalies(cls, cardio):
    X, _, y = cardio
    with pytest.raises(ValueError, match="labelled anomal"):
        cls(**FAST[cls]).fit(X)
    with pytest.raises(ValueError, match="labelled anomaly"):
        cls(**FAST[cls]).fit(X, np.zeros(len(X), dtype=int))
    with pytest.raises(ValueError, match="0 .* or 1"):
        cls(**FAST[cls]).fit(X, np.full(len(X), 2))
    with pytest.raises(ValueError, match="1831 labels"):
        cls(**FAST[cls]).fit(X, y[:-1])


def test_labels_change_weakly_supervised_fits(cardio):
    X, _, y = cardio
    kw = dict(random_state=0, **FAST[oddity.DevNet])
    a = oddity.DevNet(**kw).fit(X, y).decision_scores_
    y2 = y.copy()
    y2[np.flatnonzero(y)[:10]] = 0
    b = oddity.DevNet(**kw).fit(X, y2).decision_scores_
    assert not np.array_equal(a, b)
    # boolean and pandas labels are accepted and mean the same
    np.testing.assert_array_equal(oddity.DevNet(**kw).fit(X, y.astype(bool)).decision_scores_, a)


def test_verbose_shows_progress(cardio, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name, *a, **k):
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    X = np.repeat(cardio[0], 4, axis=0)
    oddity.IForest(n_estimators=300, random_state=0, verbose=True).fit(X)
    err = capsys.readouterr().err
    assert "fitting trees" in err and "/300" in err


def test_models_lists_the_registry():
    names = [m[0] for m in oddity.models()]
    assert names == ["iforest", "ganomaly", "dplan", "devnet", "deep-sad", "repen", "deep-cluster"]
    inputs = {m[0]: m[3] for m in oddity.models()}
    assert inputs["ganomaly"] == inputs["deep-cluster"] == "images" and inputs["devnet"] == "tabular"
    assert oddity.WEAKLY_SUPERVISED == {"dplan", "devnet", "deep-sad", "repen"}
    assert {c._kind for c in ALL} == set(names)


def test_deep_cluster_spectral_init_reaches_the_model():
    """`init="spectral"` is a parameter like any other: kept by get_params, passed to the Rust fit
    (the scores differ from k-means initialisation's on interleaved half-moons, which k-means cuts),
    and deterministic for a seed."""
    rng = np.random.default_rng(0)
    t = rng.uniform(0, np.pi, 200)
    X = np.where(np.arange(200)[:, None] < 100, np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    X = (X + rng.normal(scale=0.05, size=X.shape)).astype(np.float32)
    kw = dict(
        arch="mlp", mlp_hidden=(16, 16), embedding=2, pretrain_epochs=5, maxiter=40, n_init=2, n_clusters=2, random_state=0
    )
    det = oddity.DeepCluster(init="spectral", spectral_neighbors=8, **kw)
    assert det.get_params()["init"] == "spectral" and det.get_params()["spectral_neighbors"] == 8
    s = det.fit(X).decision_scores_
    assert np.all(np.isfinite(s))
    again = oddity.DeepCluster(init="spectral", spectral_neighbors=8, **kw).fit(X)
    np.testing.assert_array_equal(again.decision_scores_, s)
    assert not np.array_equal(oddity.DeepCluster(init="kmeans", **kw).fit(X).decision_scores_, s)
    assert oddity.DeepCluster().get_params()["init"] == "kmeans"
