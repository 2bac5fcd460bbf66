"""Keyed state: the course's ``updateStateByKey`` and built-in per-key statistics.

Keys are grouped within each batch in order of first appearance, so results
are deterministic. The number of keys is bounded: past ``max_keys`` the key
unseen for longest is evicted (and counted), so memory never grows with the
stream.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from streamlearn.errors import ConfigError
from streamlearn.learn.stats import ColumnExtrema, ColumnSums, Moments
from streamlearn.records.batch import RecordBatch
from streamlearn.steps.base import Step, user_code_error

__all__ = ["STATS", "KeyedState", "KeyedStats", "group_rows"]

#: statistic names accepted by ``streamlearn stats --stat``
STATS = ("count", "sum", "abssum", "min", "max", "mean", "var", "first", "stack")

GLOBAL_KEY = "*"


def group_rows(keys: np.ndarray) -> list[tuple[Any, np.ndarray]]:
    """Row indices of each key, keys in order of first appearance."""
    codes, uniques = pd.factorize(np.asarray(keys, dtype=object), use_na_sentinel=False)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    return [(uniques[k], order[bounds[k] : bounds[k + 1]]) for k in range(len(uniques))]


class _BoundedKeys:
    """An LRU map of per-key state with a fixed maximum size."""

    def __init__(self, max_keys: int) -> None:
        if max_keys < 1:
            raise ConfigError("max_keys must be at least 1")
        self.max_keys = max_keys
        self.states: OrderedDict[Any, Any] = OrderedDict()
        self.evicted = 0

    def get(self, key: Any) -> Any:
        state = self.states.get(key)
        if state is not None:
            self.states.move_to_end(key)
        return state

    def put(self, key: Any, state: Any) -> None:
        self.states[key] = state
        self.states.move_to_end(key)
        while len(self.states) > self.max_keys:
            self.states.popitem(last=False)
            self.evicted += 1


class KeyedState(Step):
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
        name: str | None = None,
        max_keys: int = 100_000,
    ) -> None:
        self.update = update
        self.key = key
        self.columns = (column,) if isinstance(column, str) else tuple(column)
        self.name = name or str(getattr(update, "__name__", "keyed_state"))
        self.store = _BoundedKeys(max_keys)

    def _values(self, batch: RecordBatch, rows: np.ndarray) -> list[Any]:
        cols = [batch.column(c)[rows] for c in self.columns]
        if len(cols) == 1:
            return [v.item() if isinstance(v, np.generic) else v for v in cols[0]]
        return [tuple(c[i] for c in cols) for i in range(len(rows))]

    def apply(self, batch: RecordBatch) -> RecordBatch:
        if not len(batch):
            return batch
        keys = batch.column(self.key) if self.key else np.full(len(batch), GLOBAL_KEY, dtype=object)
        for key, rows in group_rows(keys):
            try:
                new = self.update(self._values(batch, rows), self.store.get(key))
            except Exception as exc:
                raise user_code_error(exc, self.name, batch, int(rows[0]), key=key) from exc
            if new is None:
                self.store.states.pop(key, None)
            else:
                self.store.put(key, new)
        return batch

    def summary(self) -> dict[str, Any]:
        return {str(k): v for k, v in self.store.states.items()}

    def snapshot(self) -> Any:
        return self.store

    def restore(self, state: Any) -> None:
        self.store = state


class _KeyStats:
    """Everything :class:`KeyedStats` keeps for one key."""

    def __init__(self, stack_size: int) -> None:
        self.moments = Moments()
        self.sums = ColumnSums()
        self.extrema = ColumnExtrema()
        self.first: np.ndarray | None = None
        self.stack: deque[np.ndarray] = deque(maxlen=stack_size)


class KeyedStats(Step):
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

    name = "stats"

    def __init__(
        self,
        stats: Sequence[str],
        key: str | None = None,
        columns: Sequence[str] | None = None,
        max_keys: int = 100_000,
        stack_size: int = 10,
    ) -> None:
        unknown = [s for s in stats if s not in STATS]
        if unknown or not stats:
            raise ConfigError(f"unknown statistic(s) {', '.join(unknown) or '(none)'}; known: {', '.join(STATS)}")
        self.stats = tuple(stats)
        self.key = key
        self.columns = tuple(columns) if columns else None
        self.stack_size = stack_size
        self.store = _BoundedKeys(max_keys)

    def _pick_columns(self, batch: RecordBatch) -> tuple[str, ...]:
        if self.columns is None:
            chosen = tuple(
                c for c, v in batch.columns.items()
                if v.dtype.kind == "f" and c != self.key
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
            groups = group_rows(batch.column(self.key))
        for key, rows in groups:
            ks = self.store.get(key) or _KeyStats(self.stack_size)
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
        ks = self.store.states[key]
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

    def summary(self) -> dict[str, Any]:
        return {
            "keys": {str(k): self.values(k) for k in self.store.states},
            "evicted_keys": self.store.evicted,
        }

    def snapshot(self) -> Any:
        return (self.store, self.columns)

    def restore(self, state: Any) -> None:
        self.store, self.columns = state
