"""oddity: deep anomaly detection in Rust, with PyOD's API.

    >>> from oddity import IForest
    >>> det = IForest(contamination=0.05, random_state=0).fit(X)
    >>> det.decision_function(X_new)   # higher = more anomalous
    >>> det.predict(X_new)             # 0 / 1
    >>> det.save("model-dir"); IForest.load("model-dir")

Models are saved as the same directories the `oddity` CLI writes and reads (`oddity fit --out`,
`oddity score --model-dir`).
"""

from . import _native
from ._base import WEAKLY_SUPERVISED, BaseDetector, _register
from ._errors import NotFittedError
from ._native import DivergedError

__version__ = _native.__version__


@_register
class IForest(BaseDetector):
    """Isolation Forest (Liu et al. 2008), scikit-learn / PyOD defaults. Unsupervised; tabular."""

    _kind = "iforest"


@_register
class GANomaly(BaseDetector):
    """GANomaly (Akcay et al. 2018): images `[n, c, h, w]` or `[n, h, w]`, fitted on normal data.
    `nc` (channels) and `isize` (network side; images are resized to it) default to None: taken
    from the data at fit (`c`, and the smallest power of two >= max(h, w, 16))."""

    _kind = "ganomaly"
    _inferred = ("nc", "isize")

    @classmethod
    def _infer(cls, name, sample_shape):
        if len(sample_shape) != 3:  # not images: the Rust default, and fit reports the layout
            return cls._defaults[name]
        c, h, w = sample_shape
        return int(c) if name == "nc" else 1 << (max(16, h, w) - 1).bit_length()


@_register
class DPLAN(BaseDetector):
    """DPLAN (Pang et al. 2021): deep Q-learning from a few labelled anomalies. `fit(X, y)` with
    y = 1 for labelled anomalies, 0 for unlabelled samples."""

    _kind = "dplan"


@_register
class DeepCluster(BaseDetector):
    """Deep clustering (DEC / IDEC / DCEC); anomaly score = distance to the nearest centroid.
    `arch="conv"` (default) needs images; use `arch="mlp"` for tabular data."""

    _kind = "deep-cluster"


@_register
class DevNet(BaseDetector):
    """DevNet (Pang et al. 2019): deviation networks. `fit(X, y)` with y = 1 for labelled
    anomalies, 0 for unlabelled samples."""

    _kind = "devnet"


@_register
class DeepSAD(BaseDetector):
    """Deep SAD (Ruff et al. 2020). `fit(X, y)` with y = 1 for labelled anomalies, 0 for
    unlabelled samples."""

    _kind = "deep-sad"


@_register
class REPEN(BaseDetector):
    """REPEN (Pang et al. 2018) with known outliers. `fit(X, y)` with y = 1 for labelled
    anomalies, 0 for unlabelled samples."""

    _kind = "repen"


def load(path):
    """Loads any model directory (from `save` or `oddity fit`) as the matching class."""
    return BaseDetector.load(path)


def models():
    """`(name, about, protocol, input)` of every model in the Rust registry, e.g.
    `("devnet", "...", "weakly-supervised", "tabular")`."""
    return _native.models()


__all__ = [
    "BaseDetector",
    "NotFittedError",
    "DivergedError",
    "IForest",
    "GANomaly",
    "DPLAN",
    "DeepCluster",
    "DevNet",
    "DeepSAD",
    "REPEN",
    "WEAKLY_SUPERVISED",
    "load",
    "models",
]
