"""Per-key races on Spark's executors (``--per-key``): each key's models in the state store.

With ``--per-key COL`` and numeric features, every key's race is one group
of ``applyInPandasWithState`` (the stage after the pipeline's steps; see
:mod:`.keyed`). The executor that holds a key loads its
:class:`~streamlearn.evaluate.key_race.KeyRace` from Spark's state store,
races the key's records of the micro-batch in stream order, stores the race
again and reports one row: each record's predictions (class labels as text),
the cold starts, the key's figures and any model failure. Keys are learned
on the executors in parallel; the driver only scores the predictions
overall, in stream order, as the local engine does
(:meth:`~streamlearn.evaluate.per_key.PerKeyRace.absorb`).

Each key codes its categorical features its own way (as its classes), so a
key's race needs nothing from other keys on either engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pyspark import cloudpickle

from streamlearn.engines.spark.keyed import ERROR, EVICTED, REPORT, KeyedRow, rebuild_error
from streamlearn.evaluate.key_race import KeyRace
from streamlearn.learn.base import Learner
from streamlearn.learn.features import FeatureEncoder
from streamlearn.records.batch import RecordBatch
from streamlearn.records.labels import has_label

__all__ = ["KeyReport", "RaceTemplate", "key_reports"]


@dataclass
class RaceTemplate:
    """What an executor needs to start and run a key's race."""

    #: the keyed stage that stands for the race (after the pipeline's steps)
    stage: int
    column: str
    target: str
    task: str
    features: tuple[str, ...]
    models: dict[str, Learner]
    settings: tuple[tuple[Any, ...], dict[str, Any]]
    categorical: tuple[str, ...] = ()

    def fresh(self) -> KeyRace:
        args, kwargs = self.settings
        race = KeyRace({n: m.clone() for n, m in self.models.items()}, *args, **kwargs)
        encoder = FeatureEncoder(self.features, self.categorical)
        race.set_features(encoder.names, encoder.categorical_mask)
        return race

    def keys_of(self, batch: RecordBatch) -> list[Any]:
        return list(batch.column(self.column).tolist())

    def run(self, race: KeyRace, batch: RecordBatch) -> KeyReport:
        """Race the key's records of a batch (in stream order); what the driver needs back."""
        n = len(batch)
        X = race.own_codes(
            FeatureEncoder(self.features, self.categorical).transform(batch.columns, n),
            {c: batch.column(c) for c in self.categorical},
        )
        target = batch.column(self.target)
        if self.task == "classification":
            labelled = has_label(target)
            y = np.asarray(target, dtype=object)
        else:
            y = np.asarray(target, dtype=np.float64)
            labelled = ~np.isnan(y)
        mask = None if labelled.all() else labelled
        names = list(race.running)
        before = {name: race.scores[name].cold_start for name in names}
        preds = race.step_values(X, y, mask, missing=None)
        metric = "accuracy" if self.task == "classification" else "mse"
        failed = {
            name: (dict(race.failed[name]), index) for name, index in race.last_failures.items()
        }
        return KeyReport(
            batch.partitions,
            batch.offsets,
            preds,
            {name: race.scores[name].cold_start - before[name] for name in names},
            {
                name: {"predicted": s.predicted, metric: s.to_dict().get(metric)}
                for name, s in race.scores.items()
                if name in race.models
            },
            failed,
        )


@dataclass
class KeyReport:
    """One key's share of a micro-batch, from its executor to the driver."""

    partitions: np.ndarray
    offsets: np.ndarray
    #: each model's predictions of the key's records (class labels, or numbers)
    predictions: dict[str, np.ndarray]
    cold: dict[str, int]
    #: the key's own figures, for ``per_key`` in the metrics
    figures: dict[str, dict[str, Any]]
    #: models that failed in this batch: (failure, index of the record in the key's rows)
    failed: dict[str, tuple[dict[str, Any], int]]
    key: str = ""
    #: the key's group in Spark's state store (the key's ``repr``)
    group: str = ""


def key_reports(rows: list[KeyedRow], batch_id: int) -> tuple[list[Any], list[str]]:
    """The executors' race reports (a key's, or a model's: :mod:`.race_units`), in order of
    each group's first record, and the keys their state store evicted; a failure there is
    raised as the local engine would."""
    rows = sorted(rows, key=lambda r: (r.partition, r.offset))
    failed = [r for r in rows if r.kind == ERROR]
    if failed:
        raise rebuild_error(cloudpickle.loads(failed[0].blob), batch_id)
    reports = [cloudpickle.loads(r.blob) for r in rows if r.kind == REPORT]
    evicted = [r.blob.decode() for r in rows if r.kind == EVICTED]
    return reports, evicted
