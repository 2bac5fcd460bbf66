"""Public test doubles and checks: test your own pipelines and learners the way streamlearn tests its own.

:func:`check_learner` runs the learner conformance suite on your learner.

Examples
--------
>>> from streamlearn import Pipeline, run
>>> from streamlearn.testing import ListSink, MemorySource
>>> rows = [{"x": float(i % 7), "label": "odd" if i % 2 else "even"} for i in range(50)]
>>> sink = ListSink()
>>> summary = run(Pipeline(MemorySource(rows), task="classification", target="label",
...                        models=["last-class"], batch_size=10), sinks=[sink])
>>> summary["records_predicted"], len(sink.results)
(50, 5)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from streamlearn.learn.base import NO_CLASS, Learner
from streamlearn.learn.checks import check_learner
from streamlearn.sinks.memory import ListSink
from streamlearn.sources.memory import MemorySource
from streamlearn.types import Task

__all__ = ["ListSink", "MemorySource", "SpyLearner", "check_learner"]


class SpyLearner(Learner):
    """Remembers which records it predicted and learned, by an id feature.

    Feature column ``id_column`` (default 0) must hold a unique record id.
    It raises if asked to predict a record it has already learned from, or to
    predict or learn a record twice.
    """

    def __init__(self, task: Task = "regression", id_column: int = 0) -> None:
        super().__init__()
        self._params: dict[str, Any] = {"task": task, "id_column": id_column}
        self.task = task  # type: ignore[misc]
        self.id_column = id_column
        self.predicted: list[int] = []
        self.learned: list[int] = []
        self._learned_set: set[int] = set()
        self._predicted_set: set[int] = set()

    def _id(self, x: np.ndarray) -> int:
        return int(x[self.id_column])

    def learn_one(self, x: np.ndarray, y: Any) -> None:
        rid = self._id(x)
        if rid in self._learned_set:
            raise AssertionError(f"record {rid} learned twice")
        if rid not in self._predicted_set:
            raise AssertionError(f"record {rid} learned before it was predicted")
        self._learned_set.add(rid)
        self.learned.append(rid)
        self.n_learned += 1

    def predict_one(self, x: np.ndarray) -> Any:
        rid = self._id(x)
        if rid in self._learned_set:
            raise AssertionError(f"record {rid} predicted after it was learned")
        if rid in self._predicted_set:
            raise AssertionError(f"record {rid} predicted twice")
        self._predicted_set.add(rid)
        self.predicted.append(rid)
        return NO_CLASS if self.task == "classification" else 0.0
