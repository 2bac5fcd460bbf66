"""Labels that come later: the processor's part of ``--labels`` and ``--delay SECONDS``.

:class:`JoiningMixin` gives :class:`~streamlearn.process.BatchProcessor` the
step of a batch whose race is a :class:`~streamlearn.evaluate.joined.JoinedRace`:
the labels read from their topic (or each record's own label, ``--delay``
seconds later) are scheduled in the race, then the records are predicted
and wait for them, in event-time order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from streamlearn.errors import ConfigError
from streamlearn.evaluate.joined import JoinedRace
from streamlearn.records.batch import RawBatch, RecordBatch
from streamlearn.records.labels import decode_labels, has_label, key_texts, row_times
from streamlearn.sinks.base import BatchResult

if TYPE_CHECKING:
    from streamlearn.codecs import Codec
    from streamlearn.evaluate.race import Race
    from streamlearn.learn.features import FeatureEncoder, LabelIndex
    from streamlearn.pipeline import Pipeline
    from streamlearn.records.schema import Schema

__all__ = ["JoiningMixin"]


class JoiningMixin:
    """The label-joining step of a batch, for :class:`~streamlearn.process.BatchProcessor`."""

    pipeline: Pipeline
    race: Race | None
    codec: Codec | None
    encoder: FeatureEncoder | None
    labels: LabelIndex
    predicted: int
    label_records: int
    label_dead: int

    def _setup_learning(self, schema: Schema) -> None:
        raise NotImplementedError

    def _decoded(self, preds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _join(
        self,
        raw: RawBatch,
        batch: RecordBatch,
        result: BatchResult,
        labels: RawBatch | None,
        drain: bool,
    ) -> None:
        """Labels joined by key in event time (``--labels``), or the records' own later (``--delay 5s``)."""
        race = self.race
        assert isinstance(race, JoinedRace) and self.codec is not None
        schema = self.codec.schema
        p = self.pipeline
        assert schema.target is not None
        if labels is not None and len(labels):
            numeric = race.task == "regression"
            got = decode_labels(labels, str(p.join_key), schema.target, numeric)
            self.label_records += len(labels)
            self.label_dead += len(got.dead)
            result.dead_letters.extend(got.dead)
            race.schedule(got.ts, got.keys, self._label_values(got.values), list(got.letters))
        if len(batch):
            if self.encoder is None:
                self._setup_learning(schema)
            assert self.encoder is not None
            if raw.timestamps is None:
                raise ConfigError("joining labels needs the records' timestamps (a kafka: source)")
            X = self.encoder.transform(batch.columns, len(batch))
            ts = row_times(raw, batch)
            if p.labels:
                if p.join_key not in batch.columns:
                    raise ConfigError(f"no column {p.join_key!r} for --join-key")
                keys = key_texts(batch.column(p.join_key))
            else:  # --delay SECONDS: each record's own label comes that much later
                keys = self._own_labels(batch, ts)
            preds = race.step_joined(X, keys, ts)
            result.predictions = self._decoded(preds)
            result.targets = batch.column(schema.target)
            self.predicted += len(batch)
        if drain:
            race.drain()
        result.dead_letters.extend(race.take_dead_letters())
        for name, index in race.last_failures.items():
            race.failed[name]["position"] = batch.position(index) if len(batch) else "labels"
        result.alarms = list(race.last_alarms)

    def _own_labels(self, batch: RecordBatch, ts: np.ndarray) -> list[str | None]:
        """Schedule each labelled record's label ``--delay`` seconds after it; keys are record numbers."""
        race = self.race
        assert isinstance(race, JoinedRace) and self.codec is not None
        target = batch.column(str(self.codec.schema.target))
        labelled = has_label(target) if race.task == "classification" else ~np.isnan(target)
        first = race.records
        keys: list[str | None] = [
            str(first + i) if ok else None for i, ok in enumerate(labelled.tolist())
        ]
        due = ts[labelled] + round(float(self.pipeline.delay_seconds or 0) * 1000)
        values = self._label_values(target[labelled].tolist())
        race.schedule(due, [k for k in keys if k is not None], values, [None] * len(values))
        return keys

    def _label_values(self, values: list[object]) -> list[object]:
        """Targets as the race learns them: class indices, or floats."""
        assert self.race is not None
        if not values:
            return []
        if self.race.task == "classification":
            return self.labels.encode(np.array([str(v) for v in values], dtype=object)).tolist()
        return values  # numbers already (decode_labels, or a float column)
