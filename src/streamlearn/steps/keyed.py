"""Keyed state: the course's ``updateStateByKey`` and built-in per-key statistics.

Keys are grouped within each batch in order of first appearance, so results
are deterministic. The number of keys is bounded: past ``max_keys`` the key
unseen for longest is evicted (and counted), so memory never grows with the
stream.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from streamlearn.errors import ConfigError
from streamlearn.records.batch import RecordBatch
from streamlearn.stats import ColumnExtrema, ColumnSums, Moments
from streamlearn.steps.base import Step, name_of, user_code_error
from streamlearn.steps.store import KeyedStore, LruStore
from streamlearn.types import StepKind

__all__ = ["GLOBAL_KEY", "STATS", "KeyedState", "KeyedStats", "KeyedStep", "group_rows"]

#: statistic names accepted by ``streamlearn stats --stat``
STATS = ("count", "sum", "abssum", "min", "max", "mean", "var", "first", "stack")

GLOBAL_KEY = "*"


def group_rows(keys: np.ndarray) -> list[tuple[Any, np.ndarray]]:
    """Row indices of each key, keys in order of first appearance."""
    codes, uniques = pd.factorize(np.asarray(keys, dtype=object), use_na_sentinel=False)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    return [(uniques[k], order[bounds[k] : bounds[k + 1]]) for k in range(len(uniques))]


class KeyedStep(Step):
    """A step that keeps state per key in a :class:`~streamlearn.steps.store.KeyedStore`.

    It returns its batch unchanged (``scope = "observe"``): its effect is its
    state. :meth:`fresh` gives a copy with the same settings and no state,
    which the Spark engine runs per key on the executors.
    """

    scope: ClassVar[StepKind] = "observe"
    #: the column keys are taken from; ``None``: one key for the whole stream
    key: str | None
    store: KeyedStore

    def fresh(self) -> KeyedStep:
        """The step with its settings and an empty store of the same bound."""
        twin = copy.copy(self)
        twin.store = LruStore(self.store.max_keys)
        return twin

    def keys_of(self, batch: RecordBatch) -> np.ndarray:
        """Each record's key (``GLOBAL_KEY`` for all when the step has no key column)."""
        if self.key is None:
            return np.full(len(batch), GLOBAL_KEY, dtype=object)
        return np.asarray(batch.column(self.key))

    def snapshot(self) -> Any:
        return self.store

    def restore(self, state: Any) -> None:
        self.store = state


class KeyedState(KeyedStep):
    """Per-key state updated by a user function, as Spark's ``updateStateByKey``.

    ``update(new_values, state) -> state`` receives every value of the key in
    this batch (a list, in stream order) and the previous state (``None`` the
    first time). Returning ``None`` drops the key.

    Examples
    --------
    >>> def running_sum(values, state):
    ...     return (state or 0.0) + sum(abs(v) for v in values)
    >>> step = KeyedState(running_sum, key="k", column="x")
    """

    def __init__(
        self,
        update: Callable[[list[Any], Any], Any],
        key: str | None,
        column: str | Sequence[str],
        step_id: str | None = None,
        max_keys: int = 100_000,
    ) -> None:
        self.update = update
        self.key = key
        self.columns = (column,) if isinstance(column, str) else tuple(column)
        self.step_id = step_id or name_of(update, "keyed_state")
        self.reads = (*self.columns, *((key,) if key else ()))
        self.store: KeyedStore = LruStore(max_keys)

    def _values(self, batch: RecordBatch, rows: np.ndarray) -> list[Any]:
        cols = [batch.column(c)[rows] for c in self.columns]
        if len(cols) == 1:
            return [v.item() if isinstance(v, np.generic) else v for v in cols[0]]
        return [tuple(c[i] for c in cols) for i in range(len(rows))]

    def apply(self, batch: RecordBatch) -> RecordBatch:
        if not len(batch):
            return batch
        for key, rows in group_rows(self.keys_of(batch)):
            try:
                new = self.update(self._values(batch, rows), self.store.get(key))
            except Exception as exc:
                raise user_code_error(exc, self.step_id, batch, int(rows[0]), key=key) from exc
            if new is None:
                self.store.pop(key)
            else:
                self.store.put(key, new)
        return batch

    def describe(self) -> dict[str, Any]:
        return {str(k): v for k, v in self.store.items()}


class _KeyStats:
    """Everything :class:`KeyedStats` keeps for one key."""

    def __init__(self, stack_size: int) -> None:
        self.moments = Moments()
        self.sums = ColumnSums()
        self.extrema = ColumnExtrema()
        self.first: np.ndarray | None = None
        self.stack: deque[np.ndarray] = deque(maxlen=stack_size)


class KeyedStats(KeyedStep):
    """Running statistics of numeric columns, per key (or over the whole stream).

    Parameters
    ----------
    stats
        Names from :data:`STATS`: count, sum, abssum (running sum of |x|),
        min, max, mean, var (population, Welford), first (first value),
        stack (the last ``stack_size`` rows: the course's stacking, bounded).
    key
        Column to group by; ``None`` keeps one global set of statistics.
    columns
        Numeric columns; default: every float column but the key.
    """

    default_id = "stats"

    def __init__(
        self,
        stats: Sequence[str],
        key: str | None = None,
        columns: Sequence[str] | None = None,
        max_keys: int = 100_000,
        stack_size: int = 10,
        step_id: str | None = None,
    ) -> None:
        unknown = [s for s in stats if s not in STATS]
        if unknown or not stats:
            raise ConfigError(
                f"unknown statistic(s) {', '.join(unknown) or '(none)'}; known: {', '.join(STATS)}"
            )
        self.stats = tuple(stats)
        self.key = key
        self.columns = tuple(columns) if columns else None
        self.stack_size = stack_size
        self.store: KeyedStore = LruStore(max_keys)
        self.step_id = step_id
        # columns picked from the data (every float one) need every column decoded
        self.reads = (*self.columns, *((key,) if key else ())) if self.columns else None

    def _pick_columns(self, batch: RecordBatch) -> tuple[str, ...]:
        if self.columns is None:
            chosen = tuple(
                c for c, v in batch.columns.items() if v.dtype.kind == "f" and c != self.key
            )
            if not chosen:
                raise ConfigError("no numeric columns for statistics; give --columns")
            self.columns = chosen
        missing = [c for c in self.columns if c not in batch.columns]
        if missing:
            raise ConfigError(f"no column(s) {', '.join(missing)} for statistics")
        return self.columns

    def apply(self, batch: RecordBatch) -> RecordBatch:
        if not len(batch):
            return batch
        cols = self._pick_columns(batch)
        try:
            X = np.column_stack([np.asarray(batch.columns[c], dtype=np.float64) for c in cols])
        except (TypeError, ValueError):
            raise ConfigError(f"statistics need numeric columns; got {', '.join(cols)}") from None
        if self.key is None:
            groups = [(GLOBAL_KEY, np.arange(len(batch)))]
        else:
            groups = group_rows(self.keys_of(batch))
        for key, rows in groups:
            ks = self.store.peek(key) or _KeyStats(self.stack_size)
            block = X[rows]
            ks.moments.update_many(block)
            ks.sums.update_many(block)
            ks.extrema.update_many(block)
            if ks.first is None:
                ks.first = block[0].copy()
            for row in block[-self.stack_size :]:
                ks.stack.append(row.copy())
            self.store.put(key, ks)
        return batch

    def values(self, key: Any) -> dict[str, dict[str, Any]]:
        """Statistic values of one key, by column."""
        ks = self.store.peek(key)
        per_stat: dict[str, Any] = {
            "count": np.full(len(self.columns or ()), ks.moments.n),
            "sum": ks.sums.total,
            "abssum": ks.sums.abs_total,
            "min": ks.extrema.low,
            "max": ks.extrema.high,
            "mean": ks.moments.mean,
            "var": ks.moments.var(),
            "first": ks.first,
        }
        out: dict[str, dict[str, Any]] = {}
        for j, col in enumerate(self.columns or ()):
            entry: dict[str, Any] = {}
            for s in self.stats:
                if s == "stack":
                    entry[s] = [float(r[j]) for r in ks.stack]
                else:
                    val = per_stat[s][j]
                    entry[s] = int(val) if s == "count" else float(val)
            out[col] = entry
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "keys": {str(k): self.values(k) for k, _ in self.store.items()},
            "evicted_keys": self.store.evicted,
        }

    def snapshot(self) -> Any:
        return (self.store, self.columns)

    def restore(self, state: Any) -> None:
        self.store, self.columns = state
