"""Count, mean and variance of every column at once (vectorised Welford/Chan)."""

from __future__ import annotations

from typing import Any

import numpy as np

from streamlearn.stats.base import ColumnStatistic

__all__ = ["Moments"]


class Moments(ColumnStatistic):
    """Per-column count, mean and ``S_N`` of ``(n, d)`` records.

    Welford's update works with deviations, not raw squares, so it keeps full
    precision when values sit on a large offset; batches combine by the
    parallel formula of Chan, Golub and LeVeque (1979).

    >>> m = Moments(); m.update_many([[1.0, 10.0], [2.0, 20.0]]); m.update([6.0, 60.0])
    >>> m.mean.tolist(), m.var().tolist()
    ([3.0, 30.0], [4.666666666666667, 466.6666666666667])
    """

    _width_of = "mean"

    def __init__(self, ddof: int = 0) -> None:
        self.ddof = int(ddof)
        self.n = 0
        self.mean = np.zeros(0)
        self.m2 = np.zeros(0)

    def var(self, ddof: int | None = None) -> np.ndarray:
        """Per-column variance ``S_N / (N - ddof)`` (NaN when ``N <= ddof``)."""
        dd = self.ddof if ddof is None else int(ddof)
        if self.n <= dd:
            return np.full(self.n_columns, np.nan)
        return self.m2 / (self.n - dd)

    def std(self, ddof: int | None = None) -> np.ndarray:
        return np.sqrt(self.var(ddof))

    def get(self) -> dict[str, Any]:
        return {"count": self.n, "mean": self.mean.copy(), "var": self.var()}

    def _batch(self, X: np.ndarray) -> Moments:
        out = Moments(self.ddof)
        out.n = len(X)
        out.mean = X.mean(axis=0)
        out.m2 = np.square(X - out.mean).sum(axis=0)
        return out

    def _absorb(self, other: Moments) -> None:  # type: ignore[override]
        if other.n == 0:
            return
        if self._check_columns(other):
            self.n, self.mean, self.m2 = other.n, other.mean.copy(), other.m2.copy()
            return
        n = self.n + other.n
        delta = other.mean - self.mean
        self.m2 = self.m2 + other.m2 + delta * delta * (self.n * other.n / n)
        self.mean = self.mean + delta * (other.n / n)
        self.n = n
