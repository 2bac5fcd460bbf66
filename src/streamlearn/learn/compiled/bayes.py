"""Naive Bayes for mixed data, compiled: a Gaussian per number and class, counts per category.

Each class keeps Welford's mean and sum of squares of every numeric
feature, and counts of the hashed category buckets of every categorical
column. A prediction takes the class with the largest

``log n_c + sum_a log N(x_a; mean_ca, var_ca) + sum_k log((n_ck + alpha) / (n_c + alpha V_k))``

where ``V_k`` is the number of buckets column ``k`` has used. A class's
variance is shrunk towards the feature's overall variance by one
pseudo-record, so a class seen once still has a sensible spread; NaN and
infinite numbers are left out of both learning and prediction.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from streamlearn.learn.compiled.base import CompiledClassifier
from streamlearn.learn.compiled.rows import bucket, scaler_learn

__all__ = ["MixedNaiveBayes"]

_LOG_2PI = math.log(2.0 * math.pi)


@njit(cache=True, nogil=True)
def _scores(x: np.ndarray, layout: Any, state: Any, s: np.ndarray) -> int:
    num_idx, cat_idx, table, alpha = layout
    _, m2, seen, cnt, mu, ss, tab, used = state
    best, at = -np.inf, -1
    for c in range(cnt.shape[0]):
        n = cnt[c]
        if n == 0:
            continue
        v = math.log(n)
        for a in range(num_idx.shape[0]):
            xa = x[num_idx[a]]
            if not math.isfinite(xa):
                continue
            prior = m2[a] / seen[a] if seen[a] >= 2 and m2[a] > 0.0 else 1.0
            var = (ss[c, a] + prior) / (n + 1.0) + 1e-9 * prior
            d = xa - mu[c, a]
            v -= 0.5 * (_LOG_2PI + math.log(var) + d * d / var)
        for k in range(cat_idx.shape[0]):
            b = bucket(k, x[cat_idx[k]], table)
            v += math.log((tab[k, b, c] + alpha) / (n + alpha * max(used[k], 1)))
        s[c] = v
        if v > best:
            best, at = v, c
    return at


@njit(cache=True, nogil=True)
def _learn(x: np.ndarray, y: int, layout: Any, state: Any) -> None:
    num_idx, cat_idx, table, _ = layout
    mean, m2, seen, cnt, mu, ss, tab, used = state
    if 0 <= y < cnt.shape[0]:
        cnt[y] += 1
        n = cnt[y]
        for a in range(num_idx.shape[0]):
            xa = x[num_idx[a]]
            if math.isfinite(xa):
                d = xa - mu[y, a]
                mu[y, a] += d / n
                ss[y, a] += d * (xa - mu[y, a])
        for k in range(cat_idx.shape[0]):
            b = bucket(k, x[cat_idx[k]], table)
            if tab[k, b].sum() == 0:
                used[k] += 1
            tab[k, b, y] += 1
    scaler_learn(x, num_idx, mean, m2, seen)


@njit(cache=True, nogil=True)
def _predict_kernel(X: np.ndarray, layout: Any, state: Any, out: np.ndarray) -> None:
    s = np.empty(state[3].shape[0])
    for r in range(X.shape[0]):
        out[r] = _scores(X[r], layout, state, s)


@njit(cache=True, nogil=True)
def _learn_kernel(X: np.ndarray, y: np.ndarray, layout: Any, state: Any) -> None:
    for r in range(X.shape[0]):
        _learn(X[r], y[r], layout, state)


@njit(cache=True, nogil=True)
def _test_then_train_kernel(
    X: np.ndarray, y: np.ndarray, layout: Any, state: Any, out: np.ndarray
) -> None:
    s = np.empty(state[3].shape[0])
    for r in range(X.shape[0]):
        out[r] = _scores(X[r], layout, state, s)
        _learn(X[r], y[r], layout, state)


class MixedNaiveBayes(CompiledClassifier):
    """Gaussian naive Bayes for numbers with counted categories, compiled (see the module doc).

    Parameters
    ----------
    alpha
        Additive smoothing of the category counts.
    table
        Hash buckets per categorical column.
    max_classes
        Most classes learned.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 3000)
    >>> X = np.column_stack([y + rng.normal(size=3000), rng.integers(0, 2, 3000) * 0 + y])
    >>> model = MixedNaiveBayes()
    >>> model.set_features(["x", "group"], [False, True])
    >>> preds = model.test_then_train(X, y)
    >>> bool(np.mean(preds[100:] == y[100:]) > 0.99)
    True
    """

    _class_arrays = (("cnt", 0), ("mu", 0), ("ss", 0), ("tab", 2))

    def __init__(self, alpha: float = 1.0, table: int = 1024, max_classes: int = 64) -> None:
        if not alpha > 0 or table < 1:
            raise ValueError("alpha must be > 0 and table >= 1")
        super().__init__(max_classes)
        self.alpha, self.table = float(alpha), int(table)
        self._params = {"alpha": alpha, "table": table, "max_classes": max_classes}

    def _allocate(self, dn: int, dc: int) -> None:
        self.cnt = np.zeros(0, dtype=np.int64)
        self.mu = np.zeros((0, dn))
        self.ss = np.zeros((0, dn))
        self.tab = np.zeros((dc, self.table if dc else 0, 0), dtype=np.int64)
        self.used = np.zeros(dc, dtype=np.int64)
        self.n_classes[0] = 0

    def _layout(self) -> tuple[Any, ...]:
        return (self.num_idx, self.cat_idx, self.table, self.alpha)

    def _state(self) -> tuple[Any, ...]:
        return (self.mean, self.m2, self.seen, self.cnt, self.mu, self.ss, self.tab, self.used)

    def _run_predict(self, X: np.ndarray, out: np.ndarray) -> None:
        _predict_kernel(X, self._layout(), self._state(), out)

    def _run_learn(self, X: np.ndarray, y: np.ndarray) -> None:
        _learn_kernel(X, y, self._layout(), self._state())

    def _run_test_then_train(self, X: np.ndarray, y: np.ndarray, out: np.ndarray) -> None:
        _test_then_train_kernel(X, y, self._layout(), self._state(), out)
