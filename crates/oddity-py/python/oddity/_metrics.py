"""The two scores of PyOD's `fit_predict_score`, without scikit-learn."""

import numpy as np


def roc_auc(truth, scores):
    """ROC-AUC by the rank-sum formula (ties get average ranks)."""
    truth = np.asarray(truth).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # average rank of each run of ties
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], len(scores)]
    for a, b in zip(starts, ends):
        ranks[order[a:b]] = (a + b + 1) / 2
    npos, nneg = truth.sum(), (~truth).sum()
    if npos == 0 or nneg == 0:
        raise ValueError("ROC-AUC needs both anomalies (1) and normal samples (0) in y")
    return float((ranks[truth].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def precision_at_n(truth, scores):
    """Precision of the samples scored above the (1 - n / len) percentile, n = anomalies in y
    (PyOD's `precision_n_scores`)."""
    truth = np.asarray(truth).astype(int)
    n = int(truth.sum())
    threshold = np.percentile(scores, 100 * (1 - n / len(truth)))
    flagged = np.asarray(scores) > threshold
    return float((truth[flagged] == 1).mean()) if flagged.any() else 0.0
