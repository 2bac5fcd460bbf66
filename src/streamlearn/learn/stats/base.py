"""What every streaming statistic offers: update, batch update, merge, state.

A statistic is a small fixed-size summary of the values seen so far. Each
subclass says how to summarise one batch (``_batch``, vectorised) and how to
combine two summaries (``_absorb``, the parallel formulas); ``update_many`` is
then "summarise the batch and absorb it", so it agrees with ``merge`` by
construction and with repeated ``update`` up to floating rounding.

Inputs are assumed finite: NaN and inf policies belong to the codec upstream.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

import numpy as np

__all__ = ["ColumnStatistic", "Statistic", "as_matrix", "as_values"]


def as_values(xs: Any) -> np.ndarray:
    """A 1-D float64 view of ``xs`` (copied only when needed)."""
    return np.asarray(xs, dtype=np.float64).reshape(-1)


def as_matrix(X: Any) -> np.ndarray:
    """A 2-D float64 view of ``X``: one row per record; 1-D means one column."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        return X.reshape(-1, 1)
    if X.ndim != 2:
        raise ValueError(f"expected a 2-D array of records, got shape {X.shape}")
    return X


class Statistic(ABC):
    """Base class of the streaming statistics.

    Subclasses list the names of their state attributes in ``_state`` and of
    their constructor arguments in ``_config``; that is all :meth:`to_state`,
    :meth:`from_state` and :meth:`merge` need.
    """

    _state: ClassVar[tuple[str, ...]] = ()
    _config: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def update(self, x: float) -> None:
        """Add one value."""

    @abstractmethod
    def get(self) -> Any:
        """The current value of the statistic (NaN when undefined)."""

    @abstractmethod
    def _batch(self, xs: np.ndarray) -> Self:
        """A fresh statistic (same config) holding the summary of ``xs`` (non-empty)."""

    @abstractmethod
    def _absorb(self, other: Self) -> None:
        """Combine ``other`` into ``self`` in place: data of self, then of other."""

    def update_many(self, xs: Any) -> None:
        """Add many values at once (vectorised)."""
        values = as_values(xs)
        if len(values):
            self._absorb(self._batch(values))

    def merge(self, other: Self) -> Self:
        """The statistic of the concatenated data (self's values, then other's)."""
        if type(other) is not type(self):
            raise TypeError(f"cannot merge {type(self).__name__} with {type(other).__name__}")
        if self._settings() != other._settings():
            raise ValueError(f"cannot merge {self!r} with {other!r}: different settings")
        out = self.copy()
        out._absorb(other)
        return out

    def copy(self) -> Self:
        return copy.deepcopy(self)

    def _settings(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._config}

    def _fresh(self) -> Self:
        return type(self)(**self._settings())

    def to_state(self) -> dict[str, Any]:
        """Plain numbers and numpy arrays (settings included)."""
        state = self._settings()
        for name in self._state:
            value = getattr(self, name)
            state[name] = value.copy() if isinstance(value, np.ndarray) else value
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        """Rebuild a statistic from :meth:`to_state` output."""
        stat = cls(**{name: state[name] for name in cls._config})
        for name in cls._state:
            value = state[name]
            setattr(
                stat,
                name,
                np.array(value, dtype=np.float64)
                if isinstance(value, np.ndarray | list)
                else value,
            )
        return stat

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        a, b = self.to_state(), other.to_state()  # type: ignore[attr-defined]
        return a.keys() == b.keys() and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self._settings().items())
        return f"{type(self).__name__}({settings}) = {self.get()!r}"


class ColumnStatistic(Statistic):
    """A statistic kept per column of ``(n, d)`` record arrays, vectorised.

    ``d`` is fixed by the first data; state arrays have shape ``(d,)``
    (``(0,)`` before any data). ``update`` takes one row of ``d`` values.
    """

    n: int

    @property
    def n_columns(self) -> int:
        return len(getattr(self, self._state[1]))

    def update(self, x: Any) -> None:  # type: ignore[override]
        self.update_many(np.asarray(x, dtype=np.float64).reshape(1, -1))

    def update_many(self, xs: Any) -> None:
        X = as_matrix(xs)
        if len(X):
            self._absorb(self._batch(X))

    def _check_columns(self, other: ColumnStatistic) -> bool:
        """True when ``self`` is empty (adopt ``other``); raise on a width mismatch."""
        if self.n == 0:
            return True
        if other.n and other.n_columns != self.n_columns:
            raise ValueError(f"{self.n_columns} columns, got {other.n_columns}")
        return False
