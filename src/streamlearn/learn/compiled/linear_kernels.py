"""Compiled loops of the linear learners: softmax regression, passive-aggressive, SGD.

A record is ``dn`` standardised numbers ``z`` (:mod:`.rows`) plus ``dc``
hashed category buckets, each a one-hot feature of value 1, plus a bias.
Classifier weights are ``W[feature, class]``, regressor weights ``w[feature]``,
features ordered ``z`` then ``dn + bucket``; the bias is the last row.

``layout = (num_idx, cat_idx, table, kind, rate, l2, C, eps)``
    ``kind`` 0: softmax regression (AdaGrad steps of size ``rate`` with L2
    ``l2``) or, for regression, SGD on squared error; 1: PA-I and 2: PA-II
    with aggressiveness ``C`` (and ``eps``, the insensitive band of the
    regressor).

``state``: the standardiser ``(mean, m2, seen)``, then the weights, the
AdaGrad sums of squared gradients, and for classifiers the records per class
(a class is predicted once seen); for regressors the running mean and sum
of squares of the target (``ystats``), which standardise it too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from streamlearn.learn.compiled.rows import buckets, scaler_learn, standardise

__all__ = [
    "classifier_learn",
    "classifier_predict",
    "classifier_test_then_train",
    "regressor_learn",
    "regressor_predict",
    "regressor_test_then_train",
]

SOFTMAX, PA1, PA2 = 0, 1, 2
#: AdaGrad's floor under the square root
_ADAGRAD_EPS = 1e-8

Layout = tuple[Any, ...]
State = tuple[Any, ...]


@njit(cache=True, nogil=True)
def _features(x: np.ndarray, layout: Layout, state: State, z: np.ndarray, idx: np.ndarray) -> None:
    num_idx, cat_idx, table = layout[0], layout[1], layout[2]
    standardise(x, num_idx, state[0], state[1], state[2], z)
    buckets(x, cat_idx, table, num_idx.shape[0], idx)


@njit(cache=True, nogil=True)
def _scores(
    W: np.ndarray, z: np.ndarray, idx: np.ndarray, counts: np.ndarray, s: np.ndarray
) -> None:
    bias = W.shape[0] - 1
    for c in range(W.shape[1]):
        if counts[c] == 0:
            s[c] = -np.inf
            continue
        v = W[bias, c]
        for a in range(z.shape[0]):
            v += W[a, c] * z[a]
        for k in range(idx.shape[0]):
            v += W[idx[k], c]
        s[c] = v


@njit(cache=True, nogil=True)
def _argmax(s: np.ndarray) -> int:
    best, at = -np.inf, -1
    for c in range(s.shape[0]):
        if s[c] > best:
            best, at = s[c], c
    return at


@njit(cache=True, nogil=True)
def _class_step(
    W: np.ndarray,
    G: np.ndarray,
    c: int,
    g: float,
    z: np.ndarray,
    idx: np.ndarray,
    rate: float,
    l2: float,
    adagrad: bool,
) -> None:
    """``W[:, c] -= step * (g * feature + l2 * w)`` on the record's features (AdaGrad or plain)."""
    bias = W.shape[0] - 1
    for a in range(z.shape[0] + idx.shape[0] + 1):
        if a < z.shape[0]:
            row, f = a, z[a]
        elif a < z.shape[0] + idx.shape[0]:
            row, f = idx[a - z.shape[0]], 1.0
        else:
            row, f = bias, 1.0
        grad = g * f + (l2 * W[row, c] if row != bias else 0.0)
        if adagrad:
            G[row, c] += grad * grad
            W[row, c] -= rate * grad / math.sqrt(G[row, c] + _ADAGRAD_EPS)
        else:
            W[row, c] -= rate * grad


@njit(cache=True, nogil=True)
def _classify_row(
    x: np.ndarray, layout: Layout, state: State, z: np.ndarray, idx: np.ndarray, s: np.ndarray
) -> int:
    _features(x, layout, state, z, idx)
    _scores(state[3], z, idx, state[5], s)
    return _argmax(s)


@njit(cache=True, nogil=True)
def _learn_class_row(
    x: np.ndarray,
    y: int,
    layout: Layout,
    state: State,
    z: np.ndarray,
    idx: np.ndarray,
    s: np.ndarray,
) -> None:
    kind, rate, l2, C = layout[3], layout[4], layout[5], layout[6]
    W, G, counts = state[3], state[4], state[5]
    if 0 <= y < W.shape[1]:
        counts[y] += 1
        _features(x, layout, state, z, idx)
        _scores(W, z, idx, counts, s)
        if kind == SOFTMAX:
            top = s[_argmax(s)]
            total = 0.0
            for c in range(s.shape[0]):
                if counts[c] > 0:
                    total += math.exp(s[c] - top)
            for c in range(s.shape[0]):
                if counts[c] > 0:
                    p = math.exp(s[c] - top) / total
                    _class_step(W, G, c, p - (1.0 if c == y else 0.0), z, idx, rate, l2, True)
        else:
            rival, best = -1, -np.inf
            for c in range(s.shape[0]):
                if c != y and counts[c] > 0 and s[c] > best:
                    best, rival = s[c], c
            if rival >= 0:
                loss = 1.0 - (s[y] - s[rival])
                if loss > 0.0:
                    norm = 1.0 + idx.shape[0]
                    for a in range(z.shape[0]):
                        norm += z[a] * z[a]
                    tau = loss / (2.0 * norm) if kind == PA1 else loss / (2.0 * norm + 0.5 / C)
                    if kind == PA1:
                        tau = min(C, tau)
                    _class_step(W, G, y, -tau, z, idx, 1.0, 0.0, False)
                    _class_step(W, G, rival, tau, z, idx, 1.0, 0.0, False)
    scaler_learn(x, layout[0], state[0], state[1], state[2])


@njit(cache=True, nogil=True)
def classifier_predict(X: np.ndarray, layout: Layout, state: State, out: np.ndarray) -> None:
    z = np.empty(layout[0].shape[0])
    idx = np.empty(layout[1].shape[0], dtype=np.int64)
    s = np.empty(state[3].shape[1])
    for r in range(X.shape[0]):
        out[r] = _classify_row(X[r], layout, state, z, idx, s)


@njit(cache=True, nogil=True)
def classifier_learn(X: np.ndarray, y: np.ndarray, layout: Layout, state: State) -> None:
    z = np.empty(layout[0].shape[0])
    idx = np.empty(layout[1].shape[0], dtype=np.int64)
    s = np.empty(state[3].shape[1])
    for r in range(X.shape[0]):
        _learn_class_row(X[r], y[r], layout, state, z, idx, s)


@njit(cache=True, nogil=True)
def classifier_test_then_train(
    X: np.ndarray, y: np.ndarray, layout: Layout, state: State, out: np.ndarray
) -> None:
    z = np.empty(layout[0].shape[0])
    idx = np.empty(layout[1].shape[0], dtype=np.int64)
    s = np.empty(state[3].shape[1])
    for r in range(X.shape[0]):
        out[r] = _classify_row(X[r], layout, state, z, idx, s)
        _learn_class_row(X[r], y[r], layout, state, z, idx, s)


# -- regression ----------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _raw(w: np.ndarray, z: np.ndarray, idx: np.ndarray) -> float:
    v = w[w.shape[0] - 1]
    for a in range(z.shape[0]):
        v += w[a] * z[a]
    for k in range(idx.shape[0]):
        v += w[idx[k]]
    return v


@njit(cache=True, nogil=True)
def _target_scale(ystats: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of the targets so far (1 until two are seen)."""
    n, mean, m2 = ystats[0], ystats[1], ystats[2]
    sd = math.sqrt(m2 / n) if n >= 2 and m2 > 0.0 else 1.0
    return mean, sd


@njit(cache=True, nogil=True)
def _regress_row(
    x: np.ndarray, layout: Layout, state: State, z: np.ndarray, idx: np.ndarray
) -> float:
    _features(x, layout, state, z, idx)
    mean, sd = _target_scale(state[5])
    return mean + sd * _raw(state[3], z, idx)


@njit(cache=True, nogil=True)
def _learn_value_row(
    x: np.ndarray, y: float, layout: Layout, state: State, z: np.ndarray, idx: np.ndarray
) -> None:
    kind, rate, l2, C, eps = layout[3], layout[4], layout[5], layout[6], layout[7]
    w, G, ystats = state[3], state[4], state[5]
    if math.isfinite(y):
        _features(x, layout, state, z, idx)
        mean, sd = _target_scale(ystats)
        err = _raw(w, z, idx) - (y - mean) / sd  # in standardised target units
        bias = w.shape[0] - 1
        if kind == SOFTMAX:  # SGD on squared error, AdaGrad steps
            for a in range(z.shape[0] + idx.shape[0] + 1):
                if a < z.shape[0]:
                    row, f = a, z[a]
                elif a < z.shape[0] + idx.shape[0]:
                    row, f = idx[a - z.shape[0]], 1.0
                else:
                    row, f = bias, 1.0
                grad = err * f + (l2 * w[row] if row != bias else 0.0)
                G[row] += grad * grad
                w[row] -= rate * grad / math.sqrt(G[row] + _ADAGRAD_EPS)
        else:  # passive-aggressive, eps-insensitive
            loss = abs(err) - eps
            if loss > 0.0:
                norm = 1.0 + idx.shape[0]
                for a in range(z.shape[0]):
                    norm += z[a] * z[a]
                tau = loss / norm if kind == PA1 else loss / (norm + 0.5 / C)
                if kind == PA1:
                    tau = min(C, tau)
                step = -tau if err > 0.0 else tau
                for a in range(z.shape[0]):
                    w[a] += step * z[a]
                for k in range(idx.shape[0]):
                    w[idx[k]] += step
                w[bias] += step
        ystats[0] += 1.0
        d = y - ystats[1]
        ystats[1] += d / ystats[0]
        ystats[2] += d * (y - ystats[1])
    scaler_learn(x, layout[0], state[0], state[1], state[2])


@njit(cache=True, nogil=True)
def regressor_predict(X: np.ndarray, layout: Layout, state: State, out: np.ndarray) -> None:
    z = np.empty(layout[0].shape[0])
    idx = np.empty(layout[1].shape[0], dtype=np.int64)
    for r in range(X.shape[0]):
        out[r] = _regress_row(X[r], layout, state, z, idx)


@njit(cache=True, nogil=True)
def regressor_learn(X: np.ndarray, y: np.ndarray, layout: Layout, state: State) -> None:
    z = np.empty(layout[0].shape[0])
    idx = np.empty(layout[1].shape[0], dtype=np.int64)
    for r in range(X.shape[0]):
        _learn_value_row(X[r], y[r], layout, state, z, idx)


@njit(cache=True, nogil=True)
def regressor_test_then_train(
    X: np.ndarray, y: np.ndarray, layout: Layout, state: State, out: np.ndarray
) -> None:
    z = np.empty(layout[0].shape[0])
    idx = np.empty(layout[1].shape[0], dtype=np.int64)
    for r in range(X.shape[0]):
        out[r] = _regress_row(X[r], layout, state, z, idx)
        _learn_value_row(X[r], y[r], layout, state, z, idx)
