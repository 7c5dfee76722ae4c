"""`random_state` and `n_jobs` as PyOD / scikit-learn mean them."""

import numpy as np

_MAX_SEED = np.iinfo(np.int64).max


def check_random_state_param(rs):
    """ValueError unless `rs` is None, a non-negative int, a RandomState or a Generator."""
    if rs is None or isinstance(rs, (np.random.RandomState, np.random.Generator)):
        return
    if isinstance(rs, (bool, np.bool_)) or not isinstance(rs, (int, np.integer)) or rs < 0:
        raise ValueError(
            "invalid config: `random_state` must be None, a non-negative integer, a numpy.random.RandomState "
            f"or a numpy.random.Generator, got {rs!r}"
        )


def seed_from(rs):
    """The u64 seed of one fit: an int as is; a RandomState / Generator draws one (so a shared
    generator gives each fit a different, reproducible seed); None draws fresh OS entropy."""
    if rs is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
    if isinstance(rs, np.random.RandomState):
        return int(rs.randint(0, _MAX_SEED, dtype=np.int64))
    if isinstance(rs, np.random.Generator):
        return int(rs.integers(0, _MAX_SEED))
    return int(rs)


def check_n_jobs(n_jobs):
    """ValueError unless `n_jobs` is None or a non-zero int (joblib's meaning: -1 = all cores,
    -2 = all but one, ...)."""
    if n_jobs is None:
        return
    if isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise ValueError(f"invalid config: `n_jobs` must be None or a non-zero integer, got {n_jobs!r}")
