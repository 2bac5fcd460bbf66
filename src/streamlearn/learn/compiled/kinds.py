"""Factories of the compiled kinds that serve both tasks, as registered (``pa``, ``knn``)."""

from __future__ import annotations

from streamlearn.learn.base import Learner
from streamlearn.learn.compiled.knn import KNNClassifier, KNNRegressor
from streamlearn.learn.compiled.linear import PAClassifier, PARegressor, PAVariant

__all__ = ["knn", "pa"]


def pa(
    task: str = "classification",
    C: float = 0.1,
    variant: PAVariant = "pa1",
    eps: float = 0.05,
    table: int = 1024,
) -> Learner:
    """Passive-aggressive: multiclass for classification, eps-insensitive for regression."""
    if task == "classification":
        return PAClassifier(C=C, variant=variant, table=table)
    return PARegressor(C=C, eps=eps, variant=variant, table=table)


def knn(task: str = "classification", k: int = 5, window: int = 200) -> Learner:
    """k nearest neighbours among the last ``window`` records."""
    if task == "classification":
        return KNNClassifier(k=k, window=window)
    return KNNRegressor(k=k, window=window)
