"""One key's race in a per-key race, the same on the driver and on Spark's executors.

A key's classifiers know only the classes that key has shown: class codes are
the key's own, in order of first appearance within the key, whatever the rest
of the stream holds. Categorical features too: a key's models see the key's
own codes of each category (:meth:`KeyRace.own_codes`). So a key's race needs nothing from other keys, and runs
wherever its records are (:mod:`streamlearn.engines.spark.keyed` runs it on
the executors, with labels as text; the driver runs it with the run's class
codes).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from streamlearn.evaluate.race import Race
from streamlearn.learn.features import CategoryIndex

__all__ = ["KeyRace"]


class KeyRace(Race):
    """A :class:`Race` for one key, fed target *values* (class codes of the run, or labels)."""

    classes: list[Any]
    _codes: dict[Any, int]
    #: the key, as text (set where the race runs on Spark's executors)
    key_name: str = ""
    #: the key's own codes of each categorical feature
    categories: dict[str, CategoryIndex]

    def own_codes(self, X: np.ndarray, values: dict[str, np.ndarray]) -> np.ndarray:
        """``X`` with its categorical columns (the last ones, in ``values``' order) in the
        key's own codes, in order of first appearance within the key.

        Examples
        --------
        >>> import numpy as np
        >>> from streamlearn.learn.baselines import Mean
        >>> race = KeyRace({"mean": Mean()}, "regression")
        >>> X = np.array([[0.5, 7.0], [0.1, 3.0]])
        >>> race.own_codes(X, {"colour": np.array(["red", "blue"], dtype=object)}).tolist()
        [[0.5, 0.0], [0.1, 1.0]]
        """
        if not values:
            return X
        if not hasattr(self, "categories"):
            self.categories = {}
        X = X.copy()
        first = X.shape[1] - len(values)
        for k, (name, column) in enumerate(values.items()):
            index = self.categories.get(name)
            if index is None:
                index = self.categories[name] = CategoryIndex()
            X[:, first + k] = index.encode(column)
        return X

    def step_values(
        self, X: np.ndarray, y: np.ndarray, labelled: np.ndarray | None, missing: Any
    ) -> dict[str, np.ndarray]:
        """Race one batch of the key's records; predictions as values (``missing``: no class yet).

        Examples
        --------
        >>> import numpy as np
        >>> from streamlearn.learn.baselines import Majority
        >>> race = KeyRace({"majority": Majority()}, "classification")
        >>> race.set_features(("x",), np.zeros(1, dtype=bool))
        >>> out = race.step_values(np.zeros((3, 1)), np.array(["b", "a", "a"], dtype=object),
        ...                        None, None)
        >>> out["majority"].tolist(), race.classes
        ([None, 'b', 'b'], ['b', 'a'])
        """
        if self.task != "classification":
            return self.step(X, np.asarray(y, dtype=np.float64), labelled)
        if not hasattr(self, "classes"):
            self.classes, self._codes = [], {}
        known = y if labelled is None else y[labelled]
        codes = np.full(len(y), -1, dtype=np.int64)  # unlabelled records: no class
        for v in pd.unique(known).tolist():  # in order of first appearance
            code = self._codes.get(v)
            if code is None:
                code = self._codes[v] = len(self.classes)
                self.classes.append(v)
            codes[y == v] = code  # a key holds few classes: one pass each
        preds = self.step(X, codes, labelled)
        table = np.array([*self.classes, missing], dtype=object)
        out = {}
        for name, p in preds.items():
            values = table[p]  # -1, no class yet: the last entry
            out[name] = values.astype(np.int64) if isinstance(missing, int) else values
        return out
