"""Prequential evaluation: per-model metrics, races with a leaderboard, paired tests."""

from __future__ import annotations

from streamlearn.evaluate.metrics import ModelScore
from streamlearn.evaluate.race import GRANULARITIES, Race, Standing
from streamlearn.evaluate.significance import diebold_mariano, mcnemar

__all__ = [
    "GRANULARITIES",
    "ModelScore",
    "Race",
    "Standing",
    "diebold_mariano",
    "mcnemar",
]
