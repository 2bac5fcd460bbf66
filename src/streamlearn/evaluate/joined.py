"""Prequential evaluation with labels that come later, joined by key in event time.

Feature records and labels are two streams with event times (milliseconds).
Every feature record is predicted on arrival by the current models and waits,
under its join key, in a bounded pending store. Labels are applied in
event-time order: a label stamped at or before a feature record's time is
applied before that record is predicted. When a waiting record's label is
applied, every model learns from it and the prediction made *at arrival* is
scored: prequential evaluation under delay.

- A label that comes before its features waits too (same bound), and joins
  them when they arrive.
- A record whose label does not come within ``timeout_ms`` of its time
  expires (``unlabeled_expired``): never learned.
- A second label for a key is a duplicate: the first wins.
- A label whose key no record claimed within the timeout, or whose record
  expired or was evicted, is dead-lettered with the reason.
- Past ``max_pending`` waiting items, the oldest is evicted and counted.

Everything (pending store, labels scheduled, counters) is race state: the
checkpoint holds it with the models, so a resumed run equals an
uninterrupted one. The order depends only on the data (event times, then
arrival order), never on when the streams were read.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from typing import Any

import numpy as np

from streamlearn.errors import ConfigError
from streamlearn.evaluate.delayed import DeferredRace, Pending
from streamlearn.evaluate.label_delays import DelayHistogram
from streamlearn.learn.base import Learner
from streamlearn.records.batch import DeadLetter
from streamlearn.summary import LabelCounts

__all__ = ["JoinedRace", "LabelLetter"]

#: where a label came from, to dead-letter it: (origin, partition, offset, exact bytes)
LabelLetter = tuple[str, int, int, bytes]

_NEVER = -(2**62)


class _Early:
    """A label waiting for its feature record."""

    __slots__ = ("letter", "ts", "y")

    def __init__(self, y: Any, ts: int, letter: LabelLetter | None) -> None:
        self.y = y
        self.ts = ts
        self.letter = letter


class JoinedRace(DeferredRace):
    """A race whose labels are joined to the records by key, in event time.

    Parameters are those of :class:`~streamlearn.evaluate.race.Race`, plus

    timeout_ms
        How long after its time a record may wait for its label (``None``: no limit).
    max_pending
        Most records and early labels held at once.

    Examples
    --------
    >>> import numpy as np
    >>> from streamlearn.learn.baselines import Mean
    >>> race = JoinedRace({"mean": Mean()}, "regression", timeout_ms=None, max_pending=10)
    >>> race.set_features(("x",), np.zeros(1, dtype=bool))
    >>> X = np.array([[1.0], [2.0]])
    >>> _ = race.step_joined(X, ["a", "b"], np.array([0, 10]))
    >>> race.schedule(np.array([20]), ["a"], [4.0], [None])
    >>> _ = race.step_joined(X[:1], ["c"], np.array([30]))
    >>> race.label_counts()["labelled"], race.label_counts()["pending"]
    (1, 2)
    """

    def __init__(
        self,
        models: dict[str, Learner],
        *args: Any,
        timeout_ms: int | None,
        max_pending: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(models, *args, **kwargs)
        if max_pending < 1:
            raise ConfigError(f"--max-pending must be at least 1, not {max_pending}")
        if timeout_ms is not None and timeout_ms < 0:
            raise ConfigError(f"--label-timeout must be >= 0, not {timeout_ms / 1000}")
        self.timeout_ms = timeout_ms
        self.max_held = int(max_pending)
        self.waiting: OrderedDict[str, Pending] = OrderedDict()
        self.early: OrderedDict[str, _Early] = OrderedDict()
        # keys whose label was applied (True) or whose record expired or was evicted (False)
        self.done: OrderedDict[str, bool] = OrderedDict()
        self.scheduled: list[tuple[int, int, str, Any, LabelLetter | None]] = []
        self.sequence = 0
        self.now = _NEVER
        self.expired = 0
        self.evicted = 0
        self.duplicates = 0
        self.unknown_keys = 0
        self.delays = DelayHistogram()
        self.letters: list[DeadLetter] = []
        self._released: list[Pending] = []

    # -- labels in ----------------------------------------------------------
    def schedule(
        self,
        ts: np.ndarray,
        keys: list[str],
        ys: list[Any],
        letters: list[LabelLetter | None],
    ) -> None:
        """Labels read from their stream: applied when the stream's time reaches theirs.

        A ``None`` letter marks a record's own label (``--delay SECONDS``),
        scheduled with its record's batch: one for a record no longer
        waiting is dropped, not dead-lettered.
        """
        for t, key, y, letter in zip(ts.tolist(), keys, ys, letters, strict=True):
            heapq.heappush(self.scheduled, (int(t), self.sequence, key, y, letter))
            self.sequence += 1

    # -- records in ---------------------------------------------------------
    def step_joined(
        self, X: np.ndarray, keys: list[str | None], ts: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Predict each record on arrival (labels due before it applied first); hold it for its label.

        A record without a join key, or whose key is already waiting, is
        served only: predicted, never learned nor scored.
        """
        n = len(keys)
        self.last_failures, self.last_alarms = {}, []
        out = self._outputs(n)
        for i, (key, t) in enumerate(zip(keys, ts.tolist(), strict=True)):
            self._advance(int(t), i)
            item = self._predict(X[i], i, out)
            item.ts = int(t)
            if key is None or key in self.waiting:
                self.unlabelled += 1
                continue
            early = self.early.pop(key, None)
            if early is not None:  # its label came first
                self._release(item, early.y, early.ts, i)
                self.done[key] = True
                self._bound_done()
                continue
            self.waiting[key] = item
            self._bound(i)
        self._advance(self.now, n)
        self._compact()
        self._finish(n)
        return {k: v for k, v in out.items() if k not in self.failed}

    def _compact(self) -> None:
        """Drop the scheduled own labels (``--delay SECONDS``) of records no longer waiting
        (evicted by ``--max-pending``), so the schedule stays bounded too. Labels read from
        a topic stay: they are read only a little ahead of the records."""
        scheduled = self.scheduled
        if len(scheduled) <= 2 * self.max_held:
            return
        kept = [e for e in scheduled if e[4] is not None or e[2] in self.waiting]
        heapq.heapify(kept)
        self.scheduled = kept

    def drain(self) -> None:
        """Both streams ended: apply every label read, whatever its time."""
        self.last_failures, self.last_alarms = {}, []
        self._stepping = self.running
        while self.scheduled:
            self._advance(self.scheduled[0][0], 0)
        self._finish(0)

    def take_dead_letters(self) -> list[DeadLetter]:
        """Labels dead-lettered since the last call."""
        out, self.letters = self.letters, []
        return out

    # -- the join -----------------------------------------------------------
    def _advance(self, t: int, i: int) -> None:
        """Move the stream's time to ``t``: apply the labels due, expire what waited too long."""
        scheduled = self.scheduled
        while scheduled and scheduled[0][0] <= t:
            label_t, _, key, y, letter = heapq.heappop(scheduled)
            self.now = max(self.now, label_t)
            self._expire()
            self._apply(key, y, label_t, letter, i)
        self.now = max(self.now, t)
        self._expire()

    def _apply(self, key: str, y: Any, t: int, letter: LabelLetter | None, i: int) -> None:
        item = self.waiting.pop(key, None)
        if item is not None:
            self._release(item, y, t, i)
            self.done[key] = True
            self._bound_done()
        elif key in self.done:
            if self.done[key]:
                self.duplicates += 1
            elif letter is not None:  # a record's own label (--delay SECONDS) is no news
                self._dead(letter, f"label for join key {key!r} came after its record expired")
        elif key in self.early:
            self.duplicates += 1
        else:
            self.early[key] = _Early(y, t, letter)
            self._bound(i)

    def _release(self, item: Pending, y: Any, t: int, i: int) -> None:
        item.y = y
        self._learn_all(item, i)
        self._released.append(item)
        self.delays.add(t - item.ts)

    def _expire(self) -> None:
        if self.timeout_ms is None:
            return
        limit = self.now - self.timeout_ms
        waiting, early = self.waiting, self.early
        while waiting:
            key, item = next(iter(waiting.items()))
            if item.ts >= limit:
                break
            del waiting[key]
            self.expired += 1
            self.done[key] = False
            self._bound_done()
        while early:
            key, label = next(iter(early.items()))
            if label.ts >= limit:
                break
            del early[key]
            self._dead(
                label.letter,
                f"label for unknown join key {key!r}: no record came within --label-timeout",
            )

    def _bound(self, i: int) -> None:
        while len(self.waiting) + len(self.early) > self.max_held:
            oldest_record = next(iter(self.waiting.values())).ts if self.waiting else None
            oldest_label = next(iter(self.early.values())).ts if self.early else None
            if oldest_label is None or (
                oldest_record is not None and oldest_record <= oldest_label
            ):
                key, _ = self.waiting.popitem(last=False)
                self.evicted += 1
                self.done[key] = False
                self._bound_done()
            else:
                key, label = self.early.popitem(last=False)
                self._dead(label.letter, f"label for join key {key!r} evicted (--max-pending)")
        self.max_pending = max(self.max_pending, len(self.waiting) + len(self.early))

    def _bound_done(self) -> None:
        # duplicates and late labels are recognised for as many keys as may be pending
        while len(self.done) > self.max_held:
            self.done.popitem(last=False)

    def _dead(self, letter: LabelLetter | None, reason: str) -> None:
        self.unknown_keys += 1
        if letter is not None:
            origin, partition, offset, payload = letter
            self.letters.append(DeadLetter(origin, partition, offset, payload, reason))

    def _finish(self, n: int) -> None:
        released, self._released = self._released, []
        self._score_released(released)
        self.batches += 1
        self.records += n

    # -- reporting ----------------------------------------------------------
    def label_counts(self) -> LabelCounts:
        """Labels joined, records waiting, expired and evicted, and the labels' delays."""
        return {
            "delay": 0,
            "labelled": self.labelled,
            "pending": len(self.waiting),
            "unlabeled_expired": self.expired,
            "max_pending": self.max_pending,
            "unlabelled": self.unlabelled,
            "evicted": self.evicted,
            "duplicates": self.duplicates,
            "unknown_keys": self.unknown_keys,
            "early_labels": len(self.early),
            "delay_s": self.delays.describe(),
        }
