"""Per-column sums, absolute sums, minima and maxima of ``(n, d)`` records."""

from __future__ import annotations

from typing import Any

import numpy as np

from streamlearn.stats.base import ColumnStatistic

__all__ = ["ColumnExtrema", "ColumnSums"]


class ColumnSums(ColumnStatistic):
    """Per-column sum and sum of absolute values.

    >>> s = ColumnSums(); s.update_many([[1.0, -2.0], [3.0, 4.0]])
    >>> s.total.tolist(), s.abs_total.tolist()
    ([4.0, 2.0], [4.0, 6.0])
    """

    _width_of = "total"

    def __init__(self) -> None:
        self.n = 0
        self.total = np.zeros(0)
        self.abs_total = np.zeros(0)

    def get(self) -> dict[str, Any]:
        return {"count": self.n, "sum": self.total.copy(), "abs_sum": self.abs_total.copy()}

    def _batch(self, X: np.ndarray) -> ColumnSums:
        out = ColumnSums()
        out.n = len(X)
        out.total = X.sum(axis=0)
        out.abs_total = np.abs(X).sum(axis=0)
        return out

    def _absorb(self, other: ColumnSums) -> None:  # type: ignore[override]
        if other.n == 0:
            return
        if self._check_columns(other):
            self.n, self.total, self.abs_total = other.n, other.total.copy(), other.abs_total.copy()
            return
        self.n += other.n
        self.total = self.total + other.total
        self.abs_total = self.abs_total + other.abs_total


class ColumnExtrema(ColumnStatistic):
    """Per-column minimum and maximum.

    >>> m = ColumnExtrema(); m.update_many([[1.0, -2.0], [3.0, 4.0]])
    >>> m.low.tolist(), m.high.tolist()
    ([1.0, -2.0], [3.0, 4.0])
    """

    _width_of = "low"

    def __init__(self) -> None:
        self.n = 0
        self.low = np.zeros(0)
        self.high = np.zeros(0)

    def get(self) -> dict[str, Any]:
        return {"count": self.n, "min": self.low.copy(), "max": self.high.copy()}

    def _batch(self, X: np.ndarray) -> ColumnExtrema:
        out = ColumnExtrema()
        out.n = len(X)
        out.low = X.min(axis=0)
        out.high = X.max(axis=0)
        return out

    def _absorb(self, other: ColumnExtrema) -> None:  # type: ignore[override]
        if other.n == 0:
            return
        if self._check_columns(other):
            self.n, self.low, self.high = other.n, other.low.copy(), other.high.copy()
            return
        self.n += other.n
        self.low = np.minimum(self.low, other.low)
        self.high = np.maximum(self.high, other.high)
