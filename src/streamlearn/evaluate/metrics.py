"""Prequential metrics per model: cumulative, over a sliding window, and faded.

Every metric is a mean of per-record losses (0/1 errors for classification,
squared and absolute errors for regression), so the three views share one
implementation. Losses are kept for the last ``window`` records only, so
memory is bounded whatever the length of the stream.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from streamlearn.stats.window import Window
from streamlearn.summary import ModelMetrics
from streamlearn.types import Task

__all__ = ["ModelScore"]


class ModelScore:
    """Prequential scores of one model.

    Parameters
    ----------
    task
        ``"classification"`` or ``"regression"``.
    window
        Records in the sliding window.
    fading
        Fading factor alpha in (0, 1]: the faded metric weighs a record that
        is k records old by alpha**k.
    """

    def __init__(self, task: Task, window: int = 1000, fading: float = 0.999) -> None:
        self.task = task
        self.predicted = 0
        self.cold_start = 0
        self.correct = 0
        self.sq_err = 0.0
        self.abs_err = 0.0
        self.fading = fading
        self.faded_loss = 0.0
        self.faded_weight = 0.0
        self.window = Window(window)
        self.last_batch: dict[str, float] = {}

    def losses(self, predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """The loss the leaderboard ranks by: 0/1 error or squared error."""
        if self.task == "classification":
            return (predictions != targets).astype(np.float64)
        diff = np.asarray(predictions, dtype=np.float64) - np.asarray(targets, dtype=np.float64)
        return diff * diff

    def update(self, predictions: np.ndarray, targets: np.ndarray, cold: int = 0) -> np.ndarray:
        """Add one batch of predictions; returns the per-record losses."""
        n = len(targets)
        losses = self.losses(predictions, targets)
        self.predicted += n
        self.cold_start += cold
        if self.task == "classification":
            batch_correct = int(n - losses.sum())
            self.correct += batch_correct
            self.last_batch = {"predicted": n, "correct": batch_correct}
        else:
            abs_err = np.abs(np.asarray(predictions, dtype=np.float64) - targets)
            self.sq_err += float(losses.sum())
            self.abs_err += float(abs_err.sum())
            self.last_batch = {
                "predicted": n,
                "mse": float(losses.mean()) if n else float("nan"),
                "mae": float(abs_err.mean()) if n else float("nan"),
            }
        if n:
            weights = self._weights(n)
            decay = self.fading**n
            self.faded_loss = self.faded_loss * decay + float(weights @ losses)
            self.faded_weight = self.faded_weight * decay + float(weights.sum())
        self.window.push(losses)
        return losses

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_cached_weights", None)  # a cache: not part of a checkpoint
        return state

    def _weights(self, n: int) -> np.ndarray:
        # batches mostly share one size: keep the last weights (pow is slow)
        cached = getattr(self, "_cached_weights", None)
        if cached is None or len(cached) != n:
            cached = self.fading ** np.arange(n - 1, -1, -1, dtype=np.float64)
            self._cached_weights = cached
        return cached

    # -- views --------------------------------------------------------------
    @property
    def cumulative(self) -> float:
        """Accuracy (classification) or MSE (regression) over every record."""
        if not self.predicted:
            return float("nan")
        if self.task == "classification":
            return self.correct / self.predicted
        return self.sq_err / self.predicted

    @property
    def windowed(self) -> float:
        loss = self.window.mean()
        return 1.0 - loss if self.task == "classification" else loss

    @property
    def faded(self) -> float:
        if not self.faded_weight:
            return float("nan")
        loss = self.faded_loss / self.faded_weight
        return 1.0 - loss if self.task == "classification" else loss

    @property
    def higher_is_better(self) -> bool:
        return self.task == "classification"

    def to_dict(self) -> ModelMetrics:
        out: ModelMetrics = {"predicted": self.predicted, "cold_start": self.cold_start}
        if self.task == "classification":
            out["accuracy"] = self.cumulative
            out["correct"] = self.correct
            out["correct_in_batch"] = int(self.last_batch.get("correct", 0))
            out["windowed_accuracy"] = self.windowed
            out["faded_accuracy"] = self.faded
        else:
            out["mse"] = self.cumulative
            out["mae"] = self.abs_err / self.predicted if self.predicted else float("nan")
            out["windowed_mse"] = self.windowed
            out["faded_mse"] = self.faded
        return out
