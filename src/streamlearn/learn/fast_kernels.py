"""Compiled loops of :class:`~streamlearn.learn.fast.FastClassifier`.

Every public kernel is built from the same two row functions,
:func:`_score_row` and :func:`_learn_row`, and nothing is compiled with
fast-math: the per-record calls and the batch loop do the same arithmetic in
the same order, so they agree bit for bit.

State (all NumPy arrays, updated in place):

* ``mean``, ``m2``, ``seen`` (per numeric feature): Welford's running mean
  and sum of squares over finite values, for standardising;
* ``counts[row, c]`` and ``totals[row]``: ``int32`` class counts per hashed
  cell; expert ``e`` owns rows ``offsets[e]`` to ``offsets[e] + sizes[e] - 1``;
* ``class_counts[c]``: records learned per class.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["learn_kernel", "predict_kernel", "test_then_train_kernel"]

_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)
_MISSING_BIN = 1 << 40  # the bin of a NaN or infinite value
_HALVE_AT = 1 << 30  # counts are halved before an int32 could overflow


@njit(cache=True, inline="always")
def _mix(h: np.uint64) -> np.uint64:
    # splitmix64 finaliser: FNV alone leaves the low bits poorly mixed
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


@njit(cache=True)
def _cells(
    x: np.ndarray,
    num_idx: np.ndarray,
    cat_idx: np.ndarray,
    num_mask: np.ndarray,
    cat_mask: np.ndarray,
    bins: np.ndarray,
    clip: float,
    mean: np.ndarray,
    m2: np.ndarray,
    seen: np.ndarray,
    offsets: np.ndarray,
    sizes: np.ndarray,
    cells: np.ndarray,
) -> None:
    """The table row of ``x``'s cell in every expert's grid, written to ``cells``."""
    dn, dc = len(num_idx), len(cat_idx)
    for e in range(len(bins)):
        h = _FNV_OFFSET ^ np.uint64(e + 1)
        for a in range(dn):
            if not num_mask[e, a]:
                continue
            v = x[num_idx[a]]
            if math.isfinite(v):
                sd = math.sqrt(m2[a] / seen[a]) if seen[a] > 1 else 0.0
                z = (v - mean[a]) / sd if sd > 0.0 else 0.0
                z = min(max(z, -clip), clip)
                b = np.int64(math.floor(z * bins[e]))
            else:
                b = np.int64(_MISSING_BIN)
            h = (h ^ np.uint64(b + (a + 1) * 4096)) * _FNV_PRIME
        for k in range(dc):
            if cat_mask[e, k]:
                code = np.int64(x[cat_idx[k]]) if math.isfinite(x[cat_idx[k]]) else np.int64(-1)
                h = (h ^ np.uint64(code + (k + 1) * (1 << 32))) * _FNV_PRIME
        cells[e] = offsets[e] + np.int64((_mix(h) >> np.uint64(1)) % np.uint64(sizes[e]))


@njit(cache=True)
def _score_row(
    cells: np.ndarray,
    counts: np.ndarray,
    totals: np.ndarray,
    class_counts: np.ndarray,
    alpha: float,
) -> int:
    """Most probable class under the product of the experts (-1 before any class)."""
    n_total = 0
    for c in range(len(class_counts)):
        n_total += class_counts[c]
    if n_total == 0:
        return -1
    best, best_score = -1, -math.inf
    for c in range(len(class_counts)):
        if class_counts[c] == 0:
            continue
        prior = class_counts[c] / n_total
        log_prior = math.log(prior)
        score = log_prior
        for e in range(len(cells)):
            row = cells[e]
            # P(c | cell), smoothed towards the prior by alpha pseudo-records
            p = (counts[row, c] + alpha * prior) / (totals[row] + alpha)
            score += math.log(p) - log_prior
        if score > best_score:  # ties keep the smallest class code
            best, best_score = c, score
    return best


@njit(cache=True)
def _learn_row(
    x: np.ndarray,
    label: int,
    cells: np.ndarray,
    num_idx: np.ndarray,
    mean: np.ndarray,
    m2: np.ndarray,
    seen: np.ndarray,
    counts: np.ndarray,
    totals: np.ndarray,
    class_counts: np.ndarray,
) -> None:
    for e in range(len(cells)):
        row = cells[e]
        if totals[row] >= _HALVE_AT:
            total = 0
            for c in range(counts.shape[1]):
                counts[row, c] //= 2
                total += counts[row, c]
            totals[row] = total
        counts[row, label] += 1
        totals[row] += 1
    class_counts[label] += 1
    for a in range(len(num_idx)):
        v = x[num_idx[a]]
        if math.isfinite(v):
            seen[a] += 1
            delta = v - mean[a]
            mean[a] += delta / seen[a]
            m2[a] += delta * (v - mean[a])


@njit(cache=True)
def predict_kernel(
    X: np.ndarray,
    num_idx: np.ndarray,
    cat_idx: np.ndarray,
    num_mask: np.ndarray,
    cat_mask: np.ndarray,
    bins: np.ndarray,
    clip: float,
    offsets: np.ndarray,
    sizes: np.ndarray,
    alpha: float,
    mean: np.ndarray,
    m2: np.ndarray,
    seen: np.ndarray,
    counts: np.ndarray,
    totals: np.ndarray,
    class_counts: np.ndarray,
    out: np.ndarray,
) -> None:
    cells = np.empty(len(bins), dtype=np.int64)
    for i in range(X.shape[0]):
        _cells(
            X[i],
            num_idx,
            cat_idx,
            num_mask,
            cat_mask,
            bins,
            clip,
            mean,
            m2,
            seen,
            offsets,
            sizes,
            cells,
        )
        out[i] = _score_row(cells, counts, totals, class_counts, alpha)


@njit(cache=True)
def learn_kernel(
    X: np.ndarray,
    y: np.ndarray,
    num_idx: np.ndarray,
    cat_idx: np.ndarray,
    num_mask: np.ndarray,
    cat_mask: np.ndarray,
    bins: np.ndarray,
    clip: float,
    offsets: np.ndarray,
    sizes: np.ndarray,
    mean: np.ndarray,
    m2: np.ndarray,
    seen: np.ndarray,
    counts: np.ndarray,
    totals: np.ndarray,
    class_counts: np.ndarray,
) -> int:
    """Learn every row whose label fits the table; returns how many did not."""
    cells = np.empty(len(bins), dtype=np.int64)
    skipped = 0
    for i in range(X.shape[0]):
        if y[i] < 0 or y[i] >= counts.shape[1]:
            skipped += 1
            continue
        _cells(
            X[i],
            num_idx,
            cat_idx,
            num_mask,
            cat_mask,
            bins,
            clip,
            mean,
            m2,
            seen,
            offsets,
            sizes,
            cells,
        )
        _learn_row(X[i], y[i], cells, num_idx, mean, m2, seen, counts, totals, class_counts)
    return skipped


@njit(cache=True)
def test_then_train_kernel(
    X: np.ndarray,
    y: np.ndarray,
    num_idx: np.ndarray,
    cat_idx: np.ndarray,
    num_mask: np.ndarray,
    cat_mask: np.ndarray,
    bins: np.ndarray,
    clip: float,
    offsets: np.ndarray,
    sizes: np.ndarray,
    alpha: float,
    mean: np.ndarray,
    m2: np.ndarray,
    seen: np.ndarray,
    counts: np.ndarray,
    totals: np.ndarray,
    class_counts: np.ndarray,
    out: np.ndarray,
) -> int:
    """Predict each row, then learn it: the per-record loop, compiled."""
    cells = np.empty(len(bins), dtype=np.int64)
    skipped = 0
    for i in range(X.shape[0]):
        # the cells depend on the scaling statistics only, which learning changes
        # after the prediction: computing them once serves both steps
        _cells(
            X[i],
            num_idx,
            cat_idx,
            num_mask,
            cat_mask,
            bins,
            clip,
            mean,
            m2,
            seen,
            offsets,
            sizes,
            cells,
        )
        out[i] = _score_row(cells, counts, totals, class_counts, alpha)
        if y[i] < 0 or y[i] >= counts.shape[1]:
            skipped += 1
            continue
        _learn_row(X[i], y[i], cells, num_idx, mean, m2, seen, counts, totals, class_counts)
    return skipped
