"""Baselines: the yardsticks every real model must beat."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from streamlearn.learn.base import NO_CLASS, Classifier, Learner, Regressor

__all__ = ["LastClass", "LastValue", "Majority", "Mean", "no_change"]


class Mean(Regressor):
    """Predicts the mean of every target seen so far (0.0 before the first).

    Examples
    --------
    >>> import numpy as np
    >>> m = Mean()
    >>> m.test_then_train(np.zeros((3, 1)), np.array([1.0, 3.0, 5.0]))
    array([0., 1., 2.])
    """

    def __init__(self) -> None:
        super().__init__()
        self._params: dict[str, Any] = {}
        self.total = 0.0

    def learn_one(self, x: np.ndarray, y: Any) -> None:
        self.total += float(y)
        self.n_learned += 1

    def predict_one(self, x: np.ndarray) -> float:
        return self.total / self.n_learned if self.n_learned else 0.0

    def predict_many(self, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), self.predict_one(X[0]) if len(X) else 0.0)

    def learn_many(self, X: np.ndarray, y: np.ndarray) -> None:
        # a sequential sum, so the result is exactly that of learn_one in a loop
        y = np.asarray(y, dtype=np.float64)
        self.total = float(np.cumsum(np.concatenate(([self.total], y)))[-1])
        self.n_learned += len(y)

    def test_then_train(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        n = len(y)
        # cumsum adds left to right, exactly as the per-record loop does
        sums = np.cumsum(np.concatenate(([self.total], y)))
        counts = self.n_learned + np.arange(n + 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
        self.total = float(sums[-1])
        self.n_learned += n
        return means[:n]


class LastClass(Classifier):
    """Predicts the label of the previous record (persistence)."""

    def __init__(self) -> None:
        super().__init__()
        self._params: dict[str, Any] = {}
        self.last = NO_CLASS

    def learn_one(self, x: np.ndarray, y: Any) -> None:
        self.last = int(y)
        self.n_learned += 1

    def predict_one(self, x: np.ndarray) -> int:
        return self.last

    def predict_many(self, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), self.last, dtype=np.int64)

    def learn_many(self, X: np.ndarray, y: np.ndarray) -> None:
        if len(y):
            self.last = int(y[-1])
        self.n_learned += len(y)

    def test_then_train(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.int64)
        out = np.empty(len(y), dtype=np.int64)
        if len(y):
            out[0] = self.last
            out[1:] = y[:-1]
        self.learn_many(X, y)
        return out


class LastValue(Regressor):
    """Predicts the target of the previous record (persistence; 0 before any)."""

    def __init__(self) -> None:
        super().__init__()
        self._params: dict[str, Any] = {}
        self.last = 0.0

    def learn_one(self, x: np.ndarray, y: Any) -> None:
        self.last = float(y)
        self.n_learned += 1

    def predict_one(self, x: np.ndarray) -> float:
        return self.last

    def predict_many(self, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), self.last, dtype=np.float64)

    def learn_many(self, X: np.ndarray, y: np.ndarray) -> None:
        if len(y):
            self.last = float(y[-1])
        self.n_learned += len(y)

    def test_then_train(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        out = np.empty(len(y), dtype=np.float64)
        if len(y):
            out[0] = self.last
            out[1:] = y[:-1]
        self.learn_many(X, y)
        return out


def no_change(task: str = "classification") -> Learner:
    """The previous record's label or target: the baseline every model must beat on a trend."""
    return LastClass() if task == "classification" else LastValue()


@njit(cache=True, nogil=True)
def _majority_loop(counts: np.ndarray, best: int, y: np.ndarray) -> tuple[np.ndarray, int]:
    out = np.empty(len(y), dtype=np.int64)
    for i in range(len(y)):
        out[i] = best
        c = y[i]
        counts[c] += 1
        # ties keep the class that reached the count first
        if best < 0 or counts[c] > counts[best]:
            best = c
    return out, best


class Majority(Classifier):
    """Predicts the most frequent label so far."""

    def __init__(self) -> None:
        super().__init__()
        self._params: dict[str, Any] = {}
        self.counts = np.zeros(8, dtype=np.int64)
        self.best = NO_CLASS

    def _grow(self, top: int) -> None:
        if top >= len(self.counts):
            grown = np.zeros(max(top + 1, 2 * len(self.counts)), dtype=np.int64)
            grown[: len(self.counts)] = self.counts
            self.counts = grown

    def learn_one(self, x: np.ndarray, y: Any) -> None:
        c = int(y)
        self._grow(c)
        self.counts[c] += 1
        if self.best < 0 or self.counts[c] > self.counts[self.best]:
            self.best = c
        self.n_learned += 1

    def predict_one(self, x: np.ndarray) -> int:
        return self.best

    def predict_many(self, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), self.best, dtype=np.int64)

    def test_then_train(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.int64)
        if len(y):
            self._grow(int(y.max()))
        out, self.best = _majority_loop(self.counts, self.best, y)
        self.n_learned += len(y)
        return out

    def learn_many(self, X: np.ndarray, y: np.ndarray) -> None:
        self.test_then_train(X, y)
