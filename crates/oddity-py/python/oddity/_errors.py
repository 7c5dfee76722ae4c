"""`NotFittedError`: scikit-learn's when scikit-learn is loaded, so both `except` clauses work."""

import sys


class NotFittedError(ValueError, AttributeError):
    """Raised when a detector is used before `fit` (a ValueError and an AttributeError, like
    scikit-learn's `sklearn.exceptions.NotFittedError`)."""


_both = None


def not_fitted(obj):
    """The exception to raise for an unfitted `obj`. When scikit-learn is already imported, its
    class is also a base, so `except sklearn.exceptions.NotFittedError` catches it (importing
    scikit-learn only for this would cost half a second at the first error)."""
    global _both
    cls = NotFittedError
    if "sklearn" in sys.modules:
        if _both is None:
            from sklearn.exceptions import NotFittedError as SkNotFitted

            _both = type("NotFittedError", (NotFittedError, SkNotFitted), {"__module__": __name__})
        cls = _both
    name = type(obj).__name__
    return cls(
        f"This {name} instance is not fitted yet. Call 'fit' with appropriate arguments before using this estimator."
    )
