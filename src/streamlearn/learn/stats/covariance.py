"""Running covariance of two variables (co-moment form, Chan's merge)."""

from __future__ import annotations

from typing import Any

import numpy as np

from streamlearn.learn.stats.base import Statistic, as_values

__all__ = ["Cov"]


class Cov(Statistic):
    """Covariance of paired values ``(x, y)``; population (``ddof=0``) by default.

    Keeps the means and the co-moment ``C = sum (x - mean_x)(y - mean_y)``.
    ``update`` and ``update_many`` take the two variables separately.

    >>> c = Cov(); c.update(1.0, 2.0); c.update_many([2.0, 3.0], [4.0, 6.0]); c.get()
    1.3333333333333333
    """

    _state = ("n", "mean_x", "mean_y", "c")
    _config = ("ddof",)

    def __init__(self, ddof: int = 0) -> None:
        self.ddof = int(ddof)
        self.n = 0
        self.mean_x = 0.0
        self.mean_y = 0.0
        self.c = 0.0

    def update(self, x: float, y: float) -> None:  # type: ignore[override]
        x, y = float(x), float(y)
        self.n += 1
        dx = x - self.mean_x
        self.mean_x += dx / self.n
        self.mean_y += (y - self.mean_y) / self.n
        self.c += dx * (y - self.mean_y)  # old x deviation times new y deviation

    def update_many(self, xs: Any, ys: Any = None) -> None:  # type: ignore[override]
        x, y = as_values(xs), as_values(ys)
        if len(x) != len(y):
            raise ValueError(f"Cov needs paired values: {len(x)} x and {len(y)} y")
        if len(x):
            self._absorb(self._batch_xy(x, y))

    def get(self) -> float:
        return self.c / (self.n - self.ddof) if self.n > self.ddof else float("nan")

    def _batch(self, xs: np.ndarray) -> Cov:
        raise TypeError("Cov needs two variables: use update_many(xs, ys)")

    def _batch_xy(self, x: np.ndarray, y: np.ndarray) -> Cov:
        out = self._fresh()
        out.n = len(x)
        out.mean_x = float(np.mean(x))
        out.mean_y = float(np.mean(y))
        out.c = float(np.dot(x - out.mean_x, y - out.mean_y))
        return out

    def _absorb(self, other: Cov) -> None:
        if other.n == 0:
            return
        n = self.n + other.n
        dx = other.mean_x - self.mean_x
        dy = other.mean_y - self.mean_y
        self.c += other.c + dx * dy * (self.n * other.n / n)
        self.mean_x += dx * (other.n / n)
        self.mean_y += dy * (other.n / n)
        self.n = n
