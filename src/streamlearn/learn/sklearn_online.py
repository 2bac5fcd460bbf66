"""A scikit-learn estimator with ``partial_fit`` as a streamlearn learner.

* ``test_then_train`` (``granularity="record"``) predicts each record, then
  calls ``partial_fit`` on that one record: exactly the per-record loop a
  user would write.
* ``learn_many`` (``granularity="batch"``) calls ``partial_fit`` once on the
  batch.

Classifiers must be told every class on their first ``partial_fit``. Labels
reach learners as codes 0, 1, 2... in order of first appearance, so
``classes=N`` declares the first N labels of the stream (default 32). A
record whose label is beyond them is predicted but not learned, and counted
in the ``labels_skipped`` diagnostic. Before its first fit the estimator
predicts the mean of the targets seen (regression) or no class.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone

from streamlearn.learn.base import NO_CLASS, Classifier, Learner, Regressor

__all__ = ["DEFAULT_CLASSES", "PartialFitClassifier", "PartialFitLearner", "PartialFitRegressor"]

#: class codes declared to a classifier that was not told its classes
DEFAULT_CLASSES = 32


class PartialFitLearner(Learner):
    """Shared machinery; the estimator is cloned, never trained itself."""

    holds_gil = True

    def __init__(self, estimator: BaseEstimator) -> None:
        super().__init__()
        self._params: dict[str, Any] = {"estimator": estimator}
        self.estimator = estimator
        self.model: Any = clone(estimator)
        self.fitted = False

    @staticmethod
    def _matrix(X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        return X.reshape(1, -1) if X.ndim == 1 else X

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter on one record
            self.model.partial_fit(X, y, **self._fit_kwargs())
        self.fitted = True

    def _fit_kwargs(self) -> dict[str, Any]:
        return {}

    def _cold(self) -> Any:
        raise NotImplementedError

    def _predict(self, X: np.ndarray) -> np.ndarray:
        if not self.fitted:
            return np.full(len(X), self._cold(), dtype=self._prediction_dtype())
        return np.asarray(self.model.predict(X), dtype=self._prediction_dtype())

    def _learnable(self, y: np.ndarray) -> np.ndarray:
        return np.ones(len(y), dtype=bool)

    def _note(self, y: np.ndarray) -> None:
        """Remember what the cold prediction needs."""

    # -- the contract ----------------------------------------------------------------
    def predict_one(self, x: Any) -> Any:
        return self._predict(self._matrix(x))[0]

    def predict_many(self, X: Any) -> np.ndarray:
        X = self._matrix(X)
        if len(X) == 0:
            return np.empty(0, dtype=self._prediction_dtype())
        return self._predict(X)

    def learn_one(self, x: Any, y: Any) -> None:
        self.learn_many(self._matrix(x), np.asarray([y]))

    def learn_many(self, X: Any, y: Any) -> None:
        X = self._matrix(X)
        y = np.asarray(y, dtype=self._prediction_dtype()).reshape(-1)
        self.n_learned += len(X)
        self._note(y)
        keep = self._learnable(y)
        if keep.any():
            self._fit(X[keep], y[keep])

    def test_then_train(self, X: Any, y: Any) -> np.ndarray:
        """Predict each record, then ``partial_fit`` on it alone: the per-record loop."""
        X = self._matrix(X)
        y = np.asarray(y, dtype=self._prediction_dtype()).reshape(-1)
        out: np.ndarray = np.empty(len(X), dtype=self._prediction_dtype())
        for i in range(len(X)):
            out[i] = self._predict(X[i : i + 1])[0]
            self.learn_many(X[i : i + 1], y[i : i + 1])
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({' '.join(repr(self.estimator).split())})"


class PartialFitRegressor(PartialFitLearner, Regressor):
    """A scikit-learn regressor with ``partial_fit`` (see the module doc)."""

    def __init__(self, estimator: BaseEstimator) -> None:
        super().__init__(estimator)
        self.total = 0.0

    def _cold(self) -> float:
        return self.total / self.n_learned if self.n_learned else 0.0

    def _note(self, y: np.ndarray) -> None:
        if not self.fitted:
            self.total += float(y.sum())


class PartialFitClassifier(PartialFitLearner, Classifier):
    """A scikit-learn classifier with ``partial_fit`` (see the module doc).

    Parameters
    ----------
    estimator
        E.g. ``SGDClassifier(loss="log_loss")``, ``MultinomialNB()``.
    classes
        The class codes, or their number (codes ``0 .. classes - 1``).
    """

    def __init__(
        self, estimator: BaseEstimator, classes: int | Sequence[int] | None = None
    ) -> None:
        super().__init__(estimator)
        self._params["classes"] = classes
        if classes is None:
            classes = DEFAULT_CLASSES
        codes = np.arange(classes) if isinstance(classes, int) else np.asarray(classes)
        if codes.size == 0 or codes.ndim != 1:
            raise ValueError(
                f"classes must be a positive number or a list of codes, not {classes!r}"
            )
        self.classes = np.asarray(codes, dtype=np.int64)
        self.n_skipped_ = 0

    def _fit_kwargs(self) -> dict[str, Any]:
        return {} if self.fitted else {"classes": self.classes}

    def _cold(self) -> int:
        return NO_CLASS

    def _learnable(self, y: np.ndarray) -> np.ndarray:
        keep = np.isin(y, self.classes)
        self.n_skipped_ += int((~keep).sum())
        return keep

    def diagnostics(self) -> dict[str, int]:
        """Records whose label was beyond the declared classes (predicted, not learned)."""
        return {"labels_skipped": self.n_skipped_} if self.n_skipped_ else {}
