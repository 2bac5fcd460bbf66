"""k nearest neighbours over a sliding window of the latest records, compiled.

The window holds the last ``window`` records: numbers standardised (with the
running mean and standard deviation when the record arrived, so scales do
not matter) and category codes. The distance of a query to a record is

``sqrt(sum_a (z_a - r_a)^2 + sum_k [x_k != r_k])``

(each category that differs adds 1). The window is stored feature by feature,
so the distances to all its records are computed in vectorised passes. A
classifier takes the class with the largest sum of ``1 / distance`` over the
``k`` neighbours (an exact duplicate counts as distance 1e-9); a regressor
their mean. Memory is the window: ``window x features`` numbers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from streamlearn.learn.compiled.base import CompiledClassifier, CompiledRegressor
from streamlearn.learn.compiled.rows import scaler_learn, standardise

__all__ = ["KNNClassifier", "KNNRegressor"]


@njit(cache=True, nogil=True)
def _neighbours(
    x: np.ndarray, layout: Any, state: Any, near: np.ndarray, dist: np.ndarray, work: Any
) -> int:
    """The indices (into the window) of the ``k`` nearest records, nearest first; how many."""
    num_idx, cat_idx, k = layout[0], layout[1], layout[2]
    mean, m2, seen, Z, C, _, ring = state[:7]
    z, d = work
    filled = ring[1]
    standardise(x, num_idx, mean, m2, seen, z)
    for i in range(filled):
        d[i] = 0.0
    for a in range(Z.shape[0]):  # one vectorised pass per feature
        za = np.float32(z[a])
        row = Z[a]
        for i in range(filled):
            diff = za - row[i]
            d[i] += diff * diff
    for c in range(C.shape[0]):
        xc = x[cat_idx[c]]
        row = C[c]
        for i in range(filled):
            if row[i] != xc:
                d[i] += np.float32(1.0)
    found = 0
    for i in range(filled):
        di = d[i]
        if found == k and di >= dist[k - 1]:
            continue
        at = found if found < k else k - 1
        while at > 0 and dist[at - 1] > di:
            dist[at] = dist[at - 1]
            near[at] = near[at - 1]
            at -= 1
        dist[at] = di
        near[at] = i
        if found < k:
            found += 1
    return found


@njit(cache=True, nogil=True)
def _remember(x: np.ndarray, y: float, layout: Any, state: Any, z: np.ndarray) -> None:
    num_idx, cat_idx = layout[0], layout[1]
    mean, m2, seen, Z, C, targets, ring = state[:7]
    at = ring[0]
    standardise(x, num_idx, mean, m2, seen, z)
    for a in range(Z.shape[0]):
        Z[a, at] = z[a]
    for c in range(C.shape[0]):
        C[c, at] = x[cat_idx[c]]
    targets[at] = y
    ring[0] = (at + 1) % targets.shape[0]
    ring[1] = min(ring[1] + 1, targets.shape[0])
    scaler_learn(x, num_idx, mean, m2, seen)


@njit(cache=True, nogil=True)
def _classify(
    x: np.ndarray, layout: Any, state: Any, near: np.ndarray, dist: np.ndarray, work: Any
) -> int:
    found = _neighbours(x, layout, state, near, dist, work)
    if found == 0:
        return -1
    votes = state[7]
    votes[:] = 0.0
    targets = state[5]
    for i in range(found):
        votes[int(targets[near[i]])] += 1.0 / max(math.sqrt(dist[i]), 1e-9)
    best, at = -1.0, -1
    for c in range(votes.shape[0]):
        if votes[c] > best:
            best, at = votes[c], c
    return at


@njit(cache=True, nogil=True)
def _regress(
    x: np.ndarray, layout: Any, state: Any, near: np.ndarray, dist: np.ndarray, work: Any
) -> float:
    found = _neighbours(x, layout, state, near, dist, work)
    if found == 0:
        return 0.0
    total = 0.0
    for i in range(found):
        total += state[5][near[i]]
    return total / found


@njit(cache=True, nogil=True)
def _run(
    X: np.ndarray,
    y: np.ndarray,
    layout: Any,
    state: Any,
    out: np.ndarray,
    predict: bool,
    learn: bool,
    classify: bool,
) -> None:
    k = layout[2]
    near = np.empty(k, dtype=np.int64)
    dist = np.empty(k)
    work = (np.empty(layout[0].shape[0]), np.empty(state[5].shape[0], dtype=np.float32))
    for r in range(X.shape[0]):
        if predict:
            if classify:
                out[r] = _classify(X[r], layout, state, near, dist, work)
            else:
                out[r] = _regress(X[r], layout, state, near, dist, work)
        if learn:
            yr = y[r]
            if (classify and not (0 <= yr < state[7].shape[0])) or not math.isfinite(yr):
                scaler_learn(X[r], layout[0], state[0], state[1], state[2])
                continue
            _remember(X[r], float(yr), layout, state, work[0])


class _KNN:
    """The window and the kernel calls both kNN learners share (a mixin)."""

    k: int
    window: int
    n_classes: np.ndarray
    votes: np.ndarray

    def _knn_allocate(self, dn: int, dc: int) -> None:
        # standardised numbers, feature by feature, in float32: distances are computed
        # 8 at a time (measured 1.6x faster than float64 at window 1000)
        self.Z = np.zeros((dn, self.window), dtype=np.float32)
        self.C = np.zeros((dc, self.window))  # category codes
        self.targets = np.zeros(self.window)
        self.ring = np.zeros(2, dtype=np.int64)  # next slot, records held

    def _layout(self) -> tuple[Any, ...]:
        return (self.num_idx, self.cat_idx, self.k)  # type: ignore[attr-defined]

    def _state(self) -> tuple[Any, ...]:
        return (
            self.mean, self.m2, self.seen,  # type: ignore[attr-defined]
            self.Z, self.C, self.targets, self.ring, self.votes,
        )  # fmt: skip

    def _go(
        self, X: np.ndarray, y: np.ndarray, out: np.ndarray, predict: bool, learn: bool
    ) -> None:
        classify = isinstance(self, CompiledClassifier)
        _run(X, y, self._layout(), self._state(), out, predict, learn, classify)


def _check(k: int, window: int) -> None:
    if k < 1 or window < 1:
        raise ValueError("k and window must be >= 1")


class KNNClassifier(_KNN, CompiledClassifier):
    """k nearest neighbours in a sliding window, votes weighted by 1 / distance.

    Parameters
    ----------
    k
        Neighbours that vote.
    window
        Latest records searched.
    max_classes
        Most classes learned.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(3000, 2))
    >>> y = ((X[:, 0] ** 2 + X[:, 1] ** 2) < 1).astype(np.int64)   # a disc: not linear
    >>> preds = KNNClassifier().test_then_train(X, y)
    >>> bool(np.mean(preds[1000:] == y[1000:]) > 0.9)
    True
    """

    _class_arrays = (("votes", 0),)

    def __init__(self, k: int = 5, window: int = 200, max_classes: int = 64) -> None:
        _check(k, window)
        super().__init__(max_classes)
        self.k, self.window = int(k), int(window)
        self._params = {"k": k, "window": window, "max_classes": max_classes}

    def _allocate(self, dn: int, dc: int) -> None:
        self._knn_allocate(dn, dc)
        self.votes = np.zeros(0)
        self.n_classes[0] = 0

    def _run_predict(self, X: np.ndarray, out: np.ndarray) -> None:
        self._go(X, np.zeros(0, dtype=np.int64), out, True, False)

    def _run_learn(self, X: np.ndarray, y: np.ndarray) -> None:
        self._go(X, y, np.zeros(0, dtype=np.int64), False, True)

    def _run_test_then_train(self, X: np.ndarray, y: np.ndarray, out: np.ndarray) -> None:
        self._go(X, y, out, True, True)


class KNNRegressor(_KNN, CompiledRegressor):
    """k nearest neighbours in a sliding window; the prediction is their mean target.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> X = rng.uniform(-3, 3, size=(4000, 1))
    >>> y = np.sin(X[:, 0])
    >>> preds = KNNRegressor().test_then_train(X, y)
    >>> bool(np.mean((preds[2000:] - y[2000:]) ** 2) < 0.01)
    True
    """

    def __init__(self, k: int = 5, window: int = 200) -> None:
        _check(k, window)
        super().__init__()
        self.k, self.window = int(k), int(window)
        self.votes = np.zeros(0)
        self._params = {"k": k, "window": window}

    def _allocate(self, dn: int, dc: int) -> None:
        self._knn_allocate(dn, dc)

    def _run_predict(self, X: np.ndarray, out: np.ndarray) -> None:
        self._go(X, np.zeros(0), out, True, False)

    def _run_learn(self, X: np.ndarray, y: np.ndarray) -> None:
        self._go(X, y, np.zeros(0), False, True)

    def _run_test_then_train(self, X: np.ndarray, y: np.ndarray, out: np.ndarray) -> None:
        self._go(X, y, out, True, True)
