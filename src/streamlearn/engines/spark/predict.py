"""Distributed prediction for ``granularity=batch``: models broadcast, ``mapInPandas``.

With batch granularity every record of a micro-batch is predicted by the
models as they stood before the batch, so the executors can predict their
share of the batch with a broadcast copy of the models (and of the feature
encoder). The driver then learns from the whole batch; during that step the
race's learners are wrapped so that ``predict_many`` returns what the
executors computed.

Categories first seen in this batch get codes on the executors that may
differ from the driver's, but they are codes no model has learned from, and
a learner treats such a code as unknown (the contract in
:mod:`streamlearn.learn.features`), so predictions are the same.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark import cloudpickle

from streamlearn.engines.spark.worker import WorkerPlan, raw_from_pandas, row_wise
from streamlearn.process import BatchProcessor
from streamlearn.steps.base import Step

__all__ = ["BatchPredictor"]


def _predict_fn(
    plan: WorkerPlan, broadcast: Any, names: list[str], keyed: bool
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    def predict(chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        encoder, models, task = cloudpickle.loads(broadcast.value)
        kind = "Int64" if task == "classification" else "Float64"
        for pdf in chunks:
            out = pdf.copy()
            cols = {f"_p{j}": pd.array([None] * len(pdf), dtype=kind) for j in range(len(names))}
            mine = pdf[pdf["_kind"] == 0] if keyed else pdf
            try:
                batch = plan.transform(
                    plan.decode(raw_from_pandas(mine, plan.origin, plan.position_kind))
                )
                if len(batch):
                    index = pd.MultiIndex.from_arrays(
                        [pdf["partition"].to_numpy(), pdf["offset"].to_numpy()]
                    )
                    where = index.get_indexer(
                        pd.MultiIndex.from_arrays([batch.partitions, batch.offsets])
                    )
                    X = encoder.transform(batch.columns, len(batch))
                    for j, name in enumerate(names):
                        cols[f"_p{j}"][where] = models[name].predict_many(X)
            except Exception:
                pass  # the driver meets the same error, predicting on its own, and reports it
            for name, col in cols.items():
                out[name] = col
            yield out

    return predict


class _Precomputed:
    """A learner whose ``predict_many`` returns the executors' predictions."""

    def __init__(self, model: Any, preds: np.ndarray) -> None:
        self.__dict__["_model"] = model
        self.__dict__["_preds"] = preds

    @property
    def n_learned(self) -> int:
        return int(self._model.n_learned)

    def predict_many(self, X: np.ndarray) -> np.ndarray:
        if len(self._preds) == len(X):
            return self._preds
        return self._model.predict_many(X)  # type: ignore[no-any-return]  # (rows differ: predict here)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


class BatchPredictor:
    """Runs prediction of a batch-granularity race on the executors."""

    def __init__(
        self, spark: Any, plan: WorkerPlan, processor: BatchProcessor, keyed: bool
    ) -> None:
        self.spark = spark
        self.plan = plan
        self.processor = processor
        self.keyed = keyed
        self._broadcast: Any = None

    @staticmethod
    def applies(processor: BatchProcessor, steps: Sequence[Step]) -> bool:
        """Batch granularity, and ``steps`` give the same rows on part of a batch."""
        return (
            processor.race is not None and processor.race.granularity == "batch" and row_wise(steps)
        )

    def ready(self) -> bool:
        # the first batch sets up features and learners: it is predicted on the driver
        return self.processor.encoder is not None and self.processor.race is not None

    def attach(self, df: Any) -> Any:
        """``df`` with a prediction column per model, computed on the executors."""
        from pyspark.sql.types import DoubleType, LongType, StructField, StructType

        race = self.processor.race
        assert race is not None
        names = list(race.models)
        blob = cloudpickle.dumps((self.processor.encoder, race.models, race.task))
        self.release()
        self._broadcast = self.spark.sparkContext.broadcast(blob)
        kind = LongType() if race.task == "classification" else DoubleType()
        fields = list(df.schema.fields) + [
            StructField(f"_p{j}", kind, True) for j in range(len(names))
        ]
        fn = _predict_fn(self.plan, self._broadcast, names, self.keyed)
        return df.mapInPandas(fn, StructType(fields))

    def predictions(self, table: pa.Table) -> dict[str, np.ndarray]:
        """Each model's predictions for the rows that carry one, in table order."""
        race = self.processor.race
        assert race is not None
        dtype = np.int64 if race.task == "classification" else np.float64
        out = {}
        for j, name in enumerate(race.models):
            col = table.column(f"_p{j}")
            out[name] = col.drop_null().to_numpy(zero_copy_only=False).astype(dtype)
        return out

    @contextlib.contextmanager
    def precomputed(self, preds: dict[str, np.ndarray]) -> Iterator[None]:
        race = self.processor.race
        assert race is not None
        originals = dict(race.models)
        race.models = {n: _Precomputed(m, preds[n]) for n, m in originals.items()}  # type: ignore[misc]
        try:
            yield
        finally:
            race.models = originals

    def release(self) -> None:
        if self._broadcast is not None:
            with contextlib.suppress(Exception):
                self._broadcast.unpersist()
            self._broadcast = None
