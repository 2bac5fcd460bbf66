"""The heart of a run: one micro-batch through decode, steps and the race.

:class:`BatchProcessor` decodes a raw batch, applies the steps, races the
learners prequentially and keeps the run's counters, the same for every
engine: the run loop (:mod:`streamlearn.engines.loop`) hands it each batch
however the engine made it. Its state is one picklable object, saved whole
in checkpoints.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from typing import Any

import numpy as np

from streamlearn.codecs import Codec, make_codec
from streamlearn.codecs.infer import parse_types
from streamlearn.codecs.layout import Layout
from streamlearn.codecs.settle import Choices, Settled, settle
from streamlearn.errors import ConfigError
from streamlearn.evaluate.delayed import DelayedRace
from streamlearn.evaluate.joined import JoinedRace
from streamlearn.evaluate.per_key import PerKeyRace
from streamlearn.evaluate.race import Race
from streamlearn.joining import JoiningMixin
from streamlearn.learn.features import FeatureEncoder, LabelIndex
from streamlearn.learn.registry import build_models
from streamlearn.pipeline import Pipeline
from streamlearn.records.batch import RawBatch, RecordBatch
from streamlearn.records.labels import has_label
from streamlearn.records.schema import Schema
from streamlearn.sinks.base import BatchResult
from streamlearn.sources.base import Source
from streamlearn.steps.base import Step
from streamlearn.summary import RunSummary

__all__ = ["BatchProcessor"]


class BatchProcessor(JoiningMixin):
    """Runs the engine-independent part of a pipeline, one batch at a time.

    Parameters
    ----------
    pipeline
        What to run.
    source
        The pipeline's source (not necessarily open): its payload format
        and schema are the defaults.
    steps
        The steps to run, when an engine runs some of them elsewhere (the
        Spark engine stands in for keyed steps whose state lives in Spark);
        default: the pipeline's.
    """

    def __init__(
        self, pipeline: Pipeline, source: Source, steps: Sequence[Step] | None = None
    ) -> None:
        self.pipeline = pipeline
        self.steps = list(pipeline.steps if steps is None else steps)
        self.format = pipeline.format or source.format
        self.known: Schema | None = pipeline.schema or source.schema
        self.layout: Layout | None = getattr(source, "layout", None)
        self.origin = source.origin
        self.source_format = source.format
        self.codec: Codec | None = None
        self.encoder: FeatureEncoder | None = None
        self.labels = LabelIndex()
        self.race: Race | None = None
        if pipeline.models:
            assert pipeline.task is not None
            models = build_models(pipeline.models, pipeline.task)
            settings = (pipeline.task, pipeline.granularity, pipeline.train_budget, pipeline.window)
            fail_fast, workers = pipeline.fail_fast, pipeline.workers
            if pipeline.labels or pipeline.delay_seconds is not None:
                timeout = pipeline.label_timeout
                self.race = JoinedRace(
                    models,
                    *settings,
                    fail_fast=fail_fast,
                    workers=workers,
                    timeout_ms=None if timeout is None else round(timeout * 1000),
                    max_pending=pipeline.max_pending,
                )
            elif pipeline.delay:
                self.race = DelayedRace(
                    models,
                    *settings,
                    fail_fast=fail_fast,
                    workers=workers,
                    delay=int(pipeline.delay),
                )
            elif pipeline.per_key:
                self.race = PerKeyRace(
                    models,
                    *settings,
                    fail_fast=fail_fast,
                    workers=workers,
                    max_keys=pipeline.max_keys,
                )
            else:
                self.race = Race(models, *settings, fail_fast=fail_fast, workers=workers)
        self.consumed = 0
        self.predicted = 0
        self.filtered = 0
        self.dead = 0
        self.batches = 0
        #: per-key races run by Spark's executors: their reports for the next batch, and
        #: the keys their state store evicted (set by the Spark engine's feed)
        self.key_reports: tuple[list[Any], list[str]] | None = None
        self.label_records = 0  # read from the label topic
        self.label_dead = 0  # of them dead-lettered
        self.settled_as: Settled | None = None
        if self.known is not None and self.format not in ("auto", "json"):
            self.settle([])

    # -- the codec ----------------------------------------------------------------
    @property
    def settled(self) -> bool:
        """Whether the codec is known (format detected, a schema inferred)."""
        return self.codec is not None

    def choices(self) -> Choices:
        """What the pipeline pins about the records; the rest is decided by the data."""
        p = self.pipeline
        reads = [s.reads for s in self.steps] + [[p.join_key] if p.join_key else []]
        return Choices(
            target=p.target,
            features=p.features,
            categorical=p.categorical,
            key=p.per_key or p.key,
            types=parse_types(p.types),
            nonfinite=p.nonfinite,
            delimiter=p.delimiter,
            header=p.header,
            columns=p.columns,
            keep=tuple(dict.fromkeys(c for r in reads if r for c in r)),
            decode_all=any(r is None for r in reads),
            needs_target=self.race is not None,
            # labels on their own topic: the records need not hold the target
            absent_target=(
                ("str" if p.task == "classification" else "float") if p.labels else None
            ),
            join_key=p.join_key,
        )

    def settle(self, sample: Sequence[bytes]) -> None:
        """Decide the format, types and roles from the stream's first records, if still open.

        ``process`` settles on the first batch when the engine has not
        settled on a sample before (a source's :meth:`~Source.peek`).
        """
        if self.codec is not None:
            return
        found = settle(self.format, sample, self.choices(), self.known, self.layout, self.origin)
        if found is not None:
            join_key = self.pipeline.join_key
            if join_key is not None and join_key not in found.codec.schema.names:
                names = ", ".join(found.codec.schema.names)
                raise ConfigError(f"no field {join_key!r} for --join-key (fields: {names})")
            self.settled_as = found
            self.format = found.format
            self.codec = found.codec

    def _setup_learning(self, schema: Schema) -> None:
        assert self.race is not None
        if schema.target is None:
            raise ConfigError("the task needs a --target column")
        kind = schema.field(schema.target).kind
        if self.race.task == "regression" and kind == "str":
            raise ConfigError(f"target {schema.target!r} holds text; use --task classification")
        self.encoder = FeatureEncoder(schema.numeric_features, schema.categorical_features)
        if not self.encoder.names:
            raise ConfigError("no features to learn from; give --features")
        self.race.set_features(self.encoder.names, self.encoder.categorical_mask)

    def setup_learning(self) -> None:
        """Check the target and features and set up the race's features, if not done yet."""
        if self.encoder is None and self.codec is not None and self.race is not None:
            self._setup_learning(self.codec.schema)

    # -- per batch ----------------------------------------------------------------
    def process(
        self, raw: RawBatch, batch_id: int, labels: RawBatch | None = None, drain: bool = False
    ) -> BatchResult:
        """Decode, transform and race one batch; returns what the sinks receive.

        With ``--labels``, ``labels`` are the label records read up to the
        batch's time, and ``drain`` applies every label held (the records ended).
        """
        if self.codec is None and len(raw):
            self.settle(raw.payloads if raw.table is None else [])
        if self.codec is None:  # nothing in the stream looks like a record yet
            why = (
                f"not a record: no {self.format} record found yet"
                if self.format != "auto"
                else "not a record in any known format"
            )
            dead = [raw.dead_letter(i, why) for i in range(len(raw))]
            batch = RecordBatch({}, raw.origin, raw.partitions[:0], raw.offsets[:0], batch_id)
        else:
            batch, dead = self.codec.decode(raw)
            batch.batch_id = batch_id
        decoded = len(batch)
        for step in self.steps:
            batch = step.apply(batch)
        # a copy: labels dead-lettered join the sinks' list, not the records' count
        result = BatchResult(batch_id, batch, list(dead), consumed=len(raw))
        if self.race is not None:  # the model serving this batch, and the records' keys
            result.champion = self.race.champion or next(iter(self.race.running), None)
            keyed = self.pipeline.per_key or self.pipeline.join_key or self.pipeline.key
            if keyed is not None and keyed in batch.columns:
                result.keys = batch.column(keyed)
        if isinstance(self.race, JoinedRace):
            self._join(raw, batch, result, labels, drain)
        elif self.race is not None and len(batch):
            self._race(batch, result)
        self.consumed += len(raw)
        self.dead += len(dead)
        self.filtered += decoded - len(batch)
        self.batches += 1
        result.summary = self.summary()
        return result

    def _race(self, batch: RecordBatch, result: BatchResult) -> None:
        assert self.race is not None and self.codec is not None
        schema = self.codec.schema
        if self.encoder is None:
            self._setup_learning(schema)
        assert self.encoder is not None and schema.target is not None
        X = self.encoder.transform(batch.columns, len(batch))
        target = batch.column(schema.target)
        race = self.race
        # a record without its label (null, empty) is served: predicted, not learned nor scored
        if race.task == "classification":
            labelled = has_label(target)
            if labelled.all():
                y = self.labels.encode(target)
            else:
                y = np.full(len(target), -1, dtype=np.int64)
                y[labelled] = self.labels.encode(target[labelled])
        else:
            y = np.asarray(target, dtype=np.float64)
            labelled = ~np.isnan(y)
        mask = None if labelled.all() else labelled
        if isinstance(race, PerKeyRace) and self.key_reports is not None:
            reports, evicted = self.key_reports
            self.key_reports = None
            encode = self._class_codes if race.task == "classification" else _floats
            positions = (batch.partitions, batch.offsets)
            preds = race.absorb(reports, evicted, y, positions, mask, encode)
        elif isinstance(race, PerKeyRace):
            per_key = self.pipeline.per_key
            assert per_key is not None
            if per_key not in batch.columns:
                raise ConfigError(f"no column {per_key!r} for --per-key")
            categorical = {c: batch.column(c) for c in self.encoder.categorical}
            preds = race.step_keys(X, y, batch.column(per_key), mask, categorical)
        else:
            preds = race.step(X, y, mask)
        result.predictions = self._decoded(preds)
        result.targets = target
        self.predicted += len(batch)
        for name, index in self.race.last_failures.items():
            self.race.failed[name]["position"] = batch.position(index)
        result.alarms = list(self.race.last_alarms)

    def _decoded(self, preds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        assert self.race is not None
        if self.race.task == "classification":
            return {k: self.labels.decode(v) for k, v in preds.items()}
        return preds

    def _class_codes(self, values: np.ndarray) -> np.ndarray:
        """Class labels predicted on Spark's executors as the run's codes (none yet: -1)."""
        known = np.array([v is not None for v in values.tolist()], dtype=bool)
        codes = np.full(len(values), -1, dtype=np.int64)
        if known.any():
            codes[known] = self.labels.encode(np.asarray(values[known], dtype=object))
        return codes

    # -- reporting ----------------------------------------------------------------
    def steps_summary(self) -> dict[str, Any]:
        """The state of every step that describes one, by step id (can be large: call at the end)."""
        out = {}
        for step in self.steps:
            described = step.describe()
            if described is not None:
                out[step.step_id] = described
        return out

    def final_summary(self, engine: str, elapsed_s: float, source: dict[str, Any]) -> RunSummary:
        """The metrics-JSON document at the end of a run, the same for every engine."""
        out = self.summary()
        out["engine"] = engine
        out["elapsed_s"] = elapsed_s
        out["records_per_s"] = self.consumed / elapsed_s if elapsed_s > 0 else 0.0
        out["source"] = source
        if self.settled_as is not None:
            out["schema"] = self.settled_as.describe()
            if self.source_format == "arrow":  # the Spark engine moves such rows as JSON
                out["schema"]["format"] = "arrow"
        if isinstance(self.race, PerKeyRace):  # every key's figures: at the end, not per batch
            out["per_key"] = self.race.per_key()
            out["per_key"]["key"] = str(self.pipeline.per_key)
        keyed = self.steps_summary()
        if keyed:
            out["stats"] = keyed
        return out

    def summary(self) -> RunSummary:
        """The run's counters and the race's standings so far."""
        race = self.race
        models = race.metrics() if race is not None else {}
        out: RunSummary = {
            "task": self.pipeline.task,
            "records_consumed": self.consumed,
            "records_predicted": self.predicted,
            "records_filtered": self.filtered,
            "dead_letters": self.dead,
            "cold_start": max((m["cold_start"] for m in models.values()), default=0),
            "batches": self.batches,
            "granularity": self.pipeline.granularity,
            "batch_size": self.pipeline.batch_size,
            "train_budget": self.pipeline.train_budget,
            "models": models,
            "champion": race.champion if race is not None else None,
            "leaderboard": [s.row() for s in race.leaderboard()] if race is not None else [],
            "significance": race.significance() if race is not None else None,
        }
        if race is not None:
            out["labels"] = race.label_counts()
            if self.pipeline.labels:
                out["labels"]["label_records"] = self.label_records
                out["labels"]["malformed_labels"] = self.label_dead
            if self.pipeline.delay_seconds is not None:
                out["labels"]["delay_seconds"] = self.pipeline.delay_seconds
        overflow = self.encoder.overflowed() if self.encoder is not None else {}
        if self.labels.overflowed:
            overflow["(labels)"] = self.labels.overflowed
        if overflow:
            out["category_overflow"] = overflow
        return out

    # -- checkpoints ----------------------------------------------------------------
    def snapshot(self) -> bytes:
        """Everything needed to continue exactly from here, as bytes."""
        settled = self.settled_as
        state = {
            "format": self.format,
            "settled": (settled.format, settled.codec.schema, settled.layout)
            if settled is not None
            else None,
            "encoder": self.encoder,
            "labels": self.labels,
            "race": self.race,
            "steps": [s.snapshot() for s in self.steps],
            "counters": (self.consumed, self.predicted, self.filtered, self.dead, self.batches),
            "labels_read": (self.label_records, self.label_dead),
        }
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    def restore(self, blob: bytes) -> None:
        """Continue from a :meth:`snapshot`."""
        state = pickle.loads(blob)
        self.format = state["format"]
        if state["settled"] is not None:
            format, schema, layout = state["settled"]
            options = (
                {"delimiter": layout.delimiter} if format == "csv" and layout is not None else {}
            )
            self.settled_as = Settled(format, make_codec(format, schema, **options), layout)
            self.codec = self.settled_as.codec
        self.encoder = state["encoder"]
        self.labels = state["labels"]
        self.race = state["race"]
        for step, s in zip(self.steps, state["steps"], strict=True):
            step.restore(s)
        self.consumed, self.predicted, self.filtered, self.dead, self.batches = state["counters"]
        self.label_records, self.label_dead = state.get("labels_read", (0, 0))


def _floats(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)
