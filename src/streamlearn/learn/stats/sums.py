"""Running sums: of the values, and of their absolute values."""

from __future__ import annotations

import numpy as np

from streamlearn.learn.stats.base import Statistic

__all__ = ["AbsSum", "Sum"]


class Sum(Statistic):
    """Sum of the values (0 when empty).

    >>> s = Sum(); s.update_many([1.0, -2.5]); s.update(4.0); s.get()
    2.5
    """

    _state = ("n", "total")

    def __init__(self) -> None:
        self.n = 0
        self.total = 0.0

    def _transform(self, xs: np.ndarray) -> np.ndarray:
        return xs

    def update(self, x: float) -> None:
        self.n += 1
        self.total += float(self._transform(np.asarray(x, dtype=np.float64)))

    def get(self) -> float:
        return self.total

    def _batch(self, xs: np.ndarray) -> Sum:
        out = self._fresh()
        out.n = len(xs)
        out.total = float(np.sum(self._transform(xs)))  # pairwise summation
        return out

    def _absorb(self, other: Sum) -> None:
        self.n += other.n
        self.total += other.total


class AbsSum(Sum):
    """Sum of ``|x|``: the course's running sum of absolute values.

    >>> s = AbsSum(); s.update_many([1.0, -2.5]); s.get()
    3.5
    """

    def _transform(self, xs: np.ndarray) -> np.ndarray:
        return np.abs(xs)
