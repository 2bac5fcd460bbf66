"""Running minimum and maximum."""

from __future__ import annotations

import numpy as np

from streamlearn.learn.stats.base import Statistic

__all__ = ["Max", "Min"]


class Min(Statistic):
    """Smallest value seen (NaN when empty).

    >>> m = Min(); m.update_many([3.0, -1.0]); m.update(2.0); m.get()
    -1.0
    """

    _state = ("n", "value")

    def __init__(self) -> None:
        self.n = 0
        self.value = float("nan")

    def _better(self, a: float, b: float) -> bool:
        """Whether ``a`` should replace the current extreme ``b``."""
        return a < b

    def _reduce(self, xs: np.ndarray) -> float:
        return float(np.min(xs))

    def update(self, x: float) -> None:
        x = float(x)
        if self.n == 0 or self._better(x, self.value):
            self.value = x
        self.n += 1

    def get(self) -> float:
        return self.value

    def _batch(self, xs: np.ndarray) -> Min:
        out = self._fresh()
        out.n = len(xs)
        out.value = self._reduce(xs)
        return out

    def _absorb(self, other: Min) -> None:
        if other.n and (self.n == 0 or self._better(other.value, self.value)):
            self.value = other.value
        self.n += other.n


class Max(Min):
    """Largest value seen (NaN when empty).

    >>> m = Max(); m.update_many([3.0, -1.0]); m.update(2.0); m.get()
    3.0
    """

    def _better(self, a: float, b: float) -> bool:
        return a > b

    def _reduce(self, xs: np.ndarray) -> float:
        return float(np.max(xs))
