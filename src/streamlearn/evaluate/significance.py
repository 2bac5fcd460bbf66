"""Paired tests between the champion and the runner-up on the same records."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["diebold_mariano", "mcnemar"]


def diebold_mariano(loss_a: np.ndarray, loss_b: np.ndarray) -> float:
    """Two-sided p-value that two models' mean losses are equal.

    Diebold-Mariano with a one-step horizon: the loss differential's mean over
    its standard error, against a normal distribution.
    """
    d = np.asarray(loss_a, dtype=np.float64) - np.asarray(loss_b, dtype=np.float64)
    n = len(d)
    if n < 2:
        return float("nan")
    var = float(d.var(ddof=1))
    if var == 0.0:
        return 1.0 if float(d.mean()) == 0.0 else 0.0
    z = float(d.mean()) / math.sqrt(var / n)
    return math.erfc(abs(z) / math.sqrt(2.0))


def mcnemar(wrong_a: np.ndarray, wrong_b: np.ndarray) -> float:
    """Two-sided p-value of McNemar's test (with continuity correction).

    ``wrong_a`` and ``wrong_b`` are 0/1 errors of two classifiers on the same
    records.
    """
    a = np.asarray(wrong_a) > 0
    b = np.asarray(wrong_b) > 0
    only_a = int(np.sum(a & ~b))
    only_b = int(np.sum(~a & b))
    if only_a + only_b == 0:
        return 1.0
    chi2 = (abs(only_a - only_b) - 1.0) ** 2 / (only_a + only_b)
    # chi-square with one degree of freedom: P(X > c) = erfc(sqrt(c / 2))
    return math.erfc(math.sqrt(chi2 / 2.0))
