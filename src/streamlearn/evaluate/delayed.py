"""Prequential evaluation under label delay: predict on arrival, learn and score when the label comes.

With ``delay=N`` (records), the label of record ``i`` arrives right after
record ``i + N`` has been predicted. So every record is predicted by models
that have learned the records up to ``i - N - 1``; when its label arrives the
models learn from it, and the prediction made *at arrival* is scored. With
``N = 0`` this is plain prequential evaluation (and :class:`Race` is used).

Records whose label has not arrived wait in a pending store of at most ``N``
records, part of the race's state, so checkpoints hold them and a resumed
run equals an uninterrupted one. At the end of a bounded stream the last
``N`` records are still pending: predicted, never scored nor learned.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from streamlearn.errors import ConfigError
from streamlearn.evaluate.race import Race
from streamlearn.learn.base import Learner
from streamlearn.summary import LabelCounts

__all__ = ["DeferredRace", "DelayedRace", "Pending"]


class Pending:
    """One record waiting for its label: features, label, and each model's prediction."""

    __slots__ = ("cold", "predictions", "ts", "x", "y")

    def __init__(self, x: np.ndarray, y: Any, ts: int = 0) -> None:
        self.x = x
        self.y = y
        self.ts = ts
        self.predictions: dict[str, Any] = {}
        # models that had learned nothing yet: rarely any, so no set per record
        self.cold: frozenset[str] = frozenset()


class DeferredRace(Race):
    """A :class:`Race` that predicts records on arrival and learns and scores them later.

    The part :class:`DelayedRace` and :class:`~streamlearn.evaluate.joined.JoinedRace`
    share: every model runs its per-record ``predict_one`` and ``learn_one``,
    so the granularity must be ``record``.
    """

    def __init__(self, models: dict[str, Learner], *args: Any, **kwargs: Any) -> None:
        super().__init__(models, *args, **kwargs)
        if self.granularity != "record":
            raise ConfigError("delayed labels need --granularity record (each record on its own)")
        self.labelled = 0
        self.max_pending = 0
        self._stepping: dict[str, Learner] = {}

    def _predict(self, x: np.ndarray, i: int, out: dict[str, np.ndarray]) -> Pending:
        """Every running model's prediction of record ``i`` of the batch, kept for scoring."""
        item = Pending(x, None)
        for name, model in self._stepping.items():
            if name in self.failed:
                continue
            try:
                if model.n_learned == 0:
                    item.cold |= {name}
                members = getattr(model, "predict_members", None)
                if members is None:
                    item.predictions[name] = out[name][i] = model.predict_one(x)
                    continue
                # a portfolio: each member's prediction at arrival is scored too
                own, by_member = members(x)
                item.predictions[name] = out[name][i] = own
                for member, pred in by_member.items():
                    item.predictions[f"{name}/{member}"] = pred
                    if model.n_learned == 0:
                        item.cold |= {f"{name}/{member}"}
            except Exception as exc:
                self._fail(name, exc, i)
        return item

    def _learn_all(self, item: Pending, i: int) -> None:
        """Every running model learns the record whose label came."""
        for name, model in self._stepping.items():
            if name in self.failed:
                continue
            try:
                if self.train_budget is None or model.n_learned < self.train_budget:
                    model.learn_one(item.x, item.y)
            except Exception as exc:
                self._fail(name, exc, i)

    def _outputs(self, n: int) -> dict[str, np.ndarray]:
        """Room for a batch's predictions; the models that run it, looked up once per batch."""
        self._stepping = self.running
        return {
            name: np.empty(n, dtype=m._prediction_dtype()) for name, m in self._stepping.items()
        }

    def _score_released(self, released: list[Pending]) -> None:
        """Score the predictions made at arrival of the records whose labels came, in that order."""
        if not released:
            return
        ys = np.array([r.y for r in released])
        first = self.labelled + 1
        for name in self.scores:  # models, and members of portfolios (auto/logreg...)
            if self.member_of.get(name, name) in self.failed:
                continue
            preds = np.array([r.predictions[name] for r in released])
            cold = sum(name in r.cold for r in released)
            losses = self.scores[name].update(preds, ys, cold)
            for record in self.drift[name].update(losses, first):
                self.last_alarms.append((name, record))
        self.labelled += len(released)


class DelayedRace(DeferredRace):
    """A :class:`Race` whose labels arrive ``delay`` records after their features.

    Parameters are those of :class:`Race`, plus ``delay`` (records, >= 1).
    Every model runs its per-record ``predict_one`` and ``learn_one``; the
    granularity must be ``record``.
    """

    def __init__(self, models: dict[str, Learner], *args: Any, delay: int, **kwargs: Any) -> None:
        super().__init__(models, *args, **kwargs)
        if delay < 1:
            raise ConfigError(f"delay must be at least 1 record here, got {delay}")
        self.delay = int(delay)
        self.pending: deque[Pending] = deque()

    def step(
        self, X: np.ndarray, y: np.ndarray, labelled: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """Predict each record of the batch on arrival; learn and score those whose label came.

        A record without a label (``labelled`` false) is predicted only: it never waits.
        """
        n = len(y)
        self.last_failures, self.last_alarms = {}, []
        out = self._outputs(n)
        released: list[Pending] = []
        for i in range(n):
            item = self._predict(X[i], i, out)
            item.y = y[i]
            if labelled is not None and not labelled[i]:
                self.unlabelled += 1
                continue  # served: nothing will come to learn from
            self.pending.append(item)
            if len(self.pending) > self.delay:
                old = self.pending.popleft()
                self._learn_all(old, i)
                released.append(old)
            self.max_pending = max(self.max_pending, len(self.pending))
        self._score_released(released)
        self.batches += 1
        self.records += n
        return {k: v for k, v in out.items() if k not in self.failed}

    def label_counts(self) -> LabelCounts:
        """Records labelled (learned and scored) and still pending, for the metrics."""
        return {
            "delay": self.delay,
            "labelled": self.labelled,
            "pending": len(self.pending),
            "unlabeled_expired": 0,
            "max_pending": self.max_pending,
            "unlabelled": self.unlabelled,
        }
