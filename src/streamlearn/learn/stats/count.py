"""Count of values seen."""

from __future__ import annotations

import numpy as np

from streamlearn.learn.stats.base import Statistic

__all__ = ["Count"]


class Count(Statistic):
    """Number of values seen.

    >>> c = Count(); c.update(3.0); c.update_many([1.0, 2.0]); c.get()
    3
    """

    _state = ("n",)

    def __init__(self) -> None:
        self.n = 0

    def update(self, x: float) -> None:
        self.n += 1

    def get(self) -> int:
        return self.n

    def _batch(self, xs: np.ndarray) -> Count:
        out = Count()
        out.n = len(xs)
        return out

    def _absorb(self, other: Count) -> None:
        self.n += other.n
