"""PyOD's BaseDetector API beyond fit / score: n_jobs, random_state, predict_proba's two methods,
predict_confidence and the reject option, and the error cases a PyOD user meets."""

import math
import os

import numpy as np
import pytest

import oddity
from conftest import FAST


# ---- n_jobs -------------------------------------------------------------------------------------


def test_n_jobs_is_a_pool_per_call():
    size = oddity._native.pool_size
    default = size(None)
    assert size(1) == 1 and size(2) == 2 and size(7) == 7
    cores = size(-1)
    assert cores >= 1 and size(-2) == max(1, cores - 1) and size(-1000) == 1
    with pytest.raises(ValueError, match="n_jobs"):
        size(0)
    # nothing process-wide changed
    assert size(None) == default


def test_n_jobs_gives_the_same_model_and_is_validated(cardio):
    X = cardio[0]
    one = oddity.IForest(n_jobs=1, random_state=0).fit(X)
    two = oddity.IForest(n_jobs=2, random_state=0).fit(X)
    np.testing.assert_array_equal(one.decision_scores_, two.decision_scores_)
    np.testing.assert_array_equal(one.decision_function(X), two.decision_scores_)
    assert oddity.IForest(n_jobs=-1).get_params()["n_jobs"] == -1
    for bad in (0, 1.5, "all", True):
        with pytest.raises(ValueError, match="`n_jobs`"):
            oddity.IForest(n_jobs=bad)


# ---- random_state -------------------------------------------------------------------------------


def test_random_state_none_int_randomstate_generator(cardio):
    X = cardio[0][:400]

    def scores(rs):
        return oddity.IForest(n_estimators=20, random_state=rs).fit(X).decision_scores_

    # None: fresh randomness on every fit, as in PyOD
    assert not np.array_equal(scores(None), scores(None))
    det = oddity.IForest(n_estimators=20).fit(X)
    assert isinstance(det.seed_, int) and det.random_state is None
    np.testing.assert_array_equal(scores(det.seed_), det.decision_scores_)  # seed_ reproduces it
    # int: the seed itself
    np.testing.assert_array_equal(scores(3), scores(3))
    # RandomState / Generator: a seed drawn from it, so equal states give equal models ...
    np.testing.assert_array_equal(scores(np.random.RandomState(5)), scores(np.random.RandomState(5)))
    np.testing.assert_array_equal(scores(np.random.default_rng(5)), scores(np.random.default_rng(5)))
    # ... and one generator shared by two fits gives two different models
    rng = np.random.default_rng(5)
    assert not np.array_equal(scores(rng), scores(rng))
    for bad in (-1, 1.5, "seed", True):
        with pytest.raises(ValueError, match="`random_state`"):
            oddity.IForest(random_state=bad)


# ---- predict_proba / confidence -----------------------------------------------------------------


def test_predict_proba_linear_and_unify(fitted, cardio):
    det, X = fitted[oddity.DevNet]
    s = det.decision_function(X)
    lo, hi = s.min(), s.max()
    lin = det.predict_proba(X, method="linear")
    np.testing.assert_allclose(lin[:, 1], np.clip((s - lo) / (hi - lo), 0, 1))
    # PyOD's unify: erf((s - mean) / (std * sqrt 2)) of the training scores, clipped to [0, 1]
    mu, sd = det.decision_scores_.mean(), det.decision_scores_.std()
    want = np.clip([math.erf((v - mu) / (sd * math.sqrt(2))) for v in s], 0, 1)
    uni = det.predict_proba(X, method="unify")
    # The model keeps the training mean and sd as float32, like the scores.
    np.testing.assert_allclose(uni[:, 1], want, rtol=0, atol=1e-6)
    np.testing.assert_allclose(uni.sum(axis=1), 1.0)
    assert (uni[:, 1] == 0).mean() > 0.3  # everything below the mean is 0
    with pytest.raises(ValueError, match="'linear' or 'unify'"):
        det.predict_proba(X, method="softmax")


def _pyod_confidence(train, scores, contamination, threshold):
    """PyOD 3's predict_confidence, written as PyOD writes it (the test oracle)."""
    from scipy.stats import binom

    n = len(train)
    count = np.vectorize(lambda x: np.count_nonzero(train <= x))(scores)
    posterior = np.vectorize(lambda x: (1 + x) / (2 + n))(count)
    conf = np.vectorize(lambda p: 1 - binom.cdf(n - int(n * contamination), n, p))(posterior)
    pred = (scores > threshold).astype(int)
    np.place(conf, pred == 0, 1 - conf[pred == 0])
    return conf


def test_predict_confidence_and_rejection(fitted):
    pytest.importorskip("scipy")
    det, X = fitted[oddity.IForest]
    s = det.decision_function(X)
    conf = det.predict_confidence(X)
    np.testing.assert_allclose(conf, _pyod_confidence(det.decision_scores_, s, 0.1, det.threshold_), rtol=1e-12)
    assert conf.shape == (len(X),) and conf.min() >= 0 and conf.max() <= 1
    # far from the threshold the model is sure; right at it, it is not
    order = np.argsort(s)
    assert conf[order[0]] > 0.99 and conf[order[-1]] > 0.99
    assert conf[np.argmin(np.abs(s - det.threshold_))] < 0.9
    labels, c2 = det.predict(X, return_confidence=True)
    np.testing.assert_array_equal(labels, det.labels_)
    np.testing.assert_array_equal(c2, conf)
    proba, c3 = det.predict_proba(X, method="unify", return_confidence=True)
    np.testing.assert_array_equal(c3, conf)
    # the reject option: -2 where 2 |conf - 0.5| <= 1 - 2 exp(-T)
    rej = det.predict_with_rejection(X, T=2)
    rejected = 2 * np.abs(conf - 0.5) <= 1 - 2 * math.exp(-2)
    assert rejected.any() and not rejected.all()
    np.testing.assert_array_equal(rej[rejected], -2)
    np.testing.assert_array_equal(rej[~rejected], det.labels_[~rejected])
    _, stats = det.predict_with_rejection(X, T=2, return_stats=True)
    assert len(stats) == 3 and 0 <= stats[0] <= stats[1]
    assert stats == list(det.compute_rejection_stats(T=2))


def test_confidence_needs_the_training_scores(fitted, tmp_path):
    pytest.importorskip("scipy")
    det, X = fitted[oddity.IForest]
    det.save(tmp_path / "m")
    back = oddity.load(tmp_path / "m")
    with pytest.raises(ValueError, match="loaded from a model directory"):
        back.predict_confidence(X)
    # predict_proba needs only what the model directory keeps (range, mean, sd of the training scores).
    for method in ("linear", "unify"):
        np.testing.assert_array_equal(back.predict_proba(X, method=method), det.predict_proba(X, method=method))


# ---- errors a PyOD user meets -------------------------------------------------------------------


def test_missing_model_directory_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        oddity.load(tmp_path / "nope")
    with pytest.raises(FileNotFoundError):
        oddity.IForest.load(str(tmp_path / "nope"))


def test_deep_sad_without_labelled_anomalies_blames_y(cardio):
    X = cardio[0]
    with pytest.raises(ValueError, match=r"^y has no labelled anomaly") as e:
        oddity.DeepSAD(**FAST[oddity.DeepSAD]).fit(X, np.zeros(len(X)))
    assert "DeepSAD" in str(e.value) and "X" not in str(e.value).split(":")[0]
    with pytest.raises(ValueError, match="requires y to be passed"):
        oddity.DeepSAD(**FAST[oddity.DeepSAD]).fit(X)


def test_complex_input_is_refused(cardio, fitted):
    X = cardio[0]
    with pytest.raises(ValueError, match="Complex data not supported"):
        oddity.IForest().fit(X + 1j)
    det, _ = fitted[oddity.IForest]
    with pytest.raises(ValueError, match="Complex data not supported"):
        det.decision_function(X.astype(np.complex64))


def test_ganomaly_infers_channels_and_size(mnist, tmp_path):
    tr, trl, _, _ = mnist
    gray = tr[trl == 0][:24]
    rgb = np.repeat(gray[:, None], 3, axis=1)[:, :, 2:22, 2:22]  # [24, 3, 20, 20]
    kw = dict(epochs=1, ngf=8, ndf=8, nz=8, batch_size=8, random_state=0)
    det = oddity.GANomaly(**kw)
    assert det.nc is None and det.isize is None
    det.fit(rgb)
    assert det.sample_shape_ == (3, 20, 20)
    cfg = __import__("json").loads(det.detector_.config_json)
    assert (cfg["nc"], cfg["isize"]) == (3, 32)
    assert det.nc is None  # the parameter stays as given
    det.save(tmp_path / "g")
    back = oddity.GANomaly.load(tmp_path / "g")
    # bn_at_score="auto" (the default) is resolved at fit time; the saved model records the mode it chose.
    params = {**det.get_params(), "random_state": 0}
    assert params.pop("bn_at_score") == "auto"
    loaded = back.get_params()
    assert loaded.pop("bn_at_score") in ("running", "batch")
    assert loaded == params
    np.testing.assert_array_equal(back.decision_function(rgb), det.decision_scores_)
    # given explicitly, they are used (and a mismatch is an error naming nc)
    with pytest.raises(ValueError, match="nc"):
        oddity.GANomaly(nc=1, **kw).fit(rgb)
    big = oddity.GANomaly(isize=64, **kw).fit(gray)
    assert __import__("json").loads(big.detector_.config_json)["isize"] == 64


def test_save_refuses_to_overwrite_other_things(fitted, tmp_path):
    det, X = fitted[oddity.IForest]
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"not a model")
    with pytest.raises(FileExistsError, match="not an oddity model directory"):
        det.save(other)
    assert (other / "cat.jpg").read_bytes() == b"not a model"
    afile = tmp_path / "notes.txt"
    afile.write_text("keep me")
    with pytest.raises(FileExistsError):
        det.save(afile)
    assert afile.read_text() == "keep me"
    # an empty directory and an existing model directory are fine
    (tmp_path / "empty").mkdir()
    det.save(tmp_path / "empty")
    det.save(tmp_path / "empty")
    assert os.path.isfile(tmp_path / "empty" / "model.json")


def test_fit_predict_score_and_predict_rank(cardio, capsys):
    metrics = pytest.importorskip("sklearn.metrics")
    X, truth, _ = cardio
    det = oddity.IForest(n_estimators=30, random_state=0)
    auc = det.fit_predict_score(X, truth)
    assert auc == pytest.approx(metrics.roc_auc_score(truth, det.decision_scores_), abs=1e-12)
    assert "roc_auc_score" in capsys.readouterr().out
    prc = det.fit_predict_score(X, truth, scoring="prc_n_score")
    n = truth.sum()
    top = det.decision_scores_ > np.percentile(det.decision_scores_, 100 * (1 - n / len(truth)))
    assert prc == pytest.approx(metrics.precision_score(truth, top))
    with pytest.raises(NotImplementedError):
        det.fit_predict_score(X, truth, scoring="f1")
    ranks = det._predict_rank(X[:50])
    np.testing.assert_array_equal(ranks, np.searchsorted(np.sort(det.decision_scores_), det.decision_scores_[:50]))
    np.testing.assert_allclose(det._predict_rank(X[:50], normalized=True), ranks / ranks.max())
