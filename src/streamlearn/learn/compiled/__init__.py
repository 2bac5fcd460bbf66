"""Compiled online learners: numba loops equal to their per-record paths, fixed memory.

Loaded on first use (they compile with numba).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from streamlearn._lazy import exports

if TYPE_CHECKING:
    from streamlearn.learn.compiled.bayes import MixedNaiveBayes
    from streamlearn.learn.compiled.knn import KNNClassifier, KNNRegressor
    from streamlearn.learn.compiled.linear import (
        PAClassifier,
        PARegressor,
        SGDRegressor,
        SoftmaxRegression,
    )
    from streamlearn.learn.compiled.rff import RFFRegressor

__all__ = [
    "KNNClassifier",
    "KNNRegressor",
    "MixedNaiveBayes",
    "PAClassifier",
    "PARegressor",
    "RFFRegressor",
    "SGDRegressor",
    "SoftmaxRegression",
]

__getattr__, __dir__ = exports(
    __name__,
    {
        "KNNClassifier": "knn",
        "KNNRegressor": "knn",
        "MixedNaiveBayes": "bayes",
        "PAClassifier": "linear",
        "PARegressor": "linear",
        "RFFRegressor": "rff",
        "SGDRegressor": "linear",
        "SoftmaxRegression": "linear",
    },
    __all__,
)
