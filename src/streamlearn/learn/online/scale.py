"""Standardise some features of a River dict and pass the rest through."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import pandas as pd
from river import base, preprocessing

__all__ = ["ScaleNumbers"]


class ScaleNumbers(base.Transformer):
    """River's :class:`~river.preprocessing.StandardScaler` on the named features only.

    One-hot keys must not be scaled: a key is present only when it is 1, so
    its running variance is 0 and the scaler would turn it into 0.

    Parameters
    ----------
    names
        The numeric features to standardise.

    Examples
    --------
    >>> s = ScaleNumbers(["x"])
    >>> for v in (1.0, 3.0):
    ...     s.learn_one({"x": v, "dev=1": 1.0})
    >>> s.transform_one({"x": 3.0, "dev=1": 1.0})
    {'x': 1.0, 'dev=1': 1.0}
    """

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self.scaler = preprocessing.StandardScaler()

    def _numbers(self, x: dict[Hashable, Any]) -> dict[Hashable, Any]:
        return {k: x[k] for k in self.names if k in x}

    def learn_one(self, x: dict[Hashable, Any]) -> None:
        self.scaler.learn_one(self._numbers(x))

    def transform_one(self, x: dict[Hashable, Any]) -> dict[Hashable, Any]:
        return {**x, **self.scaler.transform_one(self._numbers(x))}

    def transform_many(self, X: pd.DataFrame) -> pd.DataFrame:
        cols = [k for k in self.names if k in X.columns]
        out = X.copy()
        if cols:
            out[cols] = self.scaler.transform_many(X[cols])
        return out
