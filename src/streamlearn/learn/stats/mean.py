"""Running mean (Welford's incremental form, Chan's merge)."""

from __future__ import annotations

import numpy as np

from streamlearn.learn.stats.base import Statistic

__all__ = ["Mean"]


class Mean(Statistic):
    """Mean of the values (NaN when empty).

    ``update`` moves the mean towards each value, ``mu += (x - mu) / n``,
    which never forms a large sum and so keeps its precision on long streams.

    >>> m = Mean(); m.update_many([1.0, 2.0]); m.update(6.0); m.get()
    3.0
    """

    _state = ("n", "mean")

    def __init__(self) -> None:
        self.n = 0
        self.mean = 0.0

    def update(self, x: float) -> None:
        self.n += 1
        self.mean += (float(x) - self.mean) / self.n

    def get(self) -> float:
        return self.mean if self.n else float("nan")

    def _batch(self, xs: np.ndarray) -> Mean:
        out = self._fresh()
        out.n = len(xs)
        out.mean = float(np.mean(xs))
        return out

    def _absorb(self, other: Mean) -> None:
        if other.n == 0:
            return
        n = self.n + other.n
        # Chan et al.: weighted step from one mean towards the other.
        self.mean += (other.mean - self.mean) * (other.n / n)
        self.n = n
