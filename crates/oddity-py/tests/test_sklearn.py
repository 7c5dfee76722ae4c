"""scikit-learn compatibility: its own estimator checks over every class (quick settings), the
tag protocol of scikit-learn >= 1.6, NotFittedError / check_is_fitted, and the Pipeline /
GridSearchCV / cross_val_score use a PyOD user writes. Skipped checks and why: docs/python.md."""

import pickle
import warnings

import numpy as np
import pytest

import oddity

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils import estimator_checks as ec  # noqa: E402
from sklearn.utils import get_tags  # noqa: E402
from sklearn.utils.validation import check_is_fitted  # noqa: E402

pytestmark = [
    # by design, see SKIPS_ALL: values are validated in set_params (scikit-learn warns each time)
    pytest.mark.filterwarnings("ignore:.*occurred during set_params:UserWarning"),
    # scikit-learn is optional: the classes follow its protocol without inheriting BaseEstimator
    pytest.mark.filterwarnings("ignore:.*does not inherit from `sklearn.base.BaseEstimator`:UserWarning"),
]

#: Settings small enough that every check (dozens of fits on 10-300 samples) stays fast.
QUICK = {
    oddity.IForest: dict(n_estimators=10),
    oddity.DevNet: dict(epochs=2, batches_per_epoch=2, batch_size=16, hidden=8),
    oddity.DeepSAD: dict(ae_epochs=1, epochs=1, ae_lr_milestones=(), lr_milestones=(), hidden=(8,), rep_dim=4),
    # subsample_size below the few unlabelled rows of scikit-learn's tiny check data (REPEN refuses
    # a LeSiNN subsample as large as the data: it gave all-zero scores, issue 18)
    oddity.REPEN: dict(epochs=1, ensemble_size=2, batches_per_epoch=2, batch_size=16, subsample_size=3),
    oddity.DPLAN: dict(
        episodes=1,
        steps_per_episode=20,
        warmup_steps=10,
        epsilon_steps=20,
        target_update=10,
        sample_size=10,
        memory_size=100,
        batch_size=8,
        hidden=8,
    ),
    oddity.DeepCluster: dict(
        arch="mlp", mlp_hidden=(8, 8, 4), embedding=2, pretrain_epochs=1, maxiter=10, n_init=1, n_clusters=2, update_interval=5
    ),
}

#: PyOD's conventions where scikit-learn's outlier checks assume its own (predict gives -1 / +1,
#: decision_function is negative for outliers, score_samples + offset_).
PYOD_CONVENTION = "PyOD convention: predict gives 0 / 1 and higher scores are more anomalous"
SKIPS_ALL = {
    "check_outliers_fit_predict": PYOD_CONVENTION,
    "check_outliers_train": PYOD_CONVENTION,
    "check_do_not_raise_errors_in_init_or_set_params": (
        "hyperparameters are validated when set (constructor, set_params), as PyOD does for contamination"
    ),
}
#: DeepCluster: scikit-learn sets `n_clusters = 1` in these checks (a clustering needs >= 2), or
#: probes a `score` method and finds the hyperparameter `score` (the anomaly score kind, a name
#: shared with the CLI's model directories).
ONE_CLUSTER = "scikit-learn sets n_clusters = 1; DeepCluster needs at least 2 clusters"
SCORE_NAME = "the hyperparameter `score` (anomaly score kind) shadows the method name scikit-learn probes"
SKIPS_CLUSTER = {
    "check_dont_overwrite_parameters": ONE_CLUSTER,
    "check_fit1d": ONE_CLUSTER,
    "check_fit2d_1feature": ONE_CLUSTER,
    "check_fit2d_1sample": ONE_CLUSTER,
    "check_fit2d_predict1d": ONE_CLUSTER,
    "check_methods_subset_invariance": ONE_CLUSTER,
    "check_fit_score_takes_y": SCORE_NAME,
    "check_pipeline_consistency": SCORE_NAME,
    "check_n_features_in_after_fitting": SCORE_NAME,
}
#: Weakly supervised models with scikit-learn's y (see `SklearnY`).
SKIPS_WEAK = {}
SKIPS_REPEN = {
    "check_estimators_nan_inf": "its fit data is a handful of rows: too few for both a LeSiNN subsample "
    "and two inlier candidates (REPEN refuses a subsample as large as the data, issue 18)",
}


def expected_failures(est):
    out = dict(SKIPS_ALL)
    if est._kind == "deep-cluster":
        out.update(SKIPS_CLUSTER)
    if est._kind in oddity.WEAKLY_SUPERVISED:
        out.update(SKIPS_WEAK)
    if est._kind == "repen":
        out.update(SKIPS_REPEN)
    return out


class SklearnY:
    """Test adapter for the weakly supervised models: scikit-learn's checks pass classification
    targets (0, 1, 2, ...) as y, which are not partial anomaly labels (0 / 1); the highest class
    becomes the labelled anomalies. Everything else is the real class."""

    def fit(self, X, y=None):
        if y is not None:
            y = np.asarray(y)
            if y.dtype == object:
                y = y.astype(np.float64)
            if y.dtype.kind in "iuf" and y.size and not np.isin(y, (0, 1)).all():
                y = (y == y.max()).astype(int)
        return super().fit(X, y)


class DevNetY(SklearnY, oddity.DevNet):
    pass


class DeepSADY(SklearnY, oddity.DeepSAD):
    pass


class REPENY(SklearnY, oddity.REPEN):
    pass


class DPLANY(SklearnY, oddity.DPLAN):
    pass


_ADAPTED = {oddity.DevNet: DevNetY, oddity.DeepSAD: DeepSADY, oddity.REPEN: REPENY, oddity.DPLAN: DPLANY}


with warnings.catch_warnings():  # the BaseEstimator warning comes while collecting
    warnings.filterwarnings("ignore", message=".*does not inherit from", category=UserWarning)
    _every_check = ec.parametrize_with_checks(
        [_ADAPTED.get(cls, cls)(**kw) for cls, kw in QUICK.items()],
        expected_failed_checks=expected_failures,
    )


@_every_check
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "check",
    [
        ec.check_estimator_cloneable,
        ec.check_estimator_tags_renamed,
        ec.check_valid_tag_types,
        ec.check_estimator_repr,
        ec.check_no_attributes_set_in_init,
        ec.check_mixin_order,
        ec.check_parameters_default_constructible,
        ec.check_get_params_invariance,
        ec.check_set_params,
    ],
    ids=lambda c: c.__name__,
)
def test_ganomaly_api_checks(check):
    """scikit-learn runs no check on an estimator whose input is not 2-D (GANomaly takes images):
    these are the checks that fit nothing; fitting on images is covered below."""
    check("GANomaly", oddity.GANomaly(epochs=1))


def test_ganomaly_with_images_is_fitted_clonable_and_idempotent(mnist):
    tr, trl, _, _ = mnist
    X = tr[trl == 0][:32]
    det = oddity.GANomaly(epochs=1, ngf=8, ndf=8, nz=8, batch_size=16, random_state=0)
    with pytest.raises(NotFittedError):
        check_is_fitted(det)
    a = clone(det).fit(X).decision_function(X)
    b = clone(det).fit(X).decision_function(X)
    np.testing.assert_array_equal(a, b)
    fitted = det.fit(X)
    check_is_fitted(fitted)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).decision_function(X), a)


@pytest.mark.parametrize("cls", list(QUICK) + [oddity.GANomaly], ids=lambda c: c.__name__)
def test_tags_and_not_fitted(cls, cardio):
    det = cls()
    tags = get_tags(det)
    assert tags.estimator_type == "outlier_detector" and sklearn.base.is_outlier_detector(det)
    assert tags.target_tags.required == (cls._kind in oddity.WEAKLY_SUPERVISED)
    assert tags.input_tags.two_d_array == (cls is not oddity.GANomaly)
    assert det._more_tags()["requires_y"] == tags.target_tags.required  # scikit-learn < 1.6
    with pytest.raises(NotFittedError, match="not fitted"):
        check_is_fitted(det)
    X = cardio[0][:5]
    for method in ("decision_function", "predict", "predict_proba", "predict_confidence"):
        with pytest.raises(NotFittedError):
            getattr(det, method)(X)
        with pytest.raises(oddity.NotFittedError):  # the same exception, by oddity's name
            getattr(det, method)(X)
    with pytest.raises(NotFittedError):
        det.save("never-written")


def test_pipeline_grid_search_and_cross_validation(cardio):
    """The snippet of a PyOD user: none of it worked with scikit-learn >= 1.6 before the tags."""
    X, truth, _ = cardio
    pipe = make_pipeline(StandardScaler(), oddity.IForest(n_estimators=50, random_state=0)).fit(X)
    scores = pipe.decision_function(X)
    alone = oddity.IForest(n_estimators=50, random_state=0).fit(StandardScaler().fit_transform(X))
    np.testing.assert_array_equal(scores, alone.decision_scores_)
    np.testing.assert_array_equal(pipe.predict(X), alone.labels_)

    # cardio's anomalies are its last rows: folds must be stratified (a detector is not a
    # classifier, so scikit-learn's default cv=3 does not stratify)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(
        oddity.IForest(random_state=0), {"n_estimators": [5, 50], "max_features": [1.0]}, scoring="roc_auc", cv=cv
    ).fit(X, truth)
    assert not np.isnan(search.cv_results_["mean_test_score"]).any()
    assert search.best_params_["n_estimators"] in (5, 50) and search.best_score_ > 0.7
    check_is_fitted(search.best_estimator_)

    auc = cross_val_score(oddity.IForest(n_estimators=50, random_state=0), X, truth, scoring="roc_auc", cv=cv)
    assert auc.shape == (3,) and auc.mean() > 0.7, auc
    # the weakly supervised ones take the fold's labels as y
    y = np.zeros(len(X), int)
    y[np.flatnonzero(truth)[::4]] = 1
    dev = cross_val_score(
        oddity.DevNet(epochs=20, batches_per_epoch=5, batch_size=128, random_state=0),
        X,
        y,
        scoring="roc_auc",
        cv=cv,
        error_score="raise",
    )
    assert dev.mean() > 0.7, dev
