"""The course lab's stateless steps: max and mean of x, and a text line per record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from streamlearn.records.batch import RecordBatch
from streamlearn.steps.base import Step
from streamlearn.types import StepKind

__all__ = ["CounterText", "FeatureSummary"]


class FeatureSummary(Step):
    """Adds ``x_max`` and ``x_mean``: the max and the mean of the feature values per record.

    By default over the features only. The course lab computes
    ``np.max(x[1:])`` on ``[counter, y, x1..x10]``, which includes ``y``:
    ``include_target="y"`` reproduces that.
    """

    scope: ClassVar[StepKind] = "row"
    default_id = "x_max_mean"

    def __init__(
        self,
        features: Sequence[str],
        step_id: str | None = None,
        include_target: str | None = None,
    ):
        self.features = tuple(features)
        self.step_id = step_id
        self.include_target = include_target
        self.columns = ((include_target,) if include_target else ()) + self.features
        self.reads = self.columns

    def apply(self, batch: RecordBatch) -> RecordBatch:
        if not len(batch):
            return batch.with_columns(x_max=np.zeros(0), x_mean=np.zeros(0))
        X = np.column_stack([batch.columns[f] for f in self.columns]).astype(np.float64)
        return batch.with_columns(x_max=X.max(axis=1), x_mean=X.mean(axis=1))


class CounterText(Step):
    """Adds ``text``: one line per record naming its counter, as the course prints."""

    scope: ClassVar[StepKind] = "row"
    default_id = "counter_text"

    def __init__(
        self,
        counter: str = "counter",
        template: str = "record {counter}",
        step_id: str | None = None,
    ):
        self.counter = counter
        self.template = template
        self.step_id = step_id
        self.reads = (counter,)

    def apply(self, batch: RecordBatch) -> RecordBatch:
        col = batch.columns.get(self.counter, batch.offsets)
        text = np.array([self.template.format(counter=int(c)) for c in col], dtype=object)
        return batch.with_columns(text=text)
