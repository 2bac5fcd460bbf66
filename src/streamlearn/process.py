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
from dataclasses import replace
from typing import Any

import numpy as np
import orjson

from streamlearn.codecs import Codec, make_codec, sniff_format
from streamlearn.errors import ConfigError
from streamlearn.evaluate.race import Race
from streamlearn.learn.features import FeatureEncoder, LabelIndex
from streamlearn.learn.registry import build_models
from streamlearn.pipeline import Pipeline
from streamlearn.records.batch import RawBatch, RecordBatch
from streamlearn.records.schema import Schema
from streamlearn.sinks.base import BatchResult
from streamlearn.sources.base import Source
from streamlearn.steps.base import Step
from streamlearn.summary import RunSummary

__all__ = ["BatchProcessor"]


class BatchProcessor:
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
        self.source_schema: Schema | None = pipeline.schema or source.schema
        self.codec: Codec | None = None
        self.encoder: FeatureEncoder | None = None
        self.labels = LabelIndex()
        self.race: Race | None = None
        if pipeline.models:
            assert pipeline.task is not None
            self.race = Race(
                build_models(list(pipeline.models), pipeline.task),
                pipeline.task,
                pipeline.granularity,
                pipeline.train_budget,
                pipeline.window,
            )
        self.consumed = 0
        self.predicted = 0
        self.filtered = 0
        self.dead = 0
        self.batches = 0
        if self.format not in ("json", "auto") or self.source_schema is not None:
            self.codec = self._make_codec(self.source_schema)

    # -- the codec ----------------------------------------------------------------
    @property
    def settled(self) -> bool:
        """Whether the codec is known (format detected, a JSON schema inferred)."""
        return self.codec is not None

    def settle(self, raw: RawBatch) -> None:
        """Decide the format and the codec from ``raw``, if they are still open.

        ``process`` does this with the stream's first batch; an engine that
        needs the codec before (the Spark engine, for its executors) calls it
        with that same first batch.
        """
        if not len(raw):
            return
        if self.format == "auto":
            self.format = sniff_format(raw.payloads)
            if self.format != "json":
                self.codec = self._make_codec(self.source_schema)
        if self.codec is None and self.format == "json":
            self.codec = self._json_codec_from(raw)

    def _make_codec(self, schema: Schema | None) -> Codec:
        p = self.pipeline
        codec = make_codec(self.format, schema)
        roles = codec.schema.with_roles(p.target, p.features, p.categorical, p.key)
        codec.schema = replace(roles, nonfinite=p.nonfinite)
        return codec

    def _json_codec_from(self, raw: RawBatch) -> Codec | None:
        from streamlearn.codecs.json_records import infer_json_schema

        for payload in raw.payloads:
            try:
                obj = orjson.loads(payload)
            except orjson.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                return self._make_codec(infer_json_schema(obj))
        return None

    def _setup_learning(self, schema: Schema) -> None:
        assert self.race is not None
        if schema.target is None:
            raise ConfigError("the task needs a --target column")
        kind = schema.field(schema.target).kind
        if self.race.task == "regression" and kind == "str":
            raise ConfigError(f"target {schema.target!r} holds text; use --task classification")
        self.encoder = FeatureEncoder(schema.numeric_features, schema.categorical)
        if not self.encoder.names:
            raise ConfigError("no features to learn from; give --features")
        self.race.set_features(self.encoder.names, self.encoder.categorical_mask)

    # -- per batch ----------------------------------------------------------------
    def process(self, raw: RawBatch, batch_id: int) -> BatchResult:
        """Decode, transform and race one batch; returns what the sinks receive."""
        self.settle(raw)
        if self.codec is None:  # not one JSON object yet: every payload is a dead letter
            dead = [raw.dead_letter(i, "not a JSON object") for i in range(len(raw))]
            batch = RecordBatch({}, raw.origin, raw.partitions[:0], raw.offsets[:0], batch_id)
        else:
            batch, dead = self.codec.decode(raw)
            batch.batch_id = batch_id
        decoded = len(batch)
        for step in self.steps:
            batch = step.apply(batch)
        result = BatchResult(batch_id, batch, dead, consumed=len(raw))
        if self.race is not None and len(batch):
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
        if self.race.task == "classification":
            y = self.labels.encode(target)
            preds = self.race.step(X, y)
            result.predictions = {k: self.labels.decode(v) for k, v in preds.items()}
        else:
            y = np.asarray(target, dtype=np.float64)
            result.predictions = self.race.step(X, y)
        result.targets = target
        self.predicted += len(batch)

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
        overflow = self.encoder.overflowed() if self.encoder is not None else {}
        if self.labels.overflowed:
            overflow["(labels)"] = self.labels.overflowed
        if overflow:
            out["category_overflow"] = overflow
        return out

    # -- checkpoints ----------------------------------------------------------------
    def snapshot(self) -> bytes:
        """Everything needed to continue exactly from here, as bytes."""
        state = {
            "format": self.format,
            "codec_schema": self.codec.schema if self.codec is not None else None,
            "encoder": self.encoder,
            "labels": self.labels,
            "race": self.race,
            "steps": [s.snapshot() for s in self.steps],
            "counters": (self.consumed, self.predicted, self.filtered, self.dead, self.batches),
        }
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    def restore(self, blob: bytes) -> None:
        """Continue from a :meth:`snapshot`."""
        state = pickle.loads(blob)
        self.format = state["format"]
        if state["codec_schema"] is not None:
            self.codec = make_codec(self.format, state["codec_schema"])
        self.encoder = state["encoder"]
        self.labels = state["labels"]
        self.race = state["race"]
        for step, s in zip(self.steps, state["steps"], strict=True):
            step.restore(s)
        self.consumed, self.predicted, self.filtered, self.dead, self.batches = state["counters"]
