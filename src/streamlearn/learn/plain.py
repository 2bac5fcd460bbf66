"""A plain Python object with ``predict_one``/``learn_one`` as a streamlearn learner.

The object is called as River calls its models: ``predict_one(x)`` and
``learn_one(x, y)`` with ``x`` a dict of feature name to value (categories as
strings). An object with only ``predict_many``/``learn_many`` gets NumPy
arrays, one row per record. Classifiers see labels as ``int`` codes; a
prediction that is not one (``None`` before anything is learned) counts as no
class. The object is deep-copied: the one you passed is never trained.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from streamlearn.learn.base import NO_CLASS, Classifier, Learner, Regressor
from streamlearn.learn.online.convert import RowConverter, converter_for
from streamlearn.types import Task

__all__ = ["PlainClassifier", "PlainLearner", "PlainRegressor"]


class PlainLearner(Learner):
    """Shared machinery of :class:`PlainRegressor` and :class:`PlainClassifier`."""

    holds_gil = True

    def __new__(cls, model: object = None, task: Task = "regression") -> PlainLearner:
        if cls is PlainLearner:  # PlainLearner(obj, task) picks the class of the task
            cls = PlainClassifier if task == "classification" else PlainRegressor
        return super().__new__(cls)

    def __init__(self, model: object, task: Task = "regression") -> None:
        super().__init__()
        self._params: dict[str, Any] = {"model": model, "task": task}
        self.template = model
        self.model: Any = copy.deepcopy(model)
        self.per_record = callable(getattr(model, "predict_one", None)) and callable(
            getattr(model, "learn_one", None)
        )
        self.converter: RowConverter | None = None

    def _dicts(self, X: np.ndarray) -> list[dict[Any, Any]]:
        if self.converter is None:
            self.converter = converter_for(
                self.feature_names, self.categorical_mask, X.shape[1], "nominal"
            )
        return self.converter.to_dicts(X)

    def _output(self, p: Any) -> Any:
        raise NotImplementedError

    def _target(self, y: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def _matrix(X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        return X.reshape(1, -1) if X.ndim == 1 else X

    # -- the contract -----------------------------------------------------------
    def predict_one(self, x: Any) -> Any:
        return self.predict_many(self._matrix(x))[0]

    def learn_one(self, x: Any, y: Any) -> None:
        self.learn_many(self._matrix(x), np.asarray([y]))

    def predict_many(self, X: Any) -> np.ndarray:
        X = self._matrix(X)
        out: np.ndarray = np.empty(len(X), dtype=self._prediction_dtype())
        if len(X) == 0:
            return out
        if not self.per_record:
            preds = np.asarray(self.model.predict_many(X)).reshape(-1)
            return np.array([self._output(p) for p in preds.tolist()], dtype=out.dtype)
        for i, d in enumerate(self._dicts(X)):
            out[i] = self._output(self.model.predict_one(d))
        return out

    def learn_many(self, X: Any, y: Any) -> None:
        X = self._matrix(X)
        targets = [self._target(v) for v in np.asarray(y).reshape(-1).tolist()]
        if len(X) == 0:
            return
        if not self.per_record:
            self.model.learn_many(X, np.asarray(targets))
        else:
            for d, t in zip(self._dicts(X), targets, strict=True):
                self.model.learn_one(d, t)
        self.n_learned += len(X)

    def test_then_train(self, X: Any, y: Any) -> np.ndarray:
        X = self._matrix(X)
        yy = np.asarray(y).reshape(-1)
        out: np.ndarray = np.empty(len(X), dtype=self._prediction_dtype())
        if not self.per_record:  # only batch methods: predict then learn one record at a time
            for i in range(len(X)):
                out[i] = self.predict_many(X[i : i + 1])[0]
                self.learn_many(X[i : i + 1], yy[i : i + 1])
            return out
        model, output, target = self.model, self._output, self._target
        for i, (d, t) in enumerate(zip(self._dicts(X), yy.tolist(), strict=True)):
            out[i] = output(model.predict_one(d))
            model.learn_one(d, target(t))
            self.n_learned += 1  # per record: a failure is reported at its record
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.template).__name__})"


class PlainRegressor(PlainLearner, Regressor):
    """A plain object that predicts numbers."""

    def _output(self, p: Any) -> float:
        return float("nan") if p is None else float(p)

    def _target(self, y: Any) -> float:
        return float(y)


class PlainClassifier(PlainLearner, Classifier):
    """A plain object that predicts class codes."""

    def _output(self, p: Any) -> int:
        if isinstance(p, bool) or not isinstance(p, int | np.integer | float):
            return NO_CLASS
        return int(p) if float(p).is_integer() else NO_CLASS

    def _target(self, y: Any) -> int:
        return int(y)
