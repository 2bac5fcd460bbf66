"""Feature rows to River's dicts: numbers stay numbers, categories become names.

Two encodings of a categorical column ``name`` holding code ``k``:

* ``"nominal"``: ``{name: "k"}``, a string, which River's trees and naive
  Bayes treat as a nominal value;
* ``"onehot"``: ``{"name=k": 1.0}``, for linear models. A category the model
  never learned from is just a feature without a weight, so it cannot crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ENCODINGS", "RowConverter", "converter_for"]

ENCODINGS = ("nominal", "onehot")


class RowConverter:
    """Converts the rows of a feature matrix into River feature dicts.

    Parameters
    ----------
    names
        Feature names; River keys.
    categorical
        Which columns hold category codes.
    encoding
        ``"nominal"`` or ``"onehot"`` (see the module doc).

    Examples
    --------
    >>> import numpy as np
    >>> c = RowConverter(["x", "dev"], [False, True], "onehot")
    >>> c.to_dicts(np.array([[0.5, 2.0]]))
    [{'x': 0.5, 'dev=2': 1.0}]
    >>> RowConverter(["x", "dev"], [False, True], "nominal").to_dicts(np.array([[0.5, 2.0]]))
    [{'x': 0.5, 'dev': '2'}]
    """

    def __init__(self, names: Sequence[str], categorical: Sequence[bool], encoding: str) -> None:
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
        self.names = tuple(names)
        self.encoding = encoding
        mask = list(map(bool, categorical))
        self.numeric = [j for j, c in enumerate(mask) if not c]
        self.categorical = [j for j, c in enumerate(mask) if c]
        self.numeric_names = tuple(self.names[j] for j in self.numeric)

    def to_dict(self, row: Sequence[float]) -> dict[str, Any]:
        """One row (a list of Python floats) as a dict."""
        names = self.names
        d: dict[str, Any] = {names[j]: row[j] for j in self.numeric}
        if self.encoding == "onehot":
            for j in self.categorical:
                d[f"{names[j]}={int(row[j])}"] = 1.0
        else:
            for j in self.categorical:
                d[names[j]] = str(int(row[j]))
        return d

    def to_dicts(self, X: np.ndarray) -> list[dict[str, Any]]:
        # tolist() gives Python floats once per batch: much faster than per item
        return [self.to_dict(row) for row in np.asarray(X, dtype=np.float64).tolist()]

    def frame(self, X: np.ndarray) -> pd.DataFrame:
        """A one-hot batch as a DataFrame: River's mini-batch input.

        Categories absent from the batch are absent columns; for a linear
        model a zero column and a missing key contribute the same nothing.
        """
        if self.encoding != "onehot":
            raise ValueError("frames are built for the one-hot encoding only")
        X = np.asarray(X, dtype=np.float64)
        cols: dict[str, np.ndarray] = {self.names[j]: X[:, j] for j in self.numeric}
        for j in self.categorical:
            codes = X[:, j].astype(np.int64)
            for k in np.unique(codes):
                cols[f"{self.names[j]}={k}"] = (codes == k).astype(np.float64)
        return pd.DataFrame(cols)


def converter_for(
    names: Sequence[str], categorical: Sequence[bool] | np.ndarray, d: int, encoding: str
) -> RowConverter:
    """A converter for rows of ``d`` features: the learner's names and categorical mask when
    they describe ``d`` columns, else ``x0, x1, ...``, all numeric."""
    use = list(names) if len(names) == d else [f"x{j}" for j in range(d)]
    mask = list(map(bool, categorical)) if len(categorical) == d else [False] * d
    return RowConverter(use, mask, encoding)
