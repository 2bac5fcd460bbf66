"""Turning decoded columns into learner inputs: feature matrices and label codes.

Categories are coded 0, 1, 2, ... in order of first appearance, so codes are
deterministic for a given stream. Vocabularies are bounded: past
``max_categories`` distinct values, new values share one overflow code. A
category first seen while predicting gets its code then, and a learner that
never learned from that code treats it as unknown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from streamlearn.errors import ConfigError

__all__ = ["CategoryIndex", "FeatureEncoder", "LabelIndex"]


class CategoryIndex:
    """Bounded mapping from category values to integer codes."""

    def __init__(self, max_categories: int = 10_000) -> None:
        if max_categories < 1:
            raise ConfigError("max_categories must be at least 1")
        self.max_categories = max_categories
        self.codes: dict[Any, int] = {}
        self.values: list[Any] = []
        #: records whose value found the vocabulary full
        self.overflowed = 0

    @property
    def overflow_code(self) -> int:
        return self.max_categories

    def encode(self, values: np.ndarray | Sequence[Any]) -> np.ndarray:
        # factorize keeps order of first appearance, so codes are deterministic
        local_codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
        mapped = np.fromiter((self._code(u) for u in uniques), dtype=np.int64, count=len(uniques))
        codes: np.ndarray = mapped[local_codes]
        if len(self.values) >= self.max_categories:  # count the records that got the overflow code
            self.overflowed += int(np.count_nonzero(codes == self.overflow_code))
        return codes

    def _code(self, value: Any) -> int:
        code = self.codes.get(value)
        if code is None:
            if len(self.values) >= self.max_categories:
                return self.overflow_code
            code = len(self.values)
            self.codes[value] = code
            self.values.append(value)
        return code

    def decode(self, codes: np.ndarray) -> np.ndarray:
        table = np.array([*self.values, "<other>", None], dtype=object)
        idx = np.where((codes >= 0) & (codes < len(self.values)), codes, len(self.values))
        idx = np.where(codes < 0, len(self.values) + 1, idx)
        return table[idx]

    def __len__(self) -> int:
        return len(self.values)


class LabelIndex(CategoryIndex):
    """Class labels to codes; the overflow code is refused rather than shared."""

    def __init__(self, max_classes: int = 1_000) -> None:
        super().__init__(max_classes)


class FeatureEncoder:
    """Builds the ``float64`` feature matrix of a batch from its columns.

    Numeric features come first, in schema order, then categorical features
    as ordinal codes.
    """

    def __init__(
        self,
        numeric: Sequence[str],
        categorical: Sequence[str] = (),
        max_categories: int = 10_000,
    ) -> None:
        self.numeric = tuple(numeric)
        self.categorical = tuple(categorical)
        self.indexes = {name: CategoryIndex(max_categories) for name in self.categorical}

    @property
    def names(self) -> tuple[str, ...]:
        return (*self.numeric, *self.categorical)

    def overflowed(self) -> dict[str, int]:
        """Values that found their column's vocabulary full, by column (only those with any)."""
        return {name: index.overflowed for name, index in self.indexes.items() if index.overflowed}

    @property
    def categorical_mask(self) -> np.ndarray:
        return np.array([False] * len(self.numeric) + [True] * len(self.categorical), dtype=bool)

    def transform(self, columns: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        X = np.empty((n, len(self.names)), dtype=np.float64)
        for j, name in enumerate(self.numeric):
            try:
                X[:, j] = columns[name]
            except KeyError:
                raise ConfigError(f"feature {name!r} is not in the records") from None
            except (TypeError, ValueError):
                raise ConfigError(
                    f"feature {name!r} is not numeric; mark it --categorical"
                ) from None
        for k, name in enumerate(self.categorical):
            try:
                col = columns[name]
            except KeyError:
                raise ConfigError(f"categorical feature {name!r} is not in the records") from None
            X[:, len(self.numeric) + k] = self.indexes[name].encode(col)
        return X
