"""PyOD-style detector classes over the native models."""

import inspect
import json
import os
import tempfile

import numpy as np

from . import _native
from ._inputs import as_features, as_labels
from ._progress import ProgressPrinter

#: Models whose `fit` reads partial anomaly labels `y` (1 = labelled anomaly, 0 = unlabelled).
WEAKLY_SUPERVISED = {"dplan", "devnet", "deep-sad", "repen"}

#: Parameters every class takes besides the model's own hyperparameters.
_COMMON = ("contamination", "random_state", "verbose")


def _pythonic(value):
    """A default from the Rust config as Python would write it: float32 fields as `0.1`, not
    `0.10000000149011612`; lists stay lists."""
    if isinstance(value, float):
        f32 = np.float32(value)
        if float(f32) == value:
            return float(str(f32))
        return value
    if isinstance(value, list):
        return [_pythonic(v) for v in value]
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
    with the names and defaults of the Rust config (see `oddity models` / `default_params()`)."""

    _kind = None
    _defaults = {}

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls._kind is None:
            return
        cls._defaults = {k: _pythonic(v) for k, v in json.loads(_native.default_config(cls._kind)).items()}
        params = [inspect.Parameter("contamination", inspect.Parameter.KEYWORD_ONLY, default=0.1)]
        params += [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v) for k, v in cls._defaults.items()]
        params += [
            inspect.Parameter("random_state", inspect.Parameter.KEYWORD_ONLY, default=None),
            inspect.Parameter("verbose", inspect.Parameter.KEYWORD_ONLY, default=False),
        ]

        def __init__(self, **kwargs):
            BaseDetector.__init__(self, **kwargs)

        __init__.__signature__ = inspect.Signature([inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)] + params)
        __init__.__qualname__ = f"{cls.__name__}.__init__"
        __init__.__doc__ = f"Hyperparameters of `{cls._kind}` (defaults from the Rust config): " + ", ".join(
            f"{k}={v!r}" for k, v in cls._defaults.items()
        )
        cls.__init__ = __init__

    def __init__(self, **kwargs):
        if "seed" in kwargs:
            if "random_state" in kwargs:
                raise ValueError("give random_state or seed, not both")
            kwargs["random_state"] = kwargs.pop("seed")
        self.contamination = 0.1
        self.random_state = None
        self.verbose = False
        for k, v in self._defaults.items():
            setattr(self, k, v)
        self.set_params(**kwargs)

    # ---- sklearn-style parameters -------------------------------------------------------------

    @classmethod
    def _get_param_names(cls):
        return ["contamination", *cls._defaults, "random_state", "verbose"]

    @classmethod
    def default_params(cls):
        """The model's hyperparameters with their defaults (a new dict)."""
        return {"contamination": 0.1, **{k: _pythonic(v) for k, v in cls._defaults.items()}}

    def get_params(self, deep=True):
        """Parameters as passed to the constructor (sklearn)."""
        return {k: getattr(self, k) for k in self._get_param_names()}

    def set_params(self, **params):
        """Sets and validates parameters (sklearn); an unknown name or a bad value raises ValueError."""
        known = set(self._get_param_names())
        for k in params:
            if k not in known:
                raise ValueError(
                    f"invalid config: `{k}` is not a hyperparameter of `{self._kind}` (known: {', '.join(sorted(known))})"
                )
        rs = params.get("random_state", self.random_state)
        if rs is not None and (isinstance(rs, bool) or not isinstance(rs, (int, np.integer)) or rs < 0):
            raise ValueError(f"invalid config: `random_state` must be None or a non-negative integer, got {rs!r}")
        model = {k: _to_json_value(k, v) for k, v in params.items() if k not in ("random_state", "verbose")}
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
        merged = {k: _to_json_value(k, getattr(self, k)) for k in ("contamination", *self._defaults)}
        merged.update(model)
        _native.check(self._kind, json.dumps(merged))
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def _settings_json(self):
        return json.dumps({k: _to_json_value(k, getattr(self, k)) for k in ("contamination", *self._defaults)})

    def _seed(self):
        return 0 if self.random_state is None else int(self.random_state)

    def __repr__(self):
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if v != self._param_default(k)]
        return f"{type(self).__name__}({', '.join(changed)})"

    def _param_default(self, k):
        return {"contamination": 0.1, "random_state": None, "verbose": False}.get(k, self._defaults.get(k))

    # ---- PyOD contract ------------------------------------------------------------------------

    def fit(self, X, y=None):
        """Fits on X (`[n, d]`, `[n, h, w]` or `[n, c, h, w]`). `y`: partial anomaly labels
        (1 = labelled anomaly, 0 = unlabelled) for DPLAN, DevNet, DeepSAD and REPEN; ignored by the
        unsupervised models. Releases the GIL; Ctrl-C stops the fit at its next progress step."""
        X = as_features(X)
        labels = None
        if y is not None and self._kind in WEAKLY_SUPERVISED:
            labels = as_labels(y, X.shape[0])
        progress = ProgressPrinter() if self.verbose else None
        self.detector_ = _native.Model.fit(self._kind, self._settings_json(), X, labels, self._seed(), progress)
        self._set_fitted_attributes()
        self.decision_scores_ = np.asarray(self.detector_.train_scores, dtype=np.float64)
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(int)
        return self

    def _set_fitted_attributes(self):
        self.threshold_ = float(self.detector_.threshold)
        self._train_range = tuple(float(v) for v in self.detector_.train_score_range)
        shape = tuple(self.detector_.sample_shape)
        self.n_features_in_ = int(np.prod(shape))
        self.sample_shape_ = shape

    def _check_fitted(self):
        if getattr(self, "detector_", None) is None:
            raise ValueError(f"this {type(self).__name__} is not fitted yet: call fit(X) first")

    def decision_function(self, X):
        """Anomaly scores of X (float64), higher = more anomalous. Releases the GIL."""
        self._check_fitted()
        return np.asarray(self.detector_.score(as_features(X)), dtype=np.float64)

    def predict(self, X):
        """0 = inlier, 1 = outlier: score strictly above `threshold_`."""
        return (self.decision_function(X) > self.threshold_).astype(int)

    def predict_proba(self, X, method="linear"):
        """`[n, 2]` probabilities of inlier / outlier: the scores min-max scaled by the training
        scores' range and clipped to [0, 1] (PyOD's `method="linear"`)."""
        if method != "linear":
            raise ValueError(f"method must be 'linear', got {method!r}")
        scores = self.decision_function(X)
        lo, hi = self._train_range
        p = np.clip((scores - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros_like(scores)
        return np.column_stack([1.0 - p, p])

    def fit_predict(self, X, y=None):
        """Fits, then returns `labels_`."""
        return self.fit(X, y).labels_

    # ---- model directories --------------------------------------------------------------------

    def save(self, path):
        """Writes the model directory (`model.json` + weights), the format of `oddity fit --out`."""
        self._check_fitted()
        self.detector_.save(os.fspath(path))
        return path

    @classmethod
    def load(cls, path):
        """Loads a model directory written by `save` or by `oddity fit`. On a class other than
        `BaseDetector`, the directory must hold that model (else ValueError)."""
        native = _native.Model.load(os.fspath(path))
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
        for k, v in config.items():
            if k in cls._defaults:
                setattr(self, k, _pythonic(v))
        self.contamination = float(native.contamination)
        self.random_state = int(native.seed)
        self.detector_ = native
        self._set_fitted_attributes()
        # The model directory keeps the threshold and the training score range, not every
        # training score: decision_scores_ and labels_ exist only after fit().
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
