"""Window models: a scikit-learn estimator refit on the most recent records.

The refit schedule counts learned records, never calls, so results do not
depend on how the stream is cut into batches:

* the window holds the last ``size`` learned records (a ring buffer);
* after every ``refit`` learned records (default ``size * every``: every 50
  records, i.e. each time the window has been completely renewed) the
  estimator is refit from scratch on the window (``train="all"``, oldest
  record first) or on its newest half (``train="newest-half"``, newest
  first, as the course lab's window keeps its newest record on top);
* ``start="mean"`` (default): until the first fit, predictions are the
  running mean of the targets (regression; 0.0 before any) or the majority
  class so far (classification; ``-1`` before any, ties keep the class that
  got there first). ``start="zeros"`` (regression): the window starts full of
  zero records and the estimator is fitted on it at once, as the lab's.

The course lab refits for every micro-batch on the newest half of a window of
the 50 latest records that starts as zeros; ``refit=1, train="newest-half",
start="zeros"`` does that for every record.

Between refits the model is frozen, so :meth:`test_then_train` predicts each
run of records up to the next refit point with one vectorised ``predict``
call and is record-level prequential: record ``i`` is predicted by a model
fitted only on records before ``i``, exactly as the loop of
:meth:`~WindowModel.predict_one` / :meth:`~WindowModel.learn_one` does.

Why records and not calls: how many records a call (a micro-batch) holds
depends on Kafka and on timing, so refitting per call would make results
depend on timing and break restarts. To refit every *k* records on the last
*k*, use ``size=k``; to refit less often than the window turns over, raise
``every``.

Linear models predict row by row in a fixed summation order (BLAS would
round a batch differently from a single row), so batch and per-record
predictions agree bit for bit. For other estimators this holds when their
``predict`` treats rows independently, as scikit-learn's trees and ensembles
do. Fits and predictions run on one thread: on a few dozen rows, threads
only cost.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from streamlearn.learn.base import NO_CLASS, Classifier, Learner, Regressor
from streamlearn.learn.ring import RingBuffer
from streamlearn.learn.window_fit import linear_scores as _linear_scores
from streamlearn.learn.window_fit import one_thread as _one_thread

__all__ = [
    "WindowClassifier",
    "WindowModel",
    "WindowRegressor",
    "WindowStart",
    "WindowTrain",
]

#: what a refit trains on: the whole window, or its newest half (newest first)
WindowTrain = Literal["all", "newest-half"]
#: what the window holds before the first record: nothing, or zero records
WindowStart = Literal["mean", "zeros"]


class WindowModel(Learner):
    """Shared machinery of :class:`WindowRegressor` and :class:`WindowClassifier`.

    Parameters
    ----------
    estimator
        An unfitted scikit-learn estimator; it is cloned at every refit and
        never fitted itself.
    size
        Records in the window.
    every
        Refit after every ``every`` windows' worth of new records, i.e. every
        ``size * every`` learned records.
    one_hot
        Give the estimator one-hot categorical columns (unknown categories
        become all zeros) and standardised numeric columns. For linear
        models; trees take the ordinal codes as they are.
    refit
        Refit after every ``refit`` learned records (any value >= 1);
        default ``size * every``.
    train
        ``"all"``: fit on the window, oldest first; ``"newest-half"``: on
        its newest ``size // 2`` records, newest first.
    start
        ``"mean"``: predict the running mean (or majority) until the first
        fit; ``"zeros"``: the window starts as ``size`` zero records, fitted
        at once (regression only).
    """

    holds_gil = True

    def __init__(
        self,
        estimator: BaseEstimator,
        size: int = 50,
        every: int = 1,
        one_hot: bool = False,
        refit: int | None = None,
        train: WindowTrain = "all",
        start: WindowStart = "mean",
    ) -> None:
        if size < 1 or every < 1:
            raise ValueError(f"size and every must be >= 1, got size={size}, every={every}")
        if refit is not None and refit < 1:
            raise ValueError(f"refit must be >= 1 record, got {refit}")
        if train not in ("all", "newest-half"):
            raise ValueError(f"train must be 'all' or 'newest-half', got {train!r}")
        if start not in ("mean", "zeros"):
            raise ValueError(f"start must be 'mean' or 'zeros', got {start!r}")
        super().__init__()
        self._params: dict[str, Any] = {
            "estimator": estimator,
            "size": size,
            "every": every,
            "one_hot": one_hot,
            "refit": refit,
            "train": train,
            "start": start,
        }
        self.estimator = estimator
        self.size, self.every, self.one_hot = int(size), int(every), bool(one_hot)
        self.period = int(refit) if refit is not None else self.size * self.every
        self.train: WindowTrain = train
        self.start: WindowStart = start
        self._started = start == "mean"  # zeros: the window is filled on the first record
        self.window = RingBuffer(self.size, self._prediction_dtype())
        self.fitted: Any = None  # the fitted estimator, or a constant class
        self.n_fits_ = 0
        self.n_failed_fits_ = 0  # fits refused by the estimator (e.g. NaN input)

    # -- cold start (before the first fit) -------------------------------------
    def _cold_predict(self) -> Any:
        raise NotImplementedError

    def _cold_learn(self, y: Any) -> None:
        raise NotImplementedError

    # -- fitting ------------------------------------------------------------------
    def _make_estimator(self, n_features: int) -> BaseEstimator:
        est = clone(self.estimator)
        if not self.one_hot:
            return est
        cat = self.categorical_mask if len(self.categorical_mask) == n_features else None
        cat_cols = [] if cat is None else list(np.flatnonzero(cat))
        num_cols = [j for j in range(n_features) if j not in set(cat_cols)]
        prep = ColumnTransformer(
            [
                ("num", StandardScaler(), num_cols),
                ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cat_cols),
            ]
        )
        return make_pipeline(prep, est)

    def _start(self, d: int) -> None:
        """``start="zeros"``: a window of ``size`` zero records, fitted before anything else."""
        if self._started:
            return
        self._started = True
        self.window.push(np.zeros((self.size, d)), np.zeros(self.size, self._prediction_dtype()))
        self._fit_window()

    def _fit_window(self, X: np.ndarray | None = None, y: np.ndarray | None = None) -> None:
        if X is None or y is None:
            X, y = self.window.ordered()
        if self.train == "newest-half":
            half = max(1, self.size // 2)
            X, y = X[::-1][:half], y[::-1][:half]
        model = self._make_estimator(X.shape[1])
        try:
            with warnings.catch_warnings(), _one_thread():
                warnings.simplefilter("ignore", ConvergenceWarning)
                self.fitted = self._fit(model, X, y)
            self.n_fits_ += 1
        except ValueError:
            # e.g. NaN in the window: keep the previous model rather than stop the run
            self.n_failed_fits_ += 1

    def _fit(self, model: BaseEstimator, X: np.ndarray, y: np.ndarray) -> Any:
        return model.fit(X, y)

    def _predict_fitted(self, X: np.ndarray) -> np.ndarray:
        scores = _linear_scores(self.fitted, X)
        if scores is None:
            return np.asarray(self.fitted.predict(X), dtype=np.float64)
        return scores[:, 0]

    # -- absorbing records -----------------------------------------------------------
    def _absorb(self, X: np.ndarray, y: np.ndarray, fit: bool = True) -> None:
        """Add records that end at or before the next refit point; refit if reached."""
        self._start(X.shape[1])
        self.window.push(X, y)
        if self.fitted is None:
            for v in y:
                self._cold_learn(v)
        self.n_learned += len(X)
        if fit and self.n_learned % self.period == 0:
            self._fit_window()

    def _to_boundary(self) -> int:
        return self.period - self.n_learned % self.period

    @staticmethod
    def _matrix(X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        return X.reshape(1, -1) if X.ndim == 1 else X

    # -- the contract --------------------------------------------------------------------
    def diagnostics(self) -> dict[str, int]:
        """Window refits, and refits the estimator refused (a ``ValueError``, e.g. one class only)."""
        return {"fits": self.n_fits_, "failed_fits": self.n_failed_fits_}

    def learn_one(self, x: np.ndarray, y: Any) -> None:
        self._absorb(self._matrix(x), np.asarray([y], dtype=self._prediction_dtype()))

    def predict_one(self, x: np.ndarray) -> Any:
        self._start(self._matrix(x).shape[1])
        if self.fitted is None:
            return self._cold_predict()
        with _one_thread():
            return self._predict_fitted(self._matrix(x))[0]

    def predict_many(self, X: np.ndarray) -> np.ndarray:
        X = self._matrix(X)
        if len(X):
            self._start(X.shape[1])
        if self.fitted is None or len(X) == 0:
            return np.full(len(X), self._cold_predict(), dtype=self._prediction_dtype())
        with _one_thread():
            return self._predict_fitted(X)

    def learn_many(self, X: np.ndarray, y: np.ndarray) -> None:
        """Learn a batch; only the last refit point it crosses is fitted.

        Models at earlier refit points would never predict anything, so
        skipping them changes nothing (unless the last fit fails).
        """
        X, y = self._matrix(X), np.asarray(y, dtype=self._prediction_dtype())
        if len(X):
            self._start(X.shape[1])
        before_X, before_y = self.window.ordered()
        n, crossed = len(X), False
        i = 0
        while i < n:
            j = min(n, i + self._to_boundary())
            self._absorb(X[i:j], y[i:j], fit=False)
            crossed = crossed or self.n_learned % self.period == 0
            i = j
        if not crossed:
            return
        extra = self.n_learned % self.period
        if extra == 0:
            self._fit_window()
            return
        # the window as it stood at the last refit point: `size` records before the last `extra`
        if len(before_X):
            X, y = np.concatenate((before_X, X)), np.concatenate((before_y, y))
        stop = len(X) - extra
        self._fit_window(X[max(0, stop - self.size) : stop], y[max(0, stop - self.size) : stop])

    def test_then_train(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Record-level prequential; equal to the per-record loop (see module doc)."""
        X, y = self._matrix(X), np.asarray(y, dtype=self._prediction_dtype())
        if len(X):
            self._start(X.shape[1])
        out: np.ndarray = np.empty(len(X), dtype=self._prediction_dtype())
        i = 0
        while i < len(X):
            j = min(len(X), i + self._to_boundary())
            if self.fitted is None:  # cold: the prediction moves with every record
                for k in range(i, j):
                    out[k] = self._cold_predict()
                    self._absorb(X[k : k + 1], y[k : k + 1])
            else:  # frozen until the refit point at j
                with _one_thread():
                    out[i:j] = self._predict_fitted(X[i:j])
                self._absorb(X[i:j], y[i:j])
            i = j
        return out


class WindowRegressor(WindowModel, Regressor):
    """A scikit-learn regressor refit on a sliding window (see the module doc).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.arange(12.0).reshape(-1, 1)
    >>> m = WindowRegressor(LinearRegression(), size=4)
    >>> m.test_then_train(X, 2 * X[:, 0]).round(6).tolist()
    [0.0, 0.0, 1.0, 2.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0, 22.0]
    """

    def __init__(
        self,
        estimator: BaseEstimator,
        size: int = 50,
        every: int = 1,
        one_hot: bool = False,
        refit: int | None = None,
        train: WindowTrain = "all",
        start: WindowStart = "mean",
    ) -> None:
        super().__init__(estimator, size, every, one_hot, refit, train, start)
        self.total = 0.0

    def _cold_predict(self) -> float:
        return self.total / self.n_learned if self.n_learned else 0.0

    def _cold_learn(self, y: Any) -> None:
        self.total += float(y)


class WindowClassifier(WindowModel, Classifier):
    """A scikit-learn classifier refit on a sliding window (see the module doc).

    A window holding a single class predicts that class without fitting
    (most estimators refuse one class).
    """

    def __init__(
        self,
        estimator: BaseEstimator,
        size: int = 50,
        every: int = 1,
        one_hot: bool = False,
        refit: int | None = None,
        train: WindowTrain = "all",
        start: WindowStart = "mean",
    ) -> None:
        if start != "mean":
            raise ValueError(
                "start='zeros' is for regression; a classifier starts from the majority"
            )
        super().__init__(estimator, size, every, one_hot, refit, train, start)
        self.counts: dict[int, int] = {}
        self.best = NO_CLASS

    def _cold_predict(self) -> int:
        return self.best

    def _cold_learn(self, y: Any) -> None:
        c = int(y)
        self.counts[c] = self.counts.get(c, 0) + 1
        if self.best < 0 or self.counts[c] > self.counts[self.best]:
            self.best = c

    def _fit(self, model: BaseEstimator, X: np.ndarray, y: np.ndarray) -> Any:
        classes = np.unique(y)
        return int(classes[0]) if len(classes) == 1 else model.fit(X, y)

    def _predict_fitted(self, X: np.ndarray) -> np.ndarray:
        if isinstance(self.fitted, int):
            return np.full(len(X), self.fitted, dtype=np.int64)
        scores = _linear_scores(self.fitted, X)
        if scores is None:
            return np.asarray(self.fitted.predict(X), dtype=np.int64)
        classes = np.asarray(self.fitted.classes_, dtype=np.int64)
        if scores.shape[1] == 1:  # binary: one score, positive means classes_[1]
            return np.where(scores[:, 0] > 0, classes[-1], classes[0])
        return classes[np.argmax(scores, axis=1)]  # the first maximum, as sklearn
