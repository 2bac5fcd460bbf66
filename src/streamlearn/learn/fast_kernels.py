"""Compiled loops of :class:`~streamlearn.learn.fast.FastClassifier`.

Every public kernel is built from the same row functions (:func:`_cells`,
:func:`_score_row`, :func:`_learn_row`) and nothing is compiled with
fast-math: the per-record calls and the batch loop do the same arithmetic in
the same order, so they agree bit for bit.

Kernels take two tuples (numba passes the arrays in them by reference):

``layout = (num_idx, cat_idx, num_mask, cat_mask, bins, clip, offsets, sizes, half_life)``
    Which columns are numeric or categorical, which columns each expert
    ``e`` grids and at how many cells per standard deviation, where its
    buckets start in the table and how many it has, and the forgetting
    period (0 = never).

``state = (mean, m2, seen, counts, totals, class_counts, clock)``
    Welford's running mean and sum of squares over finite values per
    numeric column (for standardising), ``int32`` class counts
    ``counts[bucket, c]`` with their row sums ``totals[bucket]``, records
    learned per class, and ``clock[0]``, the records learned so far.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

__all__ = ["learn_kernel", "predict_kernel", "test_then_train_kernel"]

_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)
_MISSING_BIN = 1 << 40  # the bin of a NaN or infinite value
_HALVE_AT = 1 << 30  # a bucket is halved before an int32 count could overflow

Layout = tuple[Any, ...]
State = tuple[Any, ...]


@njit(cache=True, nogil=True, inline="always")
def _mix(h: np.uint64) -> np.uint64:
    # splitmix64 finaliser: FNV alone leaves the low bits poorly mixed
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


@njit(cache=True, nogil=True)
def _cells(x: np.ndarray, layout: Layout, state: State, cells: np.ndarray) -> None:
    """The table bucket of ``x``'s cell in every expert's grid, written to ``cells``."""
    num_idx, cat_idx, num_mask, cat_mask, bins, clip, offsets, sizes, _ = layout
    mean, m2, seen = state[0], state[1], state[2]
    for e in range(len(bins)):
        h = _FNV_OFFSET ^ np.uint64(e + 1)
        for a in range(len(num_idx)):
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
        for k in range(len(cat_idx)):
            if cat_mask[e, k]:
                v = x[cat_idx[k]]
                code = np.int64(v) if math.isfinite(v) else np.int64(-1)
                h = (h ^ np.uint64(code + (k + 1) * (1 << 32))) * _FNV_PRIME
        cells[e] = offsets[e] + np.int64((_mix(h) >> np.uint64(1)) % np.uint64(sizes[e]))


@njit(cache=True, nogil=True)
def _score_row(cells: np.ndarray, state: State, alpha: float) -> int:
    """Most probable class under the product of the experts (-1 before any class)."""
    counts, totals, class_counts = state[3], state[4], state[5]
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


@njit(cache=True, nogil=True)
def _halve(counts: np.ndarray, totals: np.ndarray, row: int) -> None:
    total = 0
    for c in range(counts.shape[1]):
        counts[row, c] //= 2
        total += counts[row, c]
    totals[row] = total


@njit(cache=True, nogil=True)
def _learn_row(x: np.ndarray, label: int, cells: np.ndarray, layout: Layout, state: State) -> None:
    num_idx, half_life = layout[0], layout[8]
    mean, m2, seen, counts, totals, class_counts, clock = state
    for e in range(len(cells)):
        row = cells[e]
        if totals[row] >= _HALVE_AT:
            _halve(counts, totals, row)
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
    clock[0] += 1
    if half_life > 0 and clock[0] % half_life == 0:
        # forget: every count loses half its weight (a cell seen once is dropped);
        # class counts round up, so a class once seen is never forgotten
        for row in range(counts.shape[0]):
            _halve(counts, totals, row)
        for c in range(len(class_counts)):
            class_counts[c] = (class_counts[c] + 1) // 2


@njit(cache=True, nogil=True)
def predict_kernel(
    X: np.ndarray, layout: Layout, state: State, alpha: float, out: np.ndarray
) -> None:
    cells = np.empty(len(layout[4]), dtype=np.int64)
    for i in range(X.shape[0]):
        _cells(X[i], layout, state, cells)
        out[i] = _score_row(cells, state, alpha)


@njit(cache=True, nogil=True)
def learn_kernel(X: np.ndarray, y: np.ndarray, layout: Layout, state: State) -> int:
    """Learn every row whose label fits the table; returns how many did not."""
    cells = np.empty(len(layout[4]), dtype=np.int64)
    n_classes = state[3].shape[1]
    skipped = 0
    for i in range(X.shape[0]):
        if y[i] < 0 or y[i] >= n_classes:
            skipped += 1
            continue
        _cells(X[i], layout, state, cells)
        _learn_row(X[i], y[i], cells, layout, state)
    return skipped


@njit(cache=True, nogil=True)
def test_then_train_kernel(
    X: np.ndarray, y: np.ndarray, layout: Layout, state: State, alpha: float, out: np.ndarray
) -> int:
    """Predict each row, then learn it: the per-record loop, compiled."""
    cells = np.empty(len(layout[4]), dtype=np.int64)
    n_classes = state[3].shape[1]
    skipped = 0
    for i in range(X.shape[0]):
        # learning changes the scaling statistics only after the prediction:
        # the cells computed once serve both steps
        _cells(X[i], layout, state, cells)
        out[i] = _score_row(cells, state, alpha)
        if y[i] < 0 or y[i] >= n_classes:
            skipped += 1
            continue
        _learn_row(X[i], y[i], cells, layout, state)
    return skipped
