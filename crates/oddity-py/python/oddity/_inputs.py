"""Turning user inputs (NumPy, pandas, PyArrow, lists) into what the native module takes."""

import numpy as np


def as_features(X, name="X"):
    """X as a float32/float64 NumPy array of 2 to 4 dimensions, without copying when possible.

    The native side reads float32 and float64 in any memory order (C or Fortran) and copies once
    into its own row-major float32 buffer, so no conversion is done here for those.
    """
    if X is None:
        raise ValueError(f"{name} is None")
    mod = type(X).__module__ or ""
    if mod.startswith("scipy.sparse"):
        raise TypeError(
            f"Sparse data was passed for {name}, but dense data is required: sparse input is not supported. "
            f"Use {name}.toarray() to convert to a dense numpy array."
        )
    if mod.startswith("pyarrow"):
        X = _arrow_to_numpy(X)
    elif mod.startswith("pandas"):
        X = X.to_numpy()
    X = np.asarray(X)
    if X.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {X.dtype} (pass the real part or the magnitude)")
    if X.dtype not in (np.float32, np.float64):
        if X.dtype.kind not in "biuf":
            try:
                X = X.astype(np.float64)
            except (TypeError, ValueError) as e:
                # ValueError for text, TypeError for other objects (as numpy / scikit-learn)
                raise type(e)(f"{name} must be numeric, got dtype {X.dtype}: {e}") from None
        else:
            X = X.astype(np.float32 if X.dtype.itemsize <= 2 else np.float64)
    if X.ndim == 1:
        raise ValueError(
            f"Expected 2D array for {name}, got 1D array of {X.shape[0]} values instead. Reshape your data "
            f"either using {name}.reshape(-1, 1) if it has a single feature or {name}.reshape(1, -1) if it "
            "contains a single sample"
        )
    if X.ndim not in (2, 3, 4):
        raise ValueError(f"{name} must have shape [n, d], [n, h, w] or [n, c, h, w], got shape {X.shape}")
    if X.ndim == 2 and X.shape[1] == 0:
        raise ValueError(f"{name} has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
    return X


def _arrow_to_numpy(table):
    """A pyarrow Table / RecordBatch (or ChunkedArray / Array) as a 2-D array, column by column."""
    if hasattr(table, "columns") and hasattr(table, "num_columns"):
        cols = [c.to_numpy(zero_copy_only=False) if hasattr(c, "to_numpy") else np.asarray(c) for c in table.columns]
        if not cols:
            raise ValueError("X has no columns")
        return np.column_stack(cols)
    return np.asarray(table)


def as_labels(y, n):
    """Partial anomaly labels as uint8 0/1 (1 = labelled anomaly, 0 = unlabelled)."""
    mod = type(y).__module__ or ""
    if mod.startswith("pyarrow"):
        y = y.to_numpy(zero_copy_only=False) if hasattr(y, "to_numpy") else np.asarray(y)
    elif mod.startswith("pandas"):
        y = y.to_numpy()
    y = np.asarray(y)
    if y.dtype == object:
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                "Unknown label type: y must hold 0 (unlabelled / normal) or 1 (labelled anomaly), "
                f"found {list(y.ravel()[:3])}"
            ) from None
    if y.ndim != 1:
        y = y.reshape(-1) if y.ndim == 2 and 1 in y.shape else y
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"y must be a 1-D array of {n} labels, got shape {y.shape}")
    if y.dtype == bool:
        return y.astype(np.uint8)
    if y.dtype.kind not in "iuf" or not np.all((y == 0) | (y == 1)):
        bad = y[~((y == 0) | (y == 1))][:3] if y.dtype.kind in "iuf" else y[:3]
        raise ValueError(f"y must hold 0 (unlabelled / normal) or 1 (labelled anomaly), found {list(bad)}")
    return y.astype(np.uint8)
