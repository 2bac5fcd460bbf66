"""``auto``: race a portfolio of fast learners and predict with the one that leads.

Every member predicts every record and then learns it, as in any race. The
prediction of ``auto`` for a record is the prediction of the member with the
lowest *faded* loss over the records before it (each older record weighs
``fading`` times less), chosen before the record is seen, so ``auto`` stays
honestly prequential. The faded losses reset when a Page-Hinkley test on
``auto``'s own errors raises an alarm, so after a drift the leader is picked
on the new regime only.

Members (classification): no-change, majority, softmax regression,
passive-aggressive, naive Bayes, kNN and the hashed-histogram experts.
Regression: no-change, mean, RLS, SGD, passive-aggressive, kNN and RLS over
random Fourier features. All compiled; the race of members is also scored
member by member, so their standings show in the leaderboard.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numba import njit

from streamlearn.learn.base import Learner
from streamlearn.learn.drift import PageHinkley, ph_step

__all__ = ["MEMBERS", "VOTE", "Auto", "auto"]

#: the portfolio per task, as model specs
MEMBERS: dict[str, tuple[str, ...]] = {
    "classification": (
        "no-change",
        "majority",
        "logreg",
        "pa",
        "nb",
        "knn:window=1000,k=10",
        "hist",
    ),
    "regression": ("no-change", "mean", "rls", "sgd", "pa", "knn", "rff"),
}
#: the portfolio's own member: the others' predictions, weighted by how well each did lately
VOTE = "vote"
#: a challenger takes the lead when its faded loss is this much (relatively) lower...
SWITCH_MARGIN = 0.05
#: ... once this many (faded) records have been seen
SETTLED = 50.0
#: leader changes remembered (the latest), for the report's band
MAX_CHANGES = 1000


@njit(cache=True, nogil=True)
def _loss(p: float, y: float, classify: bool) -> float:
    if classify:
        return 1.0 if p != y else 0.0
    return (p - y) * (p - y)


@njit(cache=True, nogil=True)
def _vote(
    P: np.ndarray, i: int, faded: np.ndarray, norm: float, classify: bool, votes: np.ndarray
) -> float:
    """The members' prediction of record ``i``, weighted by how well each did lately.

    A member's weight is ``exp(-10 (e - e_best))`` for classification (``e``:
    its faded error rate) and ``exp(-2 (L / L_best - 1))`` for regression
    (``L``: its faded squared error), so clearly worse members hardly count.
    """
    m = P.shape[0]
    low = faded[0]
    for j in range(1, m):
        low = min(low, faded[j])
    if classify:
        votes[:] = 0.0
        for j in range(m):
            p = P[j, i]
            if p >= 0:
                votes[int(p) + 1] += math.exp(-10.0 * (faded[j] - low) / norm)
        best, at = 0.0, -1
        for c in range(1, votes.shape[0]):
            if votes[c] > best:
                best, at = votes[c], c - 1
        return float(at)
    total, weight = 0.0, 0.0
    for j in range(m):
        p = P[j, i]
        if p - p != 0.0:  # NaN or infinite
            continue
        w = (
            math.exp(-2.0 * (faded[j] / low - 1.0))
            if low > 0.0
            else (1.0 if faded[j] == 0.0 else 0.0)
        )
        total += w * p
        weight += w
    return total / weight if weight > 0.0 else 0.0


@njit(cache=True, nogil=True)
def _choose(faded: np.ndarray, norm: float, classify: bool, current: np.ndarray) -> None:
    """The leader for the next record; a challenger takes over only when clearly ahead."""
    m = faded.shape[0] - 1
    best = m  # ties go to the vote: at the start, every member has a say
    for j in range(m):
        if faded[j] < faded[best]:
            best = j
    c = current[0]
    # early on every model is poor and the lead is worth taking; later, only clear leads
    margin = SWITCH_MARGIN if norm >= SETTLED else 0.0
    if best != c and faded[best] < faded[c] * (1.0 - margin):
        current[0] = best


@njit(cache=True, nogil=True)
def _select(
    P: np.ndarray,
    y: np.ndarray,
    faded: np.ndarray,
    fading: float,
    classify: bool,
    ph_state: np.ndarray,
    ph_settings: np.ndarray,
    votes: np.ndarray,
    norm: np.ndarray,
    current: np.ndarray,
    out: np.ndarray,
    lead: np.ndarray,
    voted: np.ndarray,
    alarms: np.ndarray,
) -> int:
    """``out[i]``: the prediction of the member whose faded loss before ``i`` is lowest.

    ``P`` holds the members' predictions; the last member, the weighted vote
    of the others, is computed here (into ``voted``). A Page-Hinkley alarm on
    ``auto``'s own losses clears the faded losses right after the record that
    raised it. Returns the number of alarms.
    """
    m = P.shape[0]
    found = 0
    for i in range(P.shape[1]):
        voted[i] = _vote(P, i, faded[:m], max(norm[0], 1.0), classify, votes)
        best = current[0]  # chosen after the record before
        out[i] = P[best, i] if best < m else voted[i]
        lead[i] = best
        worst = 0.0
        for j in range(m):
            loss = _loss(P[j, i], y[i], classify)
            if loss < np.inf:  # False for NaN too
                worst = max(worst, loss)
        for j in range(m + 1):
            loss = _loss(P[j, i] if j < m else voted[i], y[i], classify)
            if not loss < np.inf:
                loss = 10.0 * worst + 1.0  # a non-finite prediction: worse than any
            faded[j] = fading * faded[j] + loss
        norm[0] = fading * norm[0] + 1.0
        _choose(faded, norm[0], classify, current)
        if ph_step(_loss(out[i], y[i], classify), ph_state, ph_settings):
            faded[:] = 0.0  # a drift: the leader is chosen again on what follows
            norm[0] = 0.0
            current[0] = m
            alarms[found] = i
            found += 1
    return found


@njit(cache=True, nogil=True)
def _vote_many(
    P: np.ndarray,
    faded: np.ndarray,
    norm: float,
    classify: bool,
    votes: np.ndarray,
    out: np.ndarray,
) -> None:
    for i in range(P.shape[1]):
        out[i] = _vote(P, i, faded, max(norm, 1.0), classify, votes)


class Auto(Learner):
    """A portfolio of learners; each record is predicted by the member that leads so far.

    Parameters
    ----------
    task
        ``"classification"`` or ``"regression"``.
    members
        Model specs of the portfolio (default :data:`MEMBERS` of the task).
    fading
        Weight of each older record in the losses that pick the leader
        (0.999: a record 700 records old weighs half).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(3000, 3))
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> model = Auto("classification")
    >>> preds = model.test_then_train(X, y)
    >>> bool(np.mean(preds[1000:] == y[1000:]) > 0.95), model.leader in model.member_names
    (True, True)
    """

    def __init__(
        self,
        task: str = "classification",
        members: Sequence[str] | None = None,
        fading: float = 0.999,
    ) -> None:
        from streamlearn.learn.registry import build_learner

        if not 0.0 < fading < 1.0:
            raise ValueError(f"fading must be in (0, 1), not {fading}")
        specs = tuple(members) if members else MEMBERS[task]
        self.task = task  # type: ignore[misc,assignment]
        super().__init__()
        self._params: dict[str, Any] = {"task": task, "members": members, "fading": fading}
        self.members = [build_learner(s, task) for s in specs]
        #: the members, then "vote": their prediction weighted by how well each did lately
        self.member_names = [*specs, VOTE]
        self.fading = float(fading)
        self.faded = np.zeros(len(self.members) + 1)
        self.norm = np.zeros(1)  # the faded count of records, for error rates
        self.current = np.array([len(self.members)])  # the leader: the vote at first
        self.detector = PageHinkley()
        self.records_led = np.zeros(len(self.member_names), dtype=np.int64)
        self.changes: list[tuple[int, str]] = []  # (record, new leader), the latest
        self.resets: list[int] = []  # records where a drift alarm reset the leader losses
        self.member_predictions: dict[str, np.ndarray] = {}
        self._lead = -1

    def set_features(self, names: Sequence[str], categorical: Sequence[bool] | np.ndarray) -> None:
        super().set_features(names, categorical)
        for m in self.members:
            m.set_features(names, categorical)

    @property
    def leader(self) -> str:
        """The member that predicts the next record."""
        return self.member_names[self._best()]

    def _best(self) -> int:
        """The leading member's index (the vote on ties, as in the compiled loop)."""
        return int(self.current[0])

    # -- the contract --------------------------------------------------------------------
    def _votes(self, P: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
        """A scratch array for the classes' votes (index 0: no class)."""
        top = max(int(P.max()) if P.size else 0, int(y.max()) if y is not None and len(y) else 0)
        return np.zeros(top + 2)

    def _select(self, P: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        classify = self.task == "classification"
        n = P.shape[1]
        out = np.empty(n, dtype=np.float64)
        lead = np.empty(n, dtype=np.int64)
        voted = np.empty(n, dtype=np.float64)
        alarms = np.empty(n, dtype=np.int64)
        yy = np.asarray(y, dtype=np.float64)
        found = _select(
            P,
            yy,
            self.faded,
            self.fading,
            classify,
            self.detector.state,
            self.detector.settings,
            self._votes(P, yy) if classify else np.zeros(0),
            self.norm,
            self.current,
            out,
            lead,
            voted,
            alarms,
        )
        self._note(lead)
        if found:
            self.resets = [*self.resets, *(self.n_learned + int(a) + 1 for a in alarms[:found])]
            self.resets = self.resets[-100:]
        if classify:
            return out.astype(np.int64), voted.astype(np.int64)
        return out, voted

    def _note(self, lead: np.ndarray) -> None:
        self.records_led += np.bincount(lead, minlength=len(self.member_names))
        changed = np.flatnonzero(np.diff(np.r_[self._lead, lead]) != 0)
        for i in changed.tolist():
            self.changes.append((self.n_learned + i + 1, self.member_names[int(lead[i])]))
        if len(self.changes) > MAX_CHANGES:
            self.changes = self.changes[-MAX_CHANGES:]
        if len(lead):
            self._lead = int(lead[-1])

    def test_then_train(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        preds = [m.test_then_train(X, y) for m in self.members]
        P = np.vstack(preds).astype(np.float64) if len(y) else np.zeros((len(preds), 0))
        out, voted = self._select(P, y)
        self.member_predictions = dict(zip(self.member_names, [*preds, voted], strict=True))
        self.n_learned += len(y)
        return out

    def predict_many(self, X: np.ndarray) -> np.ndarray:
        best = self._best()
        if best < len(self.members):
            return self.members[best].predict_many(X)
        P = np.vstack([m.predict_many(X) for m in self.members]).astype(np.float64)
        classify = self.task == "classification"
        out = np.empty(len(X))
        votes = self._votes(P) if classify else np.zeros(0)
        _vote_many(P, self.faded[: len(self.members)], self.norm[0], classify, votes, out)
        return out.astype(np.int64) if classify else out

    def predict_one(self, x: np.ndarray) -> Any:
        return self.predict_many(np.asarray(x, dtype=np.float64).reshape(1, -1))[0].item()

    def predict_members(self, x: np.ndarray) -> tuple[Any, dict[str, Any]]:
        """``predict_one(x)``, with every member's prediction and the vote's by name.

        For races that score a record long after predicting it (delayed labels).
        """
        X = np.asarray(x, dtype=np.float64).reshape(1, -1)
        P = np.vstack([m.predict_many(X) for m in self.members]).astype(np.float64)
        classify = self.task == "classification"
        out = np.empty(1)
        votes = self._votes(P) if classify else np.zeros(0)
        _vote_many(P, self.faded[: len(self.members)], self.norm[0], classify, votes, out)
        values = [*P[:, 0].tolist(), float(out[0])]
        if classify:
            values = [int(v) for v in values]
        return values[self._best()], dict(zip(self.member_names, values, strict=True))

    def learn_many(self, X: np.ndarray, y: np.ndarray) -> None:
        # the faded losses need what each member predicted before each record: the
        # same record loop as test_then_train, so any batching gives the same leader
        self.test_then_train(X, y)

    def learn_one(self, x: np.ndarray, y: Any) -> None:
        self.learn_many(np.asarray(x, dtype=np.float64).reshape(1, -1), np.array([y]))

    def clone(self) -> Learner:
        fresh = Auto(self.task, self._params["members"], self.fading)
        if self.feature_names:
            fresh.set_features(self.feature_names, self.categorical_mask)
        return fresh

    def diagnostics(self) -> dict[str, Any]:
        """The leader, how many records each member led, and the drift resets."""
        led = {n: int(c) for n, c in zip(self.member_names, self.records_led, strict=True) if c}
        out: dict[str, Any] = {"leader": self.leader, "records_led": led}
        if self.resets:
            out["drift_resets"] = list(self.resets)
        return out


def auto(
    task: str = "classification", members: str | None = None, fading: float = 0.999
) -> Learner:
    """The ``auto`` kind: ``members`` is ``a+b+c`` to choose the portfolio."""
    chosen = [m for m in (members or "").split("+") if m] or None
    return Auto(task, chosen, fading)
