"""Any River estimator as a streamlearn learner.

Rows become River dicts (see :mod:`~streamlearn.learn.online.convert`):
categorical codes as nominal strings for trees and naive Bayes, or one-hot
keys for linear models, whose numeric features are standardised by River's
:class:`~river.preprocessing.StandardScaler` (one-hot keys are left as 0/1).

``test_then_train`` converts the whole batch once, then predicts and learns
record by record: River models learn one record at a time, so this is the
per-record loop, only without the per-call overhead. ``predict_many`` uses
River's pandas mini-batch path where the model has one (``batch_predict``).
``learn_many`` deliberately loops over ``learn_one``: River's mini-batch
``learn_many`` takes one gradient step per batch, which would make learning
depend on how the stream is cut into batches.

Regression trees fit linear models in their leaves; with categorical
columns those leaf models see the numeric features only (a category string
is not a number).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from river import base, linear_model

from streamlearn.learn.base import NO_CLASS, Classifier, Learner, Regressor
from streamlearn.learn.online.convert import RowConverter, converter_for
from streamlearn.learn.online.scale import ScaleNumbers
from streamlearn.learn.online.select import SelectInOrder

__all__ = ["RiverClassifier", "RiverLearner", "RiverRegressor"]


class RiverLearner(Learner):
    """Shared machinery of :class:`RiverRegressor` and :class:`RiverClassifier`.

    Parameters
    ----------
    model
        An unfitted River estimator; it is cloned, never trained itself.
    encoding
        ``"nominal"`` or ``"onehot"`` for categorical columns.
    scale
        Standardise numeric features with River's ``StandardScaler``.
    batch_predict
        Use the model's pandas ``predict_many`` for :meth:`predict_many`.
    """

    holds_gil = True

    def __init__(
        self,
        model: base.Estimator,
        encoding: str = "nominal",
        scale: bool = False,
        batch_predict: bool = False,
    ) -> None:
        super().__init__()
        self._params: dict[str, Any] = {
            "model": model,
            "encoding": encoding,
            "scale": scale,
            "batch_predict": batch_predict,
        }
        self.template = model
        self.encoding, self.scale, self.batch_predict = encoding, bool(scale), bool(batch_predict)
        RowConverter([], [], encoding)  # check the encoding now, not at the first record
        self.converter: RowConverter | None = None
        self.model: Any = None  # built at the first record, when the features are known

    # -- setup ----------------------------------------------------------------
    def _ready(self, d: int) -> RowConverter:
        if self.converter is None:
            self.converter = converter_for(
                self.feature_names, self.categorical_mask, d, self.encoding
            )
            self.model = self._build(self.converter)
        return self.converter

    def _build(self, converter: RowConverter) -> Any:
        model = self.template.clone()
        numeric = converter.numeric_names
        if converter.categorical and "leaf_model" in model._get_params():
            # regression trees fit linear models in their leaves: on the numbers only
            leaf = SelectInOrder(numeric) | linear_model.LinearRegression()
            change = {"leaf_model": leaf} if numeric else {"leaf_prediction": "mean"}
            model = model.clone(change)
        if self.scale and numeric:
            model = ScaleNumbers(numeric) | model
        return model

    # -- conversions -----------------------------------------------------------------
    def _target(self, y: Any) -> Any:
        raise NotImplementedError

    def _output(self, p: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def _matrix(X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        return X.reshape(1, -1) if X.ndim == 1 else X

    # -- the contract ------------------------------------------------------------------
    def predict_one(self, x: np.ndarray) -> Any:
        row = np.asarray(x, dtype=np.float64).reshape(-1)
        d = self._ready(len(row)).to_dict(row.tolist())
        return self._output(self.model.predict_one(d))

    def learn_one(self, x: np.ndarray, y: Any) -> None:
        row = np.asarray(x, dtype=np.float64).reshape(-1)
        d = self._ready(len(row)).to_dict(row.tolist())
        self.model.learn_one(d, self._target(y))
        self.n_learned += 1

    def learn_many(self, X: np.ndarray, y: np.ndarray) -> None:
        X = self._matrix(X)
        if len(X) == 0:
            return
        dicts = self._ready(X.shape[1]).to_dicts(X)
        model, target = self.model, self._target
        for d, yi in zip(dicts, np.asarray(y).tolist(), strict=True):
            model.learn_one(d, target(yi))
        self.n_learned += len(X)

    def predict_many(self, X: np.ndarray) -> np.ndarray:
        X = self._matrix(X)
        out: np.ndarray = np.empty(len(X), dtype=self._prediction_dtype())
        if len(X) == 0:
            return out
        conv = self._ready(X.shape[1])
        if self.batch_predict and self.n_learned and hasattr(self.model, "predict_many"):
            preds = self.model.predict_many(conv.frame(X))
            return np.array([self._output(p) for p in preds.tolist()], dtype=out.dtype)
        for i, d in enumerate(conv.to_dicts(X)):
            out[i] = self._output(self.model.predict_one(d))
        return out

    def test_then_train(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Predict then learn each record in turn: the per-record loop, converted once."""
        X = self._matrix(X)
        out: np.ndarray = np.empty(len(X), dtype=self._prediction_dtype())
        if len(X) == 0:
            return out
        dicts = self._ready(X.shape[1]).to_dicts(X)
        model, target, output = self.model, self._target, self._output
        for i, (d, yi) in enumerate(zip(dicts, np.asarray(y).tolist(), strict=True)):
            out[i] = output(model.predict_one(d))
            model.learn_one(d, target(yi))
            self.n_learned += 1  # per record: a failure is reported at its record
        return out

    def __repr__(self) -> str:
        # River's own repr spans dozens of lines (and a forest prints as a list)
        return (
            f"{type(self).__name__}({type(self.template).__name__}, "
            f"encoding={self.encoding!r}, scale={self.scale})"
        )


class RiverRegressor(RiverLearner, Regressor):
    """A River regressor behind the streamlearn contract (see the module doc)."""

    def _target(self, y: Any) -> float:
        return float(y)

    def _output(self, p: Any) -> float:
        return 0.0 if p is None else float(p)


class RiverClassifier(RiverLearner, Classifier):
    """A River classifier behind the streamlearn contract; labels are int codes.

    A model with no class to predict yet (River returns ``None``) predicts
    :data:`~streamlearn.learn.base.NO_CLASS`.
    """

    def _target(self, y: Any) -> int:
        return int(y)

    def _output(self, p: Any) -> int:
        if p is None or (isinstance(p, float) and p != p):  # None, or NaN from a frame
            return NO_CLASS
        return int(p)
