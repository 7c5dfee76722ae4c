"""PyOD's prediction confidence (Perini et al. 2020, "Quantifying the confidence of anomaly
detectors in their example-wise predictions") and the reject option built on it (Perini et al.
2023), with PyOD's formulas. Needs SciPy (the binomial distribution), as PyOD does."""

import math

import numpy as np


def _scipy():
    try:
        from scipy.optimize import brentq
        from scipy.stats import binom
    except ImportError:
        raise ImportError(
            "predict_confidence / predict_with_rejection / compute_rejection_stats need SciPy: "
            "pip install scipy (or pip install 'oddity[confidence]')"
        ) from None
    return binom, brentq


def confidence(train_scores, scores, contamination, threshold):
    """Confidence of each prediction `score > threshold`: the posterior probability that the
    sample's training rank lands on the same side of the contamination cut-off."""
    binom, _ = _scipy()
    train = np.sort(np.asarray(train_scores, dtype=np.float64))
    n = len(train)
    below = np.searchsorted(train, scores, side="right")  # training scores <= each score
    posterior = (1 + below) / (2 + n)
    conf = 1 - binom.cdf(n - int(n * contamination), n, posterior)
    inlier = scores <= threshold
    conf[inlier] = 1 - conf[inlier]
    return conf


def rejection_stats(n, contamination, T, delta, c_fp, c_fn, c_r):
    """`(expected rejection rate, its upper bound w.p. 1 - delta, upper bound of the cost)` for
    `n` training samples."""
    binom, brentq = _scipy()
    k = int(n * contamination) - 1
    if k < 0:
        raise ValueError(
            f"compute_rejection_stats needs n_train * contamination >= 1, got {n} * {contamination}"
        )

    def quantile(c):
        return brentq(lambda p: binom.cdf(k, n, p) - c, 0.0, 1.0)

    q1, q2 = quantile(1 - math.exp(-T)), quantile(math.exp(-T))
    expected = q2 - q1
    g = contamination
    right = min(1.0, (-g * (n + 2) + n + 1) / n + (T * (n + 2)) / math.sqrt(2 * n**3 * T))
    inner = 0.5 * n**5 * (2 * n * (-3 * g**2 - 2 * n * (1 - g) ** 2 + 4 * g - 3) + T * (n + 2) ** 2 - 8)
    # PyOD's max(0, nan) is 0 where the square root is of a negative number
    left = max(0.0, (2 + n * (1 - g) * (n + 1)) / n**2 - math.sqrt(inner) / n**4) if inner >= 0 else 0.0
    upper_rate = right - left + 2 * math.sqrt(math.log(2 / delta) / (2 * n))
    upper_cost = min(g, q1) * c_fp + min(1 - q2, g) * c_fn + (q2 - q1) * c_r
    return expected, upper_rate, upper_cost
