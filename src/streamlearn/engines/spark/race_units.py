"""A race's models as units of state on Spark's executors (``--workers N`` on Spark).

With ``--workers`` above 1 on the Spark engine, each model of a plain race
is one group of ``applyInPandasWithState``, keyed by the model's name, as
the course lab keys its races by model name: every record goes to every
model's group (the stage after the pipeline's steps; see :mod:`.keyed`),
and the executor that holds a model loads it from Spark's state store,
runs its share of the race on the micro-batch in stream order, stores it
again and reports each call made on the model: what it predicted, how
many records it had learned after, and any error. So the models learn on
the executors at the same time, and their state is in Spark's checkpoint.

On the driver each model is a :class:`UnitModel`: the race runs there as
on the local engine (scoring, champion, drift, failures), and the unit
model answers each call with what its executor recorded for that call.
The driver and the executor run the same race code over the same records,
so the calls match one for one and the results are the local engine's.

Each unit keeps its own feature encoder and class codes; it sees every
record in order, so its codes are the run's (class codes are mapped to the
driver's all the same, see :meth:`UnitModel.load`).
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from pyspark import cloudpickle

from streamlearn.engines.spark.blocks import from_key_blocks
from streamlearn.engines.spark.keyed import (
    ERROR,
    REPORT,
    error_info,
    note_row,
)
from streamlearn.engines.spark.worker import WorkerPlan
from streamlearn.evaluate.race import Race
from streamlearn.learn.base import Classifier, Learner, Regressor
from streamlearn.learn.features import FeatureEncoder, LabelIndex
from streamlearn.learn.remote import RemoteError
from streamlearn.records.batch import RecordBatch
from streamlearn.records.labels import has_label
from streamlearn.steps.base import user_traceback

__all__ = [
    "Call",
    "Unit",
    "UnitModel",
    "UnitReport",
    "UnitTemplate",
    "as_units",
    "spread_keys",
]

CallKind = Literal["test_then_train", "predict_many", "learn_many"]


@dataclass
class Call:
    """One call the race made on a model, as the executor saw it."""

    kind: CallKind
    rows: int
    n_learned: int
    preds: np.ndarray | None = None
    members: dict[str, np.ndarray] | None = None
    #: the model's error and traceback, as the local engine words them
    error: tuple[str, str] | None = None


@dataclass
class UnitReport:
    """One model's share of a micro-batch, from its executor to the driver."""

    name: str
    calls: list[Call]
    #: the unit's class labels in code order (classification)
    classes: list[Any]
    diagnostics: dict[str, int]


class _Recorder:
    """Wraps a model on the executor and notes every call the race makes on it."""

    def __init__(self, model: Learner) -> None:
        self.model = model
        self.calls: list[Call] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def _call(self, kind: CallKind, X: np.ndarray, y: np.ndarray | None) -> Any:
        try:
            out = None
            if kind == "learn_many":
                self.model.learn_many(X, y)  # type: ignore[arg-type]
            elif kind == "test_then_train":
                out = self.model.test_then_train(X, y)  # type: ignore[arg-type]
            else:
                out = self.model.predict_many(X)
        except Exception as exc:
            error = (f"{type(exc).__name__}: {exc}".rstrip(": "), user_traceback(exc))
            self.calls.append(Call(kind, len(X), self.model.n_learned, error=error))
            raise
        members = getattr(self.model, "member_predictions", None)
        preds = None if out is None else np.asarray(out)
        self.calls.append(
            Call(kind, len(X), self.model.n_learned, preds, dict(members) if members else None)
        )
        return out

    def test_then_train(self, X: np.ndarray, y: np.ndarray) -> Any:
        return self._call("test_then_train", X, y)

    def predict_many(self, X: np.ndarray) -> Any:
        return self._call("predict_many", X, None)

    def learn_many(self, X: np.ndarray, y: np.ndarray) -> None:
        self._call("learn_many", X, y)


@dataclass
class Unit:
    """One model's state in Spark's store: its one-model race, encoder and class codes."""

    race: Race
    encoder: FeatureEncoder
    labels: LabelIndex = field(default_factory=LabelIndex)


@dataclass
class UnitTemplate:
    """What an executor needs to start and run a model's unit."""

    #: the keyed stage that stands for the race (after the pipeline's steps)
    stage: int
    target: str
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    models: dict[str, Learner]
    #: the race's settings: task, granularity, train_budget, window
    settings: dict[str, Any]
    #: each model's group key (see :func:`spread_keys`) to its name
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return list(self.models)

    @property
    def group_keys(self) -> list[str]:
        return list(self.keys) or self.names

    def fresh(self, name: str) -> Unit:
        # a copy of the fresh model itself, so its seeds are the local engine's
        race = Race({name: copy.deepcopy(self.models[name])}, **self.settings)
        encoder = FeatureEncoder(self.numeric, self.categorical)
        race.set_features(encoder.names, encoder.categorical_mask)
        return Unit(race, encoder)

    def run(self, unit: Unit, name: str, batch: RecordBatch) -> UnitReport:
        """The model's share of the race over the batch (in stream order), as recorded."""
        n = len(batch)
        X = unit.encoder.transform(batch.columns, n)
        target = batch.column(self.target)
        race = unit.race
        if race.task == "classification":
            labelled = has_label(target)
            y = np.full(n, -1, dtype=np.int64)
            y[labelled] = unit.labels.encode(target[labelled])
        else:
            y = np.asarray(target, dtype=np.float64)
            labelled = ~np.isnan(y)
        model = race.models[name]
        recorder = _Recorder(model)
        race.models[name] = recorder  # type: ignore[assignment]
        try:
            race.step(X, y, None if labelled.all() else labelled)
        finally:
            race.models[name] = model
        return UnitReport(name, recorder.calls, list(unit.labels.values), model.diagnostics())

    def update(
        self, plan: WorkerPlan, key_text: str, chunks: Iterator[pd.DataFrame], state: Any
    ) -> Iterator[pd.DataFrame]:
        """The ``applyInPandasWithState`` work of one model's group. No timeout is set: a
        model's state is never dropped, however long no record reaches the race."""
        pdf = pd.concat(list(chunks), ignore_index=True).sort_values(
            ["partition", "offset"], kind="stable"
        )
        first = (int(pdf["partition"].iloc[0]), int(pdf["offset"].iloc[0]))
        name = self.keys.get(key_text, key_text)
        unit = cloudpickle.loads(state.get[0]) if state.exists else self.fresh(name)
        try:
            report = self.run(unit, name, from_key_blocks(plan, pdf["_blob"].tolist()))
        except Exception as exc:
            yield note_row(ERROR, self.stage, key_text, *first, cloudpickle.dumps(error_info(exc)))
            return
        state.update((cloudpickle.dumps(unit),))
        yield note_row(REPORT, self.stage, key_text, *first, cloudpickle.dumps(report))


class UnitModel(Learner):
    """A model whose state lives in a unit on Spark's executors, seen from the driver.

    The race calls it as it would call the model; each call is answered
    with what the executor recorded for the same call (:meth:`load`).
    """

    def __init__(self, name: str, member_names: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.name = name
        self.member_names = member_names
        self.member_predictions: dict[str, np.ndarray] = {}
        self._diagnostics: dict[str, int] = {}
        self._calls: deque[Call] = deque()

    def load(self, report: UnitReport, labels: LabelIndex | None) -> None:
        """This batch's calls; class codes mapped to the driver's ``labels``."""
        self._diagnostics = report.diagnostics
        table = None
        if labels is not None and report.classes:
            table = labels.encode(np.asarray(report.classes, dtype=object))
        for call in report.calls:
            if table is not None:
                call.preds = _recode(call.preds, table)
                if call.members:
                    call.members = {k: _recode(v, table) for k, v in call.members.items()}  # type: ignore[misc]
        self._calls = deque(report.calls)

    def _next(self, kind: CallKind, rows: int) -> Call:
        if not self._calls or (self._calls[0].kind, self._calls[0].rows) != (kind, rows):
            raise RuntimeError(
                f"model {self.name!r} on Spark's executors is out of step with the driver"
            )
        call = self._calls.popleft()
        self.n_learned = call.n_learned
        if call.members is not None:
            self.member_predictions = call.members
        if call.error is not None:
            raise RemoteError(*call.error)
        return call

    def test_then_train(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        preds = self._next("test_then_train", len(X)).preds
        assert preds is not None
        return preds

    def predict_many(self, X: np.ndarray) -> np.ndarray:
        preds = self._next("predict_many", len(X)).preds
        assert preds is not None
        return preds

    def learn_many(self, X: np.ndarray, y: np.ndarray) -> None:
        self._next("learn_many", len(X))

    def learn_one(self, x: np.ndarray, y: Any) -> None:
        self.learn_many(x[None, :], np.asarray([y]))

    def predict_one(self, x: np.ndarray) -> Any:
        return self.predict_many(x[None, :])[0]

    def diagnostics(self) -> dict[str, int]:
        return dict(self._diagnostics)


class _UnitRegressor(UnitModel, Regressor):
    pass


class _UnitClassifier(UnitModel, Classifier):
    pass


def _recode(codes: np.ndarray | None, table: np.ndarray) -> np.ndarray | None:
    """The unit's class codes as the driver's (``-1``, no class yet, stays)."""
    if codes is None:
        return None
    out = np.asarray(codes, dtype=np.int64).copy()
    known = (out >= 0) & (out < len(table))
    out[known] = table[out[known]]
    return out


def as_units(race: Race) -> None:
    """Stand unit models in for the race's models on the driver (once; a restored race has them)."""
    kind = _UnitClassifier if race.task == "classification" else _UnitRegressor
    race.models = {
        name: m if isinstance(m, UnitModel) else kind(name, tuple(getattr(m, "member_names", ())))
        for name, m in race.models.items()
    }
    race.workers = 1  # the executors run the models at once; the driver only replays them


def spread_keys(spark: Any, stage: int, names: list[str], partitions: int) -> dict[str, str]:
    """Group keys that give each model a shuffle partition of its own (round robin past
    ``partitions``), so that Spark's tasks train them at once.

    Spark places a group in partition ``pmod(hash(_step, _key), partitions)``
    (Murmur3, as SQL's ``hash``); a model's key is its name, a tab and the
    first number that lands it where it should go. Keys are kept in the
    checkpoint: the state is stored under them.
    """
    from pyspark.sql import functions as F

    tries = 256
    candidates = [(stage, f"{name}\t{j}") for name in names for j in range(tries)]
    where = {
        row["_key"]: int(row["p"])
        for row in spark.createDataFrame(candidates, "_step int, _key string")
        .select("_key", F.expr(f"pmod(hash(_step, _key), {int(partitions)})").alias("p"))
        .collect()
    }
    keys = {}
    for i, name in enumerate(names):
        fits = [f"{name}\t{j}" for j in range(tries) if where[f"{name}\t{j}"] == i % partitions]
        keys[fits[0] if fits else f"{name}\t0"] = name
    return keys
