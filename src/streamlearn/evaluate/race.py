"""A race: several learners evaluated prequentially on the same records.

Every record is predicted by every learner before that learner learns from
it. With ``granularity="record"`` a record is predicted with everything
before it; with ``"batch"`` the whole batch is predicted by the model as it
stood before the batch, then learned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from streamlearn.errors import ConfigError
from streamlearn.evaluate.metrics import ModelScore
from streamlearn.evaluate.significance import diebold_mariano, mcnemar
from streamlearn.learn.base import Learner
from streamlearn.summary import ModelMetrics, Significance
from streamlearn.summary import Standing as StandingRow
from streamlearn.types import GRANULARITIES, Granularity, Task

__all__ = ["GRANULARITIES", "Race", "Standing"]


@dataclass(frozen=True)
class Standing:
    rank: int
    name: str
    cumulative: float
    windowed: float
    predicted: int

    def row(self) -> StandingRow:
        """The leaderboard row of the metrics JSON."""
        return {
            "rank": self.rank,
            "name": self.name,
            "cumulative": self.cumulative,
            "windowed": self.windowed,
            "predicted": self.predicted,
        }


class Race:
    """Learners raced under prequential evaluation.

    Parameters
    ----------
    models
        Name to learner; names are shown in leaderboards and metrics.
    task
        ``"classification"`` or ``"regression"``.
    granularity
        ``"record"`` (default) or ``"batch"``.
    train_budget
        Learn from at most this many records, then only predict. ``None``
        means no budget.
    window
        Records in the windowed metric that picks the champion.
    """

    def __init__(
        self,
        models: dict[str, Learner],
        task: Task,
        granularity: Granularity = "record",
        train_budget: int | None = None,
        window: int = 1000,
        fading: float = 0.999,
    ) -> None:
        if not models:
            raise ConfigError("a race needs at least one model")
        if granularity not in GRANULARITIES:
            raise ConfigError(f"granularity must be one of {', '.join(GRANULARITIES)}")
        if train_budget is not None and train_budget < 0:
            raise ConfigError("train budget must be >= 0")
        for name, model in models.items():
            if model.task != task:
                raise ConfigError(f"model {name!r} is a {model.task} model, the task is {task}")
        self.models = models
        self.task = task
        self.granularity = granularity
        self.train_budget = train_budget
        self.scores = {name: ModelScore(task, window, fading) for name in models}
        self.batches = 0

    def set_features(self, names: tuple[str, ...], categorical: np.ndarray) -> None:
        for model in self.models.values():
            model.set_features(names, categorical)

    def _learnable(self, model: Learner, n: int) -> int:
        if self.train_budget is None:
            return n
        return max(0, min(n, self.train_budget - model.n_learned))

    def step(self, X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        """Predict then learn one batch with every model; returns predictions by name."""
        n = len(y)
        out: dict[str, np.ndarray] = {}
        for name, model in self.models.items():
            k = self._learnable(model, n)
            was_cold = model.n_learned == 0
            if self.granularity == "record":
                head = model.test_then_train(X[:k], y[:k]) if k else np.empty(0)
                tail = model.predict_many(X[k:]) if k < n else np.empty(0)
                preds = np.concatenate((head, tail)) if k < n else head
                cold = (1 if k else n) if was_cold else 0
            else:
                preds = model.predict_many(X)
                if k:
                    model.learn_many(X[:k], y[:k])
                cold = n if was_cold else 0
            preds = np.asarray(preds, dtype=model._prediction_dtype())
            self.scores[name].update(preds, y, cold)
            out[name] = preds
        self.batches += 1
        return out

    # -- standings ------------------------------------------------------------
    def leaderboard(self) -> list[Standing]:
        """Models ranked by windowed metric (ties by cumulative, then name)."""
        sign = -1.0 if self.task == "classification" else 1.0

        def key(item: tuple[str, ModelScore]) -> tuple[float, float, str]:
            name, s = item
            w, c = s.windowed, s.cumulative
            return (
                sign * w if not math.isnan(w) else math.inf,
                sign * c if not math.isnan(c) else math.inf,
                name,
            )

        ranked = sorted(self.scores.items(), key=key)
        return [
            Standing(i + 1, name, s.cumulative, s.windowed, s.predicted)
            for i, (name, s) in enumerate(ranked)
        ]

    @property
    def champion(self) -> str | None:
        board = self.leaderboard()
        return board[0].name if board and board[0].predicted else None

    def significance(self) -> Significance | None:
        """Paired test of champion against runner-up over the shared window."""
        board = self.leaderboard()
        if len(board) < 2 or not board[0].predicted:
            return None
        a, b = self.scores[board[0].name], self.scores[board[1].name]
        la, lb = a.window.values(), b.window.values()
        if self.task == "classification":
            test, p = "mcnemar", mcnemar(la, lb)
        else:
            test, p = "diebold-mariano", diebold_mariano(la, lb)
        return {
            "test": test,
            "champion": board[0].name,
            "runner_up": board[1].name,
            "p_value": p,
            "window": len(la),
        }

    def metrics(self) -> dict[str, ModelMetrics]:
        out = {}
        for name, score in self.scores.items():
            out[name] = score.to_dict()
            found = self.models[name].diagnostics()
            if found:
                out[name]["diagnostics"] = found
        return out
