"""Fitting and predicting small windows with scikit-learn: one thread, exact linear scores."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
from sklearn.pipeline import Pipeline
from threadpoolctl import ThreadpoolController

__all__ = ["linear_scores", "one_thread"]

try:  # the estimators whose predict is exactly the linear score (or its argmax / sign)
    from sklearn.linear_model._base import LinearClassifierMixin, LinearModel

    _LINEAR: tuple[type, ...] = (LinearModel, LinearClassifierMixin)
except ImportError:  # private in scikit-learn: fall back to the two we build
    from sklearn.linear_model import LinearRegression, LogisticRegression

    _LINEAR = (LinearRegression, LogisticRegression)

_CONTROLLER: ThreadpoolController | None = None


def one_thread() -> Any:
    """Run BLAS and OpenMP on one thread: on a few dozen rows threads only cost.

    (HistGradientBoosting fits a 50-row window 30x faster on one thread on a
    busy machine.) The controller is made once: discovering the libraries
    takes milliseconds, switching the limit microseconds.
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1)


def linear_scores(model: Any, X: np.ndarray) -> np.ndarray | None:
    """``X @ coef.T + intercept`` of a fitted linear model, row by row; else ``None``.

    BLAS rounds a matrix product differently for one row and for many, so
    ``predict`` on a batch can differ in the last bit from ``predict`` on each
    row. Summing the columns in a fixed order gives every row the same result
    whatever the batch, which keeps ``test_then_train`` equal to the loop.
    """
    last = model[-1] if isinstance(model, Pipeline) else model
    if not isinstance(last, _LINEAR):  # e.g. a GLM's predict is not its linear score
        return None
    final = cast(Any, last)
    Z = model[:-1].transform(X) if isinstance(model, Pipeline) else X
    Z = np.asarray(Z.toarray() if hasattr(Z, "toarray") else Z, dtype=np.float64)
    coef = np.atleast_2d(np.asarray(final.coef_, dtype=np.float64))
    out: np.ndarray = np.zeros((len(Z), len(coef)))
    for j in range(Z.shape[1]):
        out += Z[:, j : j + 1] * coef[:, j]
    return out + np.asarray(final.intercept_, dtype=np.float64)
