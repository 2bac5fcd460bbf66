"""Stateless steps: map, filter and select."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from streamlearn.errors import ConfigError
from streamlearn.records.batch import RecordBatch
from streamlearn.steps.base import Step, name_of, user_code_error
from streamlearn.types import StepKind

__all__ = ["Filter", "Map", "MapColumns", "Select"]


class Map(Step):
    """Apply ``fn(record: dict) -> dict`` to every record; returned keys become columns.

    The function sees one record at a time, as the course's ``map`` does. For
    speed on large batches, prefer :class:`MapColumns`.
    """

    scope: ClassVar[StepKind] = "row"

    def __init__(
        self, fn: Callable[[dict[str, Any]], Mapping[str, Any]], step_id: str | None = None
    ):
        self.fn = fn
        self.step_id = step_id or name_of(fn, "map")

    def apply(self, batch: RecordBatch) -> RecordBatch:
        results: list[Mapping[str, Any]] = []
        for i in range(len(batch)):
            try:
                results.append(self.fn(batch.row(i)))
            except Exception as exc:
                raise user_code_error(exc, self.step_id, batch, i) from exc
        if not results:
            return batch
        names = list(results[0])
        new = {k: np.array([r.get(k) for r in results]) for k in names}
        return batch.with_columns(**new)


class MapColumns(Step):
    """Apply ``fn(columns: dict[str, ndarray]) -> dict[str, ndarray]`` to a whole batch."""

    def __init__(
        self,
        fn: Callable[[Mapping[str, np.ndarray]], Mapping[str, np.ndarray]],
        step_id: str | None = None,
    ):
        self.fn = fn
        self.step_id = step_id or name_of(fn, "map_columns")

    def apply(self, batch: RecordBatch) -> RecordBatch:
        if not len(batch):
            return batch
        try:
            new = self.fn(batch.columns)
        except Exception as exc:
            raise user_code_error(exc, self.step_id, batch, 0) from exc
        return batch.with_columns(**dict(new))


class Filter(Step):
    """Keep the records for which ``predicate(record: dict)`` is true."""

    scope: ClassVar[StepKind] = "row"

    def __init__(self, predicate: Callable[[dict[str, Any]], bool], step_id: str | None = None):
        self.predicate = predicate
        self.step_id = step_id or name_of(predicate, "filter")

    def apply(self, batch: RecordBatch) -> RecordBatch:
        keep = np.zeros(len(batch), dtype=bool)
        for i in range(len(batch)):
            try:
                keep[i] = bool(self.predicate(batch.row(i)))
            except Exception as exc:
                raise user_code_error(exc, self.step_id, batch, i) from exc
        return batch.take(keep)


class Select(Step):
    """Keep only the named columns."""

    scope: ClassVar[StepKind] = "row"
    default_id = "select"

    def __init__(self, columns: Iterable[str], step_id: str | None = None):
        self.columns = tuple(columns)
        self.step_id = step_id
        self.reads = self.columns

    def apply(self, batch: RecordBatch) -> RecordBatch:
        missing = [c for c in self.columns if c not in batch.columns]
        if missing:
            raise ConfigError(f"select: no column(s) {', '.join(missing)}")
        return batch.select(self.columns)
