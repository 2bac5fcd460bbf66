"""Keep some features of a River dict, in a fixed order."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from river import base

__all__ = ["SelectInOrder"]


class SelectInOrder(base.Transformer):
    """River's :class:`~river.compose.Select`, with the keys in the order given.

    River's ``Select`` keeps its keys in a set, whose order depends on the
    process's string hashing; a pickled model restored in another process
    then sums the leaf models' products in another order, and predictions
    differ in the last bits. Here the order is the one given, everywhere.

    Examples
    --------
    >>> SelectInOrder(["b", "a"]).transform_one({"a": 1.0, "b": 2.0, "c": 3.0})
    {'b': 2.0, 'a': 1.0}
    """

    def __init__(self, keys: Sequence[Hashable]) -> None:
        self.keys = tuple(keys)

    def transform_one(self, x: dict[Hashable, Any]) -> dict[Hashable, Any]:
        return {k: x[k] for k in self.keys if k in x}
