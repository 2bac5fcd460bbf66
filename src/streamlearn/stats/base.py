"""What every per-column streaming statistic offers: update, batch update, merge.

A statistic is a small fixed-size summary of the values seen so far, kept per
column of ``(n, d)`` record arrays. Each subclass says how to summarise one
batch (``_batch``, vectorised) and how to combine two summaries (``_absorb``,
the parallel formulas); ``update_many`` is then "summarise the batch and
absorb it", so it agrees with ``merge`` by construction and with repeated
``update`` up to floating rounding.

Inputs are assumed finite: NaN and inf policies belong to the codec upstream.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from typing import Any, Self

import numpy as np

__all__ = ["ColumnStatistic", "as_matrix"]


def as_matrix(X: Any) -> np.ndarray:
    """A 2-D float64 view of ``X``: one row per record; 1-D means one column."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        return X.reshape(-1, 1)
    if X.ndim != 2:
        raise ValueError(f"expected a 2-D array of records, got shape {X.shape}")
    return X


class ColumnStatistic(ABC):
    """A statistic kept per column of ``(n, d)`` record arrays, vectorised.

    ``d`` is fixed by the first data; state arrays have shape ``(d,)``
    (``(0,)`` before any data). ``update`` takes one row of ``d`` values.
    """

    #: records summarised so far
    n: int
    #: the name of one ``(d,)`` state array (its length is the column count)
    _width_of: str = ""

    @property
    def n_columns(self) -> int:
        return len(getattr(self, self._width_of))

    @abstractmethod
    def get(self) -> dict[str, Any]:
        """The current values, by name."""

    @abstractmethod
    def _batch(self, X: np.ndarray) -> Self:
        """A fresh statistic (same settings) holding the summary of ``X`` (non-empty)."""

    @abstractmethod
    def _absorb(self, other: Self) -> None:
        """Combine ``other`` into ``self`` in place: data of self, then of other."""

    def update(self, x: Any) -> None:
        """Add one record of ``d`` values."""
        self.update_many(np.asarray(x, dtype=np.float64).reshape(1, -1))

    def update_many(self, xs: Any) -> None:
        """Add many records at once (vectorised)."""
        X = as_matrix(xs)
        if len(X):
            self._absorb(self._batch(X))

    def merge(self, other: Self) -> Self:
        """The statistic of the concatenated data (self's records, then other's)."""
        if type(other) is not type(self):
            raise TypeError(f"cannot merge {type(self).__name__} with {type(other).__name__}")
        out = copy.deepcopy(self)
        out._absorb(other)
        return out

    def _check_columns(self, other: ColumnStatistic) -> bool:
        """True when ``self`` is empty (adopt ``other``); raise on a width mismatch."""
        if self.n == 0:
            return True
        if other.n and other.n_columns != self.n_columns:
            raise ValueError(f"{self.n_columns} columns, got {other.n_columns}")
        return False
