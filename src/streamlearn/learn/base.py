"""The learner contract shared by every model.

Features arrive as a 2-D ``float64`` array ``X`` (one row per record).
Categorical features are ordinal codes (0, 1, 2, ... in order of first
appearance; see :mod:`streamlearn.learn.features`) and the learner is told
which columns they are by :meth:`Learner.set_features`.

Targets are ``float64`` for regression. For classification they are ``int64``
class codes, and a prediction of ``-1`` means "no class known yet".
"""

from __future__ import annotations

import copy
import pickle
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from streamlearn.types import Task

__all__ = ["NO_CLASS", "Classifier", "Learner", "Regressor"]

#: The prediction of a classifier that has seen no label yet.
NO_CLASS = -1


class Learner(ABC):
    """Base class: one record at a time, a batch at a time, or test-then-train.

    Subclasses implement :meth:`learn_one` and :meth:`predict_one`; the batch
    forms default to loops over them. A learner that overrides
    :meth:`test_then_train` with a vectorised or compiled loop must return
    exactly what the default loop returns.
    """

    task: ClassVar[Task] = "regression"
    #: keeps the GIL while it learns (River, scikit-learn, plain Python): ``--workers``
    #: runs it in a process of its own (:mod:`streamlearn.learn.remote`), not on a thread
    holds_gil: ClassVar[bool] = False

    def __init__(self) -> None:
        self.n_learned = 0
        self.feature_names: tuple[str, ...] = ()
        self.categorical_mask: np.ndarray = np.zeros(0, dtype=bool)

    # -- schema -------------------------------------------------------------
    def set_features(self, names: Sequence[str], categorical: Sequence[bool] | np.ndarray) -> None:
        """Called once before the first record with the feature columns' names."""
        self.feature_names = tuple(names)
        self.categorical_mask = np.asarray(categorical, dtype=bool)

    # -- per record ---------------------------------------------------------
    @abstractmethod
    def learn_one(self, x: np.ndarray, y: Any) -> None:
        """Learn from one record. Implementations must add 1 to ``n_learned``."""

    @abstractmethod
    def predict_one(self, x: np.ndarray) -> Any:
        """Predict one record without learning from it."""

    # -- per batch ----------------------------------------------------------
    def learn_many(self, X: np.ndarray, y: np.ndarray) -> None:
        for i in range(len(X)):
            self.learn_one(X[i], y[i])

    def predict_many(self, X: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.empty(len(X), dtype=self._prediction_dtype())
        for i in range(len(X)):
            out[i] = self.predict_one(X[i])
        return out

    def test_then_train(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Predict each record with everything before it, then learn from it."""
        out: np.ndarray = np.empty(len(X), dtype=self._prediction_dtype())
        for i in range(len(X)):
            out[i] = self.predict_one(X[i])
            self.learn_one(X[i], y[i])
        return out

    # -- lifecycle ----------------------------------------------------------
    def clone(self) -> Learner:
        """A fresh learner with the same parameters and nothing learned."""
        fresh = copy.copy(self)
        fresh.__dict__ = {}
        init_params = getattr(self, "_params", {})
        type(self).__init__(fresh, **init_params)
        if self.feature_names:
            fresh.set_features(self.feature_names, self.categorical_mask)
        return fresh

    def snapshot(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def restore(blob: bytes) -> Learner:
        learner = pickle.loads(blob)
        if not isinstance(learner, Learner):
            raise TypeError("snapshot does not hold a Learner")
        return learner

    def diagnostics(self) -> dict[str, int]:
        """Counts the learner keeps about itself (updates capped or skipped, fits that
        failed...); they go to the metrics JSON under the model's ``diagnostics``."""
        return {}

    def state_size(self) -> int:
        """Bytes of pickled state: used to check that memory stays bounded."""
        return len(self.snapshot())

    def _prediction_dtype(self) -> type:
        return np.int64 if self.task == "classification" else np.float64

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in getattr(self, "_params", {}).items())
        return f"{type(self).__name__}({params})"


class Regressor(Learner):
    task: ClassVar[Task] = "regression"


class Classifier(Learner):
    task: ClassVar[Task] = "classification"
