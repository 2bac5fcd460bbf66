"""A race: several learners evaluated prequentially on the same records.

Every record is predicted by every learner before that learner learns from
it. With ``granularity="record"`` a record is predicted with everything
before it; with ``"batch"`` the whole batch is predicted by the model as it
stood before the batch, then learned.
"""

from __future__ import annotations

import itertools
import logging
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from streamlearn.errors import ConfigError, StreamlearnError
from streamlearn.evaluate.alarms import DriftLog
from streamlearn.evaluate.metrics import ModelScore
from streamlearn.evaluate.significance import diebold_mariano, mcnemar
from streamlearn.learn.base import Learner
from streamlearn.steps.base import user_traceback
from streamlearn.summary import LabelCounts, ModelFailure, ModelMetrics, Significance
from streamlearn.summary import Standing as StandingRow
from streamlearn.types import GRANULARITIES, Granularity, Task

__all__ = ["GRANULARITIES", "ModelFailedError", "Race", "Standing"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Standing:
    rank: int
    name: str
    cumulative: float
    windowed: float
    predicted: int
    failed: bool = False
    member_of: str | None = None

    def row(self) -> StandingRow:
        """The leaderboard row of the metrics JSON."""
        row: StandingRow = {
            "rank": self.rank,
            "name": self.name,
            "cumulative": self.cumulative,
            "windowed": self.windowed,
            "predicted": self.predicted,
        }
        if self.failed:
            row["failed"] = True
        if self.member_of is not None:
            row["member_of"] = self.member_of
        return row


class ModelFailedError(StreamlearnError):
    """A learner raised and ``fail_fast`` asked to stop the run (exit code 4)."""

    exit_code = 4


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
    fail_fast
        Stop the run when a learner raises (:class:`ModelFailedError`).
        Otherwise the learner is marked failed where it raised, stops
        predicting, and the others race on (``--fail-fast``).
    workers
        Models stepped at once, on threads (``--workers``). Each model only
        touches its own state, so results equal the sequential run; the
        speed-up comes from learners that release the GIL (scikit-learn's
        fits, NumPy), not from pure-Python ones such as River's.
    """

    #: records predicted without a label (served)
    unlabelled: int = 0

    def __init__(
        self,
        models: dict[str, Learner],
        task: Task,
        granularity: Granularity = "record",
        train_budget: int | None = None,
        window: int = 1000,
        fading: float = 0.999,
        fail_fast: bool = False,
        workers: int = 1,
    ) -> None:
        if not models:
            raise ConfigError("a race needs at least one model")
        if granularity not in GRANULARITIES:
            raise ConfigError(f"granularity must be one of {', '.join(GRANULARITIES)}")
        if train_budget is not None and train_budget < 0:
            raise ConfigError("train budget must be >= 0")
        if workers < 1:
            raise ConfigError(f"--workers must be at least 1, not {workers}")
        self.workers = int(workers)
        self._pool: ThreadPoolExecutor | None = None
        self._spread = False  # learners that keep the GIL moved to processes
        for name, model in models.items():
            if model.task != task:
                raise ConfigError(f"model {name!r} is a {model.task} model, the task is {task}")
        self.models = models
        self.task = task
        self.granularity = granularity
        self.train_budget = train_budget
        self.scores = {name: ModelScore(task, window, fading) for name in models}
        #: members of a portfolio (``auto``) are scored too, as ``auto/logreg``...
        self.member_of: dict[str, str] = {}
        for name, model in models.items():
            for member in getattr(model, "member_names", ()):
                self.member_of[f"{name}/{member}"] = name
                self.scores[f"{name}/{member}"] = ModelScore(task, window, fading)
        self.drift = {name: DriftLog(task) for name in self.scores}
        #: drift alarms of the latest batch: (model, record number)
        self.last_alarms: list[tuple[str, int]] = []
        self.batches = 0
        self.records = 0  # records stepped so far
        self.fail_fast = fail_fast
        self.failed: dict[str, ModelFailure] = {}
        #: models that failed in the latest batch, with the record's index in it
        self.last_failures: dict[str, int] = {}

    @property
    def running(self) -> dict[str, Learner]:
        """The models that have not failed."""
        return {k: m for k, m in self.models.items() if k not in self.failed}

    def set_features(self, names: tuple[str, ...], categorical: np.ndarray) -> None:
        for model in self.models.values():
            model.set_features(names, categorical)

    def _learnable(self, model: Learner, n: int) -> int:
        if self.train_budget is None:
            return n
        return max(0, min(n, self.train_budget - model.n_learned))

    def step(
        self, X: np.ndarray, y: np.ndarray, labelled: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """Predict then learn one batch with every model; returns predictions by name.

        ``labelled`` marks the records that have a label; the others are only
        predicted (served), never learned nor scored.
        """
        if labelled is not None and not labelled.all():
            return self._step_served(X, y, labelled)
        if self.workers > 1 and not self._spread:
            self._spread_out()
        n = len(y)
        out: dict[str, np.ndarray] = {}
        self.last_failures = {}
        self.last_alarms = []
        running = self.running
        learned = {name: model.n_learned for name, model in running.items()}
        for name, done in self._step_all(running, X, y):
            if isinstance(done, Exception):  # one learner's bug must not cost the others' results
                model = running[name]
                self._fail(name, done, min(max(model.n_learned - learned[name], 0), n - 1))
                continue
            preds, cold = done
            model = running[name]
            self._score(name, preds, y, cold)
            out[name] = preds
            for member, member_preds in getattr(model, "member_predictions", {}).items():
                self._score(f"{name}/{member}", member_preds, y, cold)
        self.batches += 1
        self.records += n
        return out

    def _step_served(
        self, X: np.ndarray, y: np.ndarray, labelled: np.ndarray
    ) -> dict[str, np.ndarray]:
        """A batch with unlabelled records: runs of labelled ones race, the others are predicted."""
        n = len(y)
        self.unlabelled += n - int(labelled.sum())
        out: dict[str, np.ndarray] = {
            name: np.empty(n, dtype=m._prediction_dtype()) for name, m in self.running.items()
        }
        cuts = np.flatnonzero(np.diff(labelled.astype(np.int8))) + 1
        bounds = [0, *cuts.tolist(), n]
        records, batches, alarms, failures = self.records, self.batches, [], {}
        for a, b in itertools.pairwise(bounds):
            if labelled[a]:
                part = self.step(X[a:b], y[a:b])
                self.batches = batches  # one batch, however many runs it holds
                alarms.extend(self.last_alarms)
                failures.update({k: a + i for k, i in self.last_failures.items()})
                for name, preds in part.items():
                    out[name][a:b] = preds
            else:
                for name, model in self.running.items():
                    try:
                        out[name][a:b] = model.predict_many(X[a:b])
                    except Exception as exc:
                        self._fail(name, exc, 0)  # self.records is where this run starts
                        failures[name] = a
                self.records += b - a
        self.last_alarms, self.last_failures = alarms, failures
        self.records = records + n
        self.batches = batches + 1
        return {k: v for k, v in out.items() if k not in self.failed}

    def _step_all(
        self, running: dict[str, Learner], X: np.ndarray, y: np.ndarray
    ) -> list[tuple[str, tuple[np.ndarray, int] | Exception]]:
        """Every running model's step, in model order; on threads with ``workers > 1``."""

        def one(model: Learner) -> tuple[np.ndarray, int] | Exception:
            try:
                return self._step_one(model, X, y)
            except Exception as exc:
                return exc

        if self.workers == 1 or len(running) < 2:
            return [(name, one(model)) for name, model in running.items()]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="race")
        futures = {name: self._pool.submit(one, model) for name, model in running.items()}
        return [(name, f.result()) for name, f in futures.items()]

    def _spread_out(self) -> None:
        """With ``workers > 1``: learners that keep the GIL move to processes of their own,
        so the race's threads, waiting for them, let them learn at once."""
        from streamlearn.learn.remote import holds_gil, remote

        self.models = {
            name: remote(m) if holds_gil(m) and name not in self.failed else m
            for name, m in self.models.items()
        }
        self._spread = True

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_pool"] = None  # threads are not state: a restored race makes its own
        return state

    def _score(self, name: str, preds: np.ndarray, y: np.ndarray, cold: int) -> None:
        losses = self.scores[name].update(preds, y, cold)
        for record in self.drift[name].update(losses, self.records + 1):
            self.last_alarms.append((name, record))

    def _step_one(self, model: Learner, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, int]:
        n = len(y)
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
        return np.asarray(preds, dtype=model._prediction_dtype()), cold

    def _fail(self, name: str, exc: Exception, index: int) -> None:
        """Mark ``name`` failed at the ``index``-th record of this batch (the first it had not learned)."""
        failure: ModelFailure = {
            "error": getattr(exc, "worker_error", None)
            or f"{type(exc).__name__}: {exc}".rstrip(": "),
            "record": self.records + index + 1,
            "batch": self.batches + 1,
            # a learner in a worker process (--workers) sends its own traceback
            "traceback": getattr(exc, "worker_traceback", None) or user_traceback(exc),
        }
        if self.fail_fast:
            raise ModelFailedError(
                f"model {name!r} failed at record {failure['record']:,}: {failure['error']} "
                "(--fail-fast)"
            ) from exc
        self.failed[name] = failure
        log.warning("model %r failed at record %s: %s", name, failure["record"], failure["error"])
        self.last_failures[name] = index

    def label_counts(self) -> LabelCounts:
        """Without delay a record's label comes with it, or never (served): none pending."""
        return {
            "delay": 0,
            "labelled": self.records - self.unlabelled,
            "pending": 0,
            "unlabeled_expired": 0,
            "max_pending": 0,
            "unlabelled": self.unlabelled,
        }

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

        def down(name: str) -> bool:
            return name in self.failed or self.member_of.get(name) in self.failed

        running = sorted(((k, s) for k, s in self.scores.items() if not down(k)), key=key)
        failed = sorted(((k, s) for k, s in self.scores.items() if down(k)), key=key)
        return [
            Standing(
                i + 1,
                name,
                s.cumulative,
                s.windowed,
                s.predicted,
                down(name),
                self.member_of.get(name),
            )
            for i, (name, s) in enumerate([*running, *failed])
        ]

    @property
    def champion(self) -> str | None:
        """The best model that has not failed and is no member (none before a prediction)."""
        board = [s for s in self.leaderboard() if s.member_of is None]
        if not board or board[0].failed or not board[0].predicted:
            return None
        return board[0].name

    def significance(self) -> Significance | None:
        """Paired test of champion against runner-up over the shared window."""
        board = [s for s in self.leaderboard() if not s.failed and s.member_of is None]
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
            out[name]["drift"] = self.drift[name].report()
            if name in self.member_of:
                out[name]["member_of"] = self.member_of[name]
                continue
            found = self.models[name].diagnostics()
            if found:
                out[name]["diagnostics"] = found
            if name in self.failed:
                out[name]["failed"] = self.failed[name]
        return out
