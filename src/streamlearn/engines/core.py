"""What every engine does with one micro-batch, whoever drives the loop.

:class:`BatchProcessor` decodes a raw batch, applies the steps, races the
learners prequentially and keeps the run's counters. The local engine calls
it in its loop; the Spark engine calls it from ``foreachBatch``. Its state is
one picklable object, saved whole in checkpoints.
"""

from __future__ import annotations

import pickle
from dataclasses import replace
from typing import Any

import numpy as np
import orjson

from streamlearn.errors import ConfigError
from streamlearn.evaluate.race import Race
from streamlearn.learn.base import Learner
from streamlearn.learn.features import FeatureEncoder, LabelIndex
from streamlearn.learn.specs import build_learner, expand_presets, parse_spec
from streamlearn.pipeline import Pipeline
from streamlearn.records import make_codec
from streamlearn.records.batch import RawBatch, RecordBatch
from streamlearn.records.codec import Codec
from streamlearn.records.schema import Schema
from streamlearn.sinks.base import BatchResult
from streamlearn.sources.base import Source

__all__ = ["BatchProcessor", "build_models", "sniff_format"]


def sniff_format(payloads: list[bytes]) -> str:
    """Guess a topic's format from its first payloads: literal list, JSON or CSV."""
    for p in payloads[:100]:
        head = p.lstrip()[:1]
        if head == b"[":
            return "literal"
        if head == b"{":
            return "json"
        if head:
            return "csv"
    return "literal"


def build_models(specs: list[str | Learner], task: str) -> dict[str, Learner]:
    """Learners by display name; repeated names get ``#2``, ``#3``..."""
    models: dict[str, Learner] = {}
    texts: list[str | Learner] = []
    for s in specs:
        texts.extend(expand_presets([s]) if isinstance(s, str) else [s])
    for s in texts:
        if isinstance(s, str):
            spec = parse_spec(s)
            learner, name = build_learner(spec, task), spec.name
        else:
            learner, name = s, type(s).__name__
        unique, i = name, 2
        while unique in models:
            unique, i = f"{name}#{i}", i + 1
        models[unique] = learner
    return models


class BatchProcessor:
    """Runs the engine-independent part of a pipeline, one batch at a time."""

    def __init__(self, pipeline: Pipeline, source: Source) -> None:
        self.pipeline = pipeline
        self.format = pipeline.format or source.default_format
        self.source_schema: Schema | None = pipeline.schema or getattr(source, "schema", None)
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

    # -- set-up -----------------------------------------------------------------
    def _with_roles(self, schema: Schema) -> Schema:
        p = self.pipeline
        schema = schema.with_roles(p.target, p.features, p.categorical, p.key)
        return replace(schema, nonfinite=p.nonfinite)

    def _make_codec(self, schema: Schema | None) -> Codec:
        codec = make_codec(self.format, schema)
        codec.schema = self._with_roles(codec.schema)
        return codec

    def _json_codec_from(self, raw: RawBatch) -> Codec | None:
        from streamlearn.records.jsoncodec import infer_json_schema

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
        if self.format == "auto" and len(raw):
            self.format = sniff_format(raw.payloads)
            if self.format != "json":
                self.codec = self._make_codec(self.source_schema)
        if self.codec is None and self.format == "json":
            self.codec = self._json_codec_from(raw)
        if self.codec is None:  # not one JSON object yet: every payload is a dead letter
            dead = [raw.dead_letter(i, "not a JSON object") for i in range(len(raw))]
            batch = RecordBatch({}, raw.origin, raw.partitions[:0], raw.offsets[:0], batch_id)
        else:
            batch, dead = self.codec.decode(raw)
            batch.batch_id = batch_id
        decoded = len(batch)
        for step in self.pipeline.steps:
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

    # -- reporting --------------------------------------------------------------------
    def keyed_summary(self) -> dict[str, Any]:
        """Per-key state of every keyed step (can be large: call at the end)."""
        return {s.name: s.summary() for s in self.pipeline.steps if hasattr(s, "summary")}

    def final_summary(self, engine: str, elapsed_s: float, source: dict[str, Any]) -> dict[str, Any]:
        """The metrics-JSON document at the end of a run, the same for every engine."""
        out = self.summary()
        out.update(
            engine=engine,
            elapsed_s=elapsed_s,
            records_per_s=self.consumed / elapsed_s if elapsed_s > 0 else 0.0,
            source=source,
        )
        keyed = self.keyed_summary()
        if keyed:
            out["stats"] = keyed
        return out

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "task": self.pipeline.task,
            "records_consumed": self.consumed,
            "records_predicted": self.predicted,
            "records_filtered": self.filtered,
            "dead_letters": self.dead,
            "batches": self.batches,
            "granularity": self.pipeline.granularity,
            "batch_size": self.pipeline.batch_size,
            "train_budget": self.pipeline.train_budget,
        }
        if self.race is not None:
            models = self.race.metrics()
            out["models"] = models
            out["cold_start"] = max((m["cold_start"] for m in models.values()), default=0)
            out["champion"] = self.race.champion
            out["leaderboard"] = [s.__dict__ for s in self.race.leaderboard()]
            out["significance"] = self.race.significance()
        else:
            out.update(models={}, cold_start=0, champion=None, leaderboard=[], significance=None)
        return out

    # -- checkpoints --------------------------------------------------------------------
    def snapshot(self) -> bytes:
        state = {
            "format": self.format,
            "codec_schema": self.codec.schema if self.codec is not None else None,
            "encoder": self.encoder,
            "labels": self.labels,
            "race": self.race,
            "steps": [s.snapshot() for s in self.pipeline.steps],
            "counters": (self.consumed, self.predicted, self.filtered, self.dead, self.batches),
        }
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    def restore(self, blob: bytes) -> None:
        state = pickle.loads(blob)
        self.format = state["format"]
        if state["codec_schema"] is not None:
            self.codec = make_codec(self.format, state["codec_schema"])
        self.encoder = state["encoder"]
        self.labels = state["labels"]
        self.race = state["race"]
        for step, s in zip(self.pipeline.steps, state["steps"], strict=True):
            step.restore(s)
        self.consumed, self.predicted, self.filtered, self.dead, self.batches = state["counters"]
