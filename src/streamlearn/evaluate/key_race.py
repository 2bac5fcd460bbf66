"""One key's race in a per-key race, the same on the driver and on Spark's executors.

A key's classifiers know only the classes that key has shown: class codes are
the key's own, in order of first appearance within the key, whatever the rest
of the stream holds. So a key's race needs nothing from other keys, and runs
wherever its records are (:mod:`streamlearn.engines.spark.keyed` runs it on
the executors, with labels as text; the driver runs it with the run's class
codes).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from streamlearn.evaluate.race import Race

__all__ = ["KeyRace"]


class KeyRace(Race):
    """A :class:`Race` for one key, fed target *values* (class codes of the run, or labels)."""

    classes: list[Any]
    #: the key, as text (set where the race runs on Spark's executors)
    key_name: str = ""

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
            self.classes = []
        known = y if labelled is None else y[labelled]
        new = [v for v in pd.unique(known) if v not in set(self.classes)]
        self.classes.extend(new)
        codes = pd.Index(self.classes).get_indexer(y) if self.classes else np.full(len(y), -1)
        preds = self.step(X, np.asarray(codes, dtype=np.int64), labelled)
        table = np.array([*self.classes, missing], dtype=object)
        out = {}
        for name, p in preds.items():
            values = table[p]  # -1, no class yet: the last entry
            out[name] = values.astype(np.int64) if isinstance(missing, int) else values
        return out
