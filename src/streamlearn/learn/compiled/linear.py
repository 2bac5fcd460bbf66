"""Compiled linear learners: softmax regression, passive-aggressive, SGD (see :mod:`.linear_kernels`).

Numbers are standardised online and categories one-hot encoded by hashing
into a fixed table of ``table`` buckets, so they work on raw streams
without a preprocessing step and their memory is fixed.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from streamlearn.learn.compiled.base import CompiledClassifier, CompiledRegressor
from streamlearn.learn.compiled.linear_kernels import (
    PA1,
    PA2,
    SOFTMAX,
    classifier_learn,
    classifier_predict,
    classifier_test_then_train,
    regressor_learn,
    regressor_predict,
    regressor_test_then_train,
)

__all__ = ["PAClassifier", "PARegressor", "SGDRegressor", "SoftmaxRegression"]

PAVariant = Literal["pa1", "pa2"]
_VARIANTS = {"pa1": PA1, "pa2": PA2}


def _rows(dn: int, dc: int, table: int) -> int:
    """Weight rows: the numbers, the category table (if any category) and the bias."""
    return dn + (table if dc else 0) + 1


class _LinearClassifier(CompiledClassifier):
    _class_arrays = (("W", 1), ("G", 1), ("counts", 0))
    kind = SOFTMAX

    def __init__(self, rate: float, l2: float, C: float, table: int, max_classes: int) -> None:
        if not rate > 0 or l2 < 0 or not C > 0 or table < 1:
            raise ValueError("rate and C must be > 0, l2 >= 0, table >= 1")
        super().__init__(max_classes)
        self.rate, self.l2, self.C, self.table = float(rate), float(l2), float(C), int(table)

    def _allocate(self, dn: int, dc: int) -> None:
        rows = _rows(dn, dc, self.table)
        self.W = np.zeros((rows, 0))
        self.G = np.zeros((rows, 0))
        self.counts = np.zeros(0, dtype=np.int64)
        self.n_classes[0] = 0

    def _layout(self) -> tuple[Any, ...]:
        return (self.num_idx, self.cat_idx, self.table, self.kind, self.rate, self.l2, self.C, 0.0)

    def _state(self) -> tuple[Any, ...]:
        return (self.mean, self.m2, self.seen, self.W, self.G, self.counts)

    def _run_predict(self, X: np.ndarray, out: np.ndarray) -> None:
        classifier_predict(X, self._layout(), self._state(), out)

    def _run_learn(self, X: np.ndarray, y: np.ndarray) -> None:
        classifier_learn(X, y, self._layout(), self._state())

    def _run_test_then_train(self, X: np.ndarray, y: np.ndarray, out: np.ndarray) -> None:
        classifier_test_then_train(X, y, self._layout(), self._state(), out)


class SoftmaxRegression(_LinearClassifier):
    """Multinomial logistic regression, online, with AdaGrad steps.

    Each record takes one step on the cross-entropy of the softmax of the
    class scores, every weight with its own step ``rate / sqrt(sum of its
    squared gradients)`` (AdaGrad: large at first, smaller for features seen
    often), plus L2 regularisation ``l2`` (not on the bias). With two
    classes it is exactly binary logistic regression (the softmax of two
    scores is the logistic of their difference).

    Parameters
    ----------
    rate
        AdaGrad's base step size.
    l2
        L2 penalty on the weights.
    table
        Hash buckets for the one-hot categories (all categorical columns share them).
    max_classes
        Most classes learned.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(3000, 3))
    >>> y = (X @ [1.0, -2.0, 0.5] > 0).astype(np.int64)
    >>> preds = SoftmaxRegression().test_then_train(X, y)
    >>> bool(np.mean(preds[1000:] == y[1000:]) > 0.95)
    True
    """

    kind = SOFTMAX

    def __init__(
        self, rate: float = 0.1, l2: float = 1e-5, table: int = 1024, max_classes: int = 64
    ) -> None:
        super().__init__(rate, l2, 1.0, table, max_classes)
        self._params = {"rate": rate, "l2": l2, "table": table, "max_classes": max_classes}


class PAClassifier(_LinearClassifier):
    """Multiclass passive-aggressive classifier (Crammer et al., 2006).

    After each record the weights of the true class and of its strongest
    rival move just enough to separate them by a margin of 1, at most by
    ``C`` (PA-I) or softened by ``C`` (PA-II).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(3000, 2))
    >>> y = (X[:, 0] > X[:, 1]).astype(np.int64)
    >>> preds = PAClassifier().test_then_train(X, y)
    >>> bool(np.mean(preds[1000:] == y[1000:]) > 0.9)
    True
    """

    def __init__(
        self,
        C: float = 0.1,
        variant: PAVariant = "pa1",
        table: int = 1024,
        max_classes: int = 64,
    ) -> None:
        if variant not in _VARIANTS:
            raise ValueError(f"variant must be pa1 or pa2, not {variant!r}")
        super().__init__(1.0, 0.0, C, table, max_classes)
        self.kind = _VARIANTS[variant]
        self._params = {"C": C, "variant": variant, "table": table, "max_classes": max_classes}


class _LinearRegressor(CompiledRegressor):
    kind = SOFTMAX

    def __init__(self, rate: float, l2: float, C: float, eps: float, table: int) -> None:
        if not rate > 0 or l2 < 0 or not C > 0 or eps < 0 or table < 1:
            raise ValueError("rate and C must be > 0, l2 and eps >= 0, table >= 1")
        super().__init__()
        self.rate, self.l2, self.C, self.eps = float(rate), float(l2), float(C), float(eps)
        self.table = int(table)

    def _allocate(self, dn: int, dc: int) -> None:
        rows = _rows(dn, dc, self.table)
        self.w = np.zeros(rows)
        self.G = np.zeros(rows)
        self.ystats = np.zeros(3)  # count, mean, sum of squares of the target

    def _layout(self) -> tuple[Any, ...]:
        return (
            self.num_idx, self.cat_idx, self.table, self.kind, self.rate, self.l2, self.C, self.eps,
        )  # fmt: skip

    def _state(self) -> tuple[Any, ...]:
        return (self.mean, self.m2, self.seen, self.w, self.G, self.ystats)

    def _run_predict(self, X: np.ndarray, out: np.ndarray) -> None:
        regressor_predict(X, self._layout(), self._state(), out)

    def _run_learn(self, X: np.ndarray, y: np.ndarray) -> None:
        regressor_learn(X, y, self._layout(), self._state())

    def _run_test_then_train(self, X: np.ndarray, y: np.ndarray, out: np.ndarray) -> None:
        regressor_test_then_train(X, y, self._layout(), self._state(), out)


class SGDRegressor(_LinearRegressor):
    """Linear regression by SGD on standardised numbers and target, with AdaGrad steps.

    The target is standardised with its running mean and standard
    deviation, so one step size suits any scale; predictions are mapped back.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> X = rng.normal(size=(4000, 3))
    >>> y = 100 + 30 * (X @ [1.0, -2.0, 0.5]) + rng.normal(size=4000)
    >>> preds = SGDRegressor().test_then_train(X, y)
    >>> bool(np.mean((preds[2000:] - y[2000:]) ** 2) < 10)
    True
    """

    def __init__(self, rate: float = 0.05, l2: float = 0.0, table: int = 1024) -> None:
        super().__init__(rate, l2, 1.0, 0.0, table)
        self._params = {"rate": rate, "l2": l2, "table": table}


class PARegressor(_LinearRegressor):
    """Passive-aggressive regression, epsilon-insensitive, on standardised numbers and target.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> X = rng.normal(size=(4000, 2))
    >>> y = X @ [2.0, -1.0] + 0.1 * rng.normal(size=4000)
    >>> preds = PARegressor().test_then_train(X, y)
    >>> bool(np.mean((preds[2000:] - y[2000:]) ** 2) < 0.1)
    True
    """

    def __init__(
        self, C: float = 0.1, eps: float = 0.05, variant: PAVariant = "pa1", table: int = 1024
    ) -> None:
        if variant not in _VARIANTS:
            raise ValueError(f"variant must be pa1 or pa2, not {variant!r}")
        super().__init__(1.0, 0.0, C, eps, table)
        self.kind = _VARIANTS[variant]
        self._params = {"C": C, "eps": eps, "variant": variant, "table": table}
