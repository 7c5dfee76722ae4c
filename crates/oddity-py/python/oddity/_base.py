"""PyOD-style detector classes over the native models."""

import errno
import inspect
import json
import math
import os
import tempfile

import numpy as np

from . import _native
from ._errors import not_fitted
from ._inputs import as_features, as_labels
from ._progress import ProgressPrinter
from ._random import check_n_jobs, check_random_state_param, seed_from

#: Models whose `fit` reads partial anomaly labels `y` (1 = labelled anomaly, 0 = unlabelled):
#: the weakly supervised ones in the Rust registry.
WEAKLY_SUPERVISED = frozenset(
    name for name, _about, protocol, _input in _native.models() if protocol == "weakly-supervised"
)

#: Parameters every class takes besides the model's own hyperparameters, with their defaults.
_COMMON_TAIL = {"n_jobs": None, "random_state": None, "verbose": False}


def _pythonic(value):
    """A default from the Rust config as Python would write it: float32 fields as `0.1`, not
    `0.10000000149011612`; lists become tuples (scikit-learn wants immutable defaults)."""
    if isinstance(value, float):
        f32 = np.float32(value)
        if float(f32) == value:
            return float(str(f32))
        return value
    if isinstance(value, list):
        return tuple(_pythonic(v) for v in value)
    return value


def _to_json_value(key, value):
    """Plain JSON types from NumPy scalars, tuples and so on; ValueError naming `key` otherwise.
    None is JSON null: "the model's own choice" where a setting allows it (DPLAN's `clip_norm`)."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_to_json_value(key, v) for v in value]
    raise ValueError(f"invalid config: `{key}` must be a number, bool, string or list, got {type(value).__name__}")


class BaseDetector:
    """Common PyOD contract. Subclasses set `_kind` (the registry name) and get keyword arguments
    with the names and defaults of the Rust config (see `oddity models` / `default_params()`).
    `_inferred` names hyperparameters whose Python default is None: taken from the data at fit."""

    _kind = None
    _defaults = {}
    _inferred = ()
    # scikit-learn < 1.6 reads the estimator type from this attribute (1.6+: `__sklearn_tags__`).
    _estimator_type = "outlier_detector"

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls._kind is None:
            return
        cls._defaults = {k: _pythonic(v) for k, v in json.loads(_native.default_config(cls._kind)).items()}
        params = [inspect.Parameter("contamination", inspect.Parameter.KEYWORD_ONLY, default=0.1)]
        params += [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=cls._param_default(k)) for k in cls._defaults]
        params += [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v) for k, v in _COMMON_TAIL.items()]

        def __init__(self, **kwargs):
            BaseDetector.__init__(self, **kwargs)

        __init__.__signature__ = inspect.Signature([inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)] + params)
        __init__.__qualname__ = f"{cls.__name__}.__init__"
        __init__.__doc__ = f"Hyperparameters of `{cls._kind}` (defaults from the Rust config): " + ", ".join(
            f"{k}={cls._param_default(k)!r}" for k in cls._defaults
        )
        cls.__init__ = __init__

    def __init__(self, **kwargs):
        if "seed" in kwargs:
            if "random_state" in kwargs:
                raise ValueError("give random_state or seed, not both")
            kwargs["random_state"] = kwargs.pop("seed")
        for k in self._get_param_names():
            setattr(self, k, self._param_default(k))
        self.set_params(**kwargs)

    # ---- sklearn-style parameters -------------------------------------------------------------

    @classmethod
    def _get_param_names(cls):
        return ["contamination", *cls._defaults, *_COMMON_TAIL]

    @classmethod
    def _param_default(cls, k):
        if k == "contamination":
            return 0.1
        if k in _COMMON_TAIL:
            return _COMMON_TAIL[k]
        return None if k in cls._inferred else cls._defaults.get(k)

    @classmethod
    def default_params(cls):
        """The model's hyperparameters with their defaults (a new dict)."""
        return {"contamination": 0.1, **{k: cls._param_default(k) for k in cls._defaults}}

    def get_params(self, deep=True):
        """Parameters as passed to the constructor (sklearn)."""
        return {k: getattr(self, k) for k in self._get_param_names()}

    def set_params(self, **params):
        """Sets and validates parameters (sklearn); an unknown name or a bad value raises ValueError
        and changes nothing."""
        known = set(self._get_param_names())
        for k in params:
            if k not in known:
                raise ValueError(
                    f"invalid config: `{k}` is not a hyperparameter of `{self._kind}` (known: {', '.join(sorted(known))})"
                )
        if "random_state" in params:
            check_random_state_param(params["random_state"])
        if "n_jobs" in params:
            check_n_jobs(params["n_jobs"])
        model = {
            k: _to_json_value(k, v)
            for k, v in params.items()
            if k not in _COMMON_TAIL and not (v is None and k in self._inferred)
        }
        # Check each given value alone first, so a type error names its field, then all together.
        for k, v in model.items():
            try:
                _native.check(self._kind, json.dumps({k: v}))
            except ValueError as e:
                msg = str(e)
                if f"`{k}`" in msg:
                    raise
                msg = msg.removeprefix(f"invalid config: `{self._kind}` ")
                raise ValueError(f"invalid config: `{k}` = {v!r}: {msg}") from None
        merged = json.loads(self._settings_json())
        merged.update(model)
        _native.check(self._kind, json.dumps(merged))
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def _settings_json(self, sample_shape=None):
        """The hyperparameters as JSON; inferred ones (None) from `sample_shape`, else the Rust default."""
        out = {}
        for k in ("contamination", *self._defaults):
            v = getattr(self, k)
            if v is None and k in self._inferred:
                v = self._infer(k, sample_shape) if sample_shape is not None else self._defaults[k]
            out[k] = _to_json_value(k, v)
        return json.dumps(out)

    @classmethod
    def _infer(cls, name, sample_shape):
        raise NotImplementedError(name)

    def __repr__(self):
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if not _same(v, self._param_default(k))]
        return f"{type(self).__name__}({', '.join(changed)})"

    # ---- scikit-learn protocol ----------------------------------------------------------------

    def __sklearn_tags__(self):
        """Estimator tags for scikit-learn >= 1.6: an outlier detector; weakly supervised models
        require y; GANomaly takes images (3-D / 4-D arrays), not 2-D ones."""
        from sklearn.utils import InputTags, Tags, TargetTags

        images = self._kind == "ganomaly"
        return Tags(
            estimator_type="outlier_detector",
            target_tags=TargetTags(required=self._kind in WEAKLY_SUPERVISED),
            input_tags=InputTags(two_d_array=not images, three_d_array=images),
        )

    def _more_tags(self):
        """The same tags for scikit-learn < 1.6."""
        tags = {"requires_y": self._kind in WEAKLY_SUPERVISED}
        if self._kind == "ganomaly":
            tags["X_types"] = ["3darray"]
        return tags

    def __sklearn_is_fitted__(self):
        return getattr(self, "detector_", None) is not None

    # ---- PyOD contract ------------------------------------------------------------------------

    def fit(self, X, y=None):
        """Fits on X (`[n, d]`, `[n, h, w]` or `[n, c, h, w]`). `y`: partial anomaly labels
        (1 = labelled anomaly, 0 = unlabelled) for DPLAN, DevNet, DeepSAD and REPEN; ignored by the
        unsupervised models. Releases the GIL; Ctrl-C stops the fit at its next progress step."""
        X = as_features(X)
        labels = None
        if self._kind in WEAKLY_SUPERVISED:
            labels = self._labels(y, X.shape[0])
        shape = X.shape[1:] if X.ndim != 3 else (1, *X.shape[1:])
        seed = seed_from(self.random_state)
        progress = ProgressPrinter() if self.verbose else None
        self.detector_ = _native.Model.fit(
            self._kind, self._settings_json(shape), X, labels, seed, progress, self.n_jobs
        )
        self._set_fitted_attributes()
        self.decision_scores_ = np.asarray(self.detector_.train_scores, dtype=np.float64)
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(int)
        return self

    def _labels(self, y, n):
        name = type(self).__name__
        if y is None:
            raise ValueError(
                f"{name} requires y to be passed, but the target y is None: give partial anomaly labels "
                "(1 = labelled anomaly, 0 = unlabelled) with at least one labelled anomaly"
            )
        labels = as_labels(y, n)
        if n < 2:
            raise ValueError(
                f"{name} needs at least 2 samples (labelled anomalies and unlabelled data), got 1 sample"
            )
        if not labels.any():
            raise ValueError(
                f"y has no labelled anomaly (all {n} labels are 0): {name} needs at least one sample "
                "with y = 1 (1 = labelled anomaly, 0 = unlabelled)"
            )
        return labels

    def _set_fitted_attributes(self):
        self.threshold_ = float(self.detector_.threshold)
        shape = tuple(self.detector_.sample_shape)
        self.n_features_in_ = int(np.prod(shape))
        self.sample_shape_ = shape
        self.seed_ = int(self.detector_.seed)

    def _check_fitted(self):
        if getattr(self, "detector_", None) is None:
            raise not_fitted(self)

    def _features(self, X):
        """X checked against the fitted sample shape (scikit-learn's message for a feature count)."""
        X = as_features(X)
        if len(self.sample_shape_) == 1 and X.ndim == 2 and X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting {self.n_features_in_} "
                f"features as input (samples are [{X.shape[1]}] but the model expects [{self.n_features_in_}])"
            )
        return X

    def decision_function(self, X):
        """Anomaly scores of X (float64), higher = more anomalous. Releases the GIL."""
        self._check_fitted()
        return np.asarray(self.detector_.score(self._features(X), self.n_jobs), dtype=np.float64)

    def predict(self, X, return_confidence=False):
        """0 = inlier, 1 = outlier: score strictly above `threshold_`. With `return_confidence`,
        also `predict_confidence(X)`: `(labels, confidence)`."""
        scores = self.decision_function(X)
        labels = (scores > self.threshold_).astype(int)
        if return_confidence:
            return labels, self._confidence(scores)
        return labels

    def predict_proba(self, X, method="linear", return_confidence=False):
        """`[n, 2]` probabilities of inlier / outlier (PyOD). `method="linear"`: the scores min-max
        scaled by the training scores' range, clipped to [0, 1]; `"unify"`: erf of the scores
        standardised by the training scores' mean and standard deviation (Kriegel et al. 2011),
        clipped to [0, 1]. With `return_confidence`, also `predict_confidence(X)`."""
        if method not in ("linear", "unify"):
            raise ValueError(f"method must be 'linear' or 'unify', got {method!r}")
        self._check_fitted()
        scores32 = self.detector_.score(self._features(X), self.n_jobs)
        p = np.asarray(self.detector_.probability(scores32, method), dtype=np.float64)
        scores = np.asarray(scores32, dtype=np.float64)
        proba = np.column_stack([1.0 - p, p])
        if return_confidence:
            return proba, self._confidence(scores)
        return proba

    def predict_confidence(self, X):
        """PyOD's confidence in each prediction (Perini et al. 2020): how surely the same label
        would be predicted from a slightly different training set, in [0, 1]. Needs SciPy."""
        return self._confidence(self.decision_function(X))

    def predict_with_rejection(self, X, T=32, return_stats=False, delta=0.1, c_fp=1, c_fn=1, c_r=-1):
        """PyOD's predictions with a reject option: 0 / 1, or -2 where the confidence is at most
        `1 - 2 exp(-T)`. With `return_stats`, also `[expected rejection rate, its upper bound,
        upper bound of the cost]` (`compute_rejection_stats`)."""
        scores = self.decision_function(X)
        labels = (scores > self.threshold_).astype(int)
        confidence = 2 * np.abs(self._confidence(scores) - 0.5)
        self.rejection_threshold_ = 1 - 2 * math.exp(-T)
        labels[confidence <= self.rejection_threshold_] = -2
        if return_stats:
            return labels, list(self.compute_rejection_stats(T=T, delta=delta, c_fp=c_fp, c_fn=c_fn, c_r=c_r))
        return labels

    def compute_rejection_stats(self, T=32, delta=0.1, c_fp=1, c_fn=1, c_r=-1, verbose=False):
        """PyOD's `(expected rejection rate, upper bound of the rejection rate (holds with
        probability 1 - delta), upper bound of the cost)` of `predict_with_rejection`. Needs SciPy."""
        from ._confidence import rejection_stats

        n = len(self._train_scores())
        c_r = self.contamination if c_r < 0 else c_r
        delta = 0.1 if not 0 < delta < 1 else delta
        stats = rejection_stats(n, self.contamination, T, delta, c_fp, c_fn, c_r)
        if verbose:
            print(f"Expected rejection rate: {stats[0]:.4f}; upper bound: {stats[1]:.4f}; upper bound cost: {stats[2]:.4f}")
        return stats

    def _train_scores(self):
        self._check_fitted()
        if getattr(self, "decision_scores_", None) is None:
            raise ValueError(
                f"this {type(self).__name__} was loaded from a model directory, which keeps the threshold and the "
                "training score range but not every training score: predict_confidence, predict_with_rejection and "
                "compute_rejection_stats need the training scores (fit it, or pickle it instead of save / load)"
            )
        return self.decision_scores_

    def _confidence(self, scores):
        from ._confidence import confidence

        return confidence(self._train_scores(), scores, self.contamination, self.threshold_)

    def fit_predict(self, X, y=None):
        """Fits, then returns `labels_`."""
        return self.fit(X, y).labels_

    def fit_predict_score(self, X, y, scoring="roc_auc_score"):
        """PyOD's (deprecated) fit on X, then ROC-AUC (`"roc_auc_score"`) or precision at rank n
        (`"prc_n_score"`, n = number of anomalies in y) of the training scores against the ground
        truth y; prints and returns it. Weakly supervised models need labels: fit them yourself."""
        from ._metrics import precision_at_n, roc_auc

        if scoring not in ("roc_auc_score", "prc_n_score"):
            raise NotImplementedError("scoring must be 'roc_auc_score' or 'prc_n_score' (as PyOD)")
        self.fit(X)
        metric = roc_auc if scoring == "roc_auc_score" else precision_at_n
        score = metric(np.asarray(y), self.decision_scores_)
        print(f"{scoring}: {score}")
        return score

    def _predict_rank(self, X, normalized=False):
        """PyOD's rank of each score among the training scores (how many are lower), optionally
        divided by the largest rank."""
        ranks = np.searchsorted(np.sort(self._train_scores()), self.decision_function(X))
        return ranks / ranks.max() if normalized else ranks

    # ---- model directories --------------------------------------------------------------------

    def save(self, path):
        """Writes the model directory (`model.json` + weights), the format of `oddity fit --out`.
        An existing model directory is replaced; any other existing file or non-empty directory
        raises FileExistsError (nothing is deleted)."""
        self._check_fitted()
        p = os.fspath(path)
        if os.path.exists(p):
            is_model = os.path.isdir(p) and os.path.isfile(os.path.join(p, "model.json"))
            if not is_model and (not os.path.isdir(p) or os.listdir(p)):
                what = "a file" if not os.path.isdir(p) else "a non-empty directory without model.json"
                raise FileExistsError(f"{p}: is {what}, not an oddity model directory; not overwriting it")
        self.detector_.save(p)
        return path

    @classmethod
    def load(cls, path):
        """Loads a model directory written by `save` or by `oddity fit`. On a class other than
        `BaseDetector`, the directory must hold that model (else ValueError); a missing directory
        raises FileNotFoundError."""
        p = os.fspath(path)
        if not os.path.exists(p):
            raise FileNotFoundError(errno.ENOENT, "model directory does not exist", p)
        native = _native.Model.load(p)
        target = _CLASSES.get(native.kind)
        if target is None:
            raise ValueError(f"{path}: model kind `{native.kind}` has no Python class")
        if cls is not BaseDetector and cls is not target:
            raise ValueError(f"{path}: holds a `{native.kind}` model, not `{cls._kind}` (use oddity.load)")
        return target._from_native(native)

    @classmethod
    def _from_native(cls, native):
        self = cls.__new__(cls)
        BaseDetector.__init__(self)
        config = json.loads(native.config_json)
        shape = tuple(native.sample_shape)
        for k, v in config.items():
            if k in cls._defaults:
                # an inferred hyperparameter stays None (as fitted) when the data implies its value
                inferred = k in cls._inferred and cls._infer(k, shape) == v
                setattr(self, k, None if inferred else _pythonic(v))
        self.contamination = float(native.contamination)
        self.random_state = int(native.seed)
        self.detector_ = native
        self._set_fitted_attributes()
        # The model directory keeps the threshold and the training score range, not every
        # training score: decision_scores_, labels_ and the confidence methods exist only after fit().
        self.decision_scores_ = None
        self.labels_ = None
        return self

    # ---- pickling (joblib, Spark closures): the model directory's files ------------------------

    def __getstate__(self):
        state = self.__dict__.copy()
        native = state.pop("detector_", None)
        if native is not None:
            with tempfile.TemporaryDirectory() as tmp:
                native.save(os.path.join(tmp, "m"))
                state["_model_files"] = _read_dir(os.path.join(tmp, "m"))
        return state

    def __setstate__(self, state):
        files = state.pop("_model_files", None)
        self.__dict__.update(state)
        if files is not None:
            with tempfile.TemporaryDirectory() as tmp:
                _write_dir(os.path.join(tmp, "m"), files)
                self.detector_ = _native.Model.load(os.path.join(tmp, "m"))


def _same(a, b):
    """`a == b` for parameter values that may be lists, tuples, arrays or generators (for repr)."""
    if isinstance(a, (list, tuple, np.ndarray)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _read_dir(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            full = os.path.join(dirpath, name)
            with open(full, "rb") as f:
                out[os.path.relpath(full, root)] = f.read()
    return out


def _write_dir(root, files):
    for rel, data in files.items():
        full = os.path.join(root, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)


#: registry name → class, filled by the subclasses below.
_CLASSES = {}


def _register(cls):
    _CLASSES[cls._kind] = cls
    return cls
