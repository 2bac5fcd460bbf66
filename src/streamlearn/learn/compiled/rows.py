"""Row functions the compiled learners share: running standardisation and hashed categories.

Every compiled learner sees a record as ``dn`` standardised numbers and
``dc`` hashed category buckets:

* a number is standardised with the running mean and standard deviation of
  its column *before* the record is learned (Welford's update over finite
  values); a NaN or infinite value counts as the mean, i.e. 0;
* a category code ``v`` of column ``k`` lands in bucket
  ``hash(k, v) mod table`` of a fixed table, so memory does not grow with
  the categories seen and an unseen category needs no special case.

Nothing is compiled with fast-math, so the per-record paths and the batch
loops built from these functions agree bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["CLIP", "bucket", "buckets", "scaler_learn", "standardise"]

#: a variance below this counts as none (a constant column): values standardise to 0
_TINY_VAR = 1e-12
#: standardised values are clipped here: one outlier must not blow up a gradient step
CLIP = 8.0


@njit(cache=True, nogil=True, inline="always")
def bucket(column: int, code: float, table: int) -> int:
    """The hashed bucket of category ``code`` of categorical column ``column``."""
    if not math.isfinite(code):
        code = -1.0
    h = np.uint64(np.int64(code) & 0xFFFFFFFFFFFF) * np.uint64(0x9E3779B97F4A7C15)
    h ^= np.uint64(column + 1) * np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(31)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(29)
    return int(h % np.uint64(table))


@njit(cache=True, nogil=True)
def standardise(
    x: np.ndarray,
    num_idx: np.ndarray,
    mean: np.ndarray,
    m2: np.ndarray,
    seen: np.ndarray,
    z: np.ndarray,
) -> None:
    """``z[a]`` = column ``num_idx[a]`` of ``x`` standardised with the running statistics."""
    for a in range(num_idx.shape[0]):
        v = x[num_idx[a]]
        n = seen[a]
        var = m2[a] / n if n >= 2 else 0.0
        if not math.isfinite(v) or var <= _TINY_VAR:
            z[a] = 0.0
            continue
        s = (v - mean[a]) / math.sqrt(var)
        z[a] = min(max(s, -CLIP), CLIP)


@njit(cache=True, nogil=True)
def scaler_learn(
    x: np.ndarray, num_idx: np.ndarray, mean: np.ndarray, m2: np.ndarray, seen: np.ndarray
) -> None:
    """Welford's update of the running statistics with the finite numbers of ``x``."""
    for a in range(num_idx.shape[0]):
        v = x[num_idx[a]]
        if not math.isfinite(v):
            continue
        seen[a] += 1
        d = v - mean[a]
        mean[a] += d / seen[a]
        m2[a] += d * (v - mean[a])


@njit(cache=True, nogil=True)
def buckets(x: np.ndarray, cat_idx: np.ndarray, table: int, offset: int, out: np.ndarray) -> None:
    """``out[k]`` = ``offset`` + the bucket of categorical column ``cat_idx[k]``."""
    for k in range(cat_idx.shape[0]):
        out[k] = offset + bucket(k, x[cat_idx[k]], table)
