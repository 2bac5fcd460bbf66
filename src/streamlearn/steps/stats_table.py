"""Per-key running statistics held in arrays, one row per key, updated a batch at a time.

A batch's records are grouped by key with one sort; each statistic of every
key in the batch is then one ``ufunc.reduceat`` over the sorted rows and one
fancy-indexed merge (Chan's parallel formula for the moments). The cost of a
batch depends on its records, hardly on how many distinct keys they carry:
``benchmarks/keys.py`` measures 100,000 keys against 10.

:class:`StatsTable` is also a :class:`~streamlearn.steps.store.KeyedStore`,
whose per-key state is a :class:`KeyStats`: the Spark engine moves single
keys in and out through that protocol.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from streamlearn.errors import ConfigError

__all__ = ["KeyStats", "StatsTable"]

_FLOATS = ("mean", "m2", "total", "abs_total", "low", "high", "first")
_MEAN, _M2, _TOTAL, _ABS, _LOW, _HIGH, _FIRST = range(len(_FLOATS))
#: a new key's figures
_EMPTY = np.array([0.0, 0.0, 0.0, 0.0, np.inf, -np.inf, 0.0])
_INTS = ("n", "used", "stack_len", "stack_at")
_N, _USED, _LEN, _AT = range(len(_INTS))


def _extend(arr: np.ndarray, rows: int) -> np.ndarray:
    """``arr`` with room for ``rows`` rows (the new ones zero)."""
    out = np.zeros((rows, *arr.shape[1:]), dtype=arr.dtype)
    out[: len(arr)] = arr
    return out


@dataclass
class KeyStats:
    """One key's statistics, column by column (``stack``: its latest rows, oldest first)."""

    n: int
    mean: np.ndarray
    m2: np.ndarray
    total: np.ndarray
    abs_total: np.ndarray
    low: np.ndarray
    high: np.ndarray
    first: np.ndarray
    stack: np.ndarray

    def var(self) -> np.ndarray:
        """Population variance (``S_N / N``)."""
        return self.m2 / self.n if self.n else np.full(len(self.mean), np.nan)


class StatsTable:
    """Running count, sums, extrema, moments, first row and last rows of many keys.

    Parameters
    ----------
    max_keys
        Most keys held; past it the keys unseen for longest are evicted
        (counted in ``evicted``) after each batch.
    stack_size
        Latest rows kept per key (0: none).

    Examples
    --------
    >>> t = StatsTable(max_keys=2, stack_size=2)
    >>> t.update(np.array(["a", "b", "a"], dtype=object), np.array([[1.0], [5.0], [3.0]]))
    >>> s = t.peek("a"); s.n, s.mean.tolist(), s.var().tolist(), s.stack.tolist()
    (2, [2.0], [1.0], [[1.0], [3.0]])
    >>> t.update(np.array(["c"], dtype=object), np.array([[0.0]]))
    >>> sorted(k for k, _ in t.items()), t.evicted
    (['b', 'c'], 1)
    """

    def __init__(self, max_keys: int, stack_size: int = 0) -> None:
        if max_keys < 1:
            raise ConfigError("max_keys must be at least 1")
        self.max_keys = int(max_keys)
        self.stack_size = int(stack_size)
        self.evicted = 0
        self.width: int | None = None  # columns, known from the first batch
        self._slot: dict[Any, int] = {}  # key -> row
        self._key: list[Any] = []  # row -> key (None: free)
        self._free: list[int] = []
        self._tick = 0  # order of use: larger is more recent
        # a key's figures sit together, so a batch gathers and scatters each key
        # once: 7 arrays of their own made 100,000 keys 2x slower (cache misses)
        self._floats = np.zeros((0, len(_FLOATS), 0))  # (row, statistic, column)
        self._ints = np.zeros((0, len(_INTS)), dtype=np.int64)  # (row, n/used/...)
        self._stack = np.zeros((0, self.stack_size, 0))

    # -- storage ----------------------------------------------------------------------
    def _allocate(self, width: int) -> None:
        self.width = width
        self._floats = np.zeros((0, len(_FLOATS), width))
        self._stack = np.zeros((0, self.stack_size, width))

    def _grow(self, need: int) -> None:
        rows, have = len(self._key), len(self._ints)
        if rows + need <= have:
            return
        new = max(rows + need, 2 * have, 64)
        self._floats = _extend(self._floats, new)
        self._ints = _extend(self._ints, new)
        self._stack = _extend(self._stack, new)

    def _rows_for(self, keys: np.ndarray) -> np.ndarray:
        """The row of each key, new keys given free or fresh rows (one dict lookup per key)."""
        listed = keys.tolist()
        rows = np.fromiter(
            map(self._slot.get, listed, itertools.repeat(-1)), dtype=np.int64, count=len(listed)
        )
        fresh = np.flatnonzero(rows < 0)
        if len(fresh):
            k, reuse = len(fresh), min(len(fresh), len(self._free))
            self._grow(k - reuse)
            start = len(self._key)
            new = np.concatenate(
                [
                    np.asarray(self._free[len(self._free) - reuse :], dtype=np.int64),
                    np.arange(start, start + k - reuse, dtype=np.int64),
                ]
            )
            del self._free[len(self._free) - reuse :]
            self._key.extend([None] * (k - reuse))
            new_keys = [listed[i] for i in fresh.tolist()]
            for row, key in zip(new.tolist(), new_keys, strict=True):
                self._key[row] = key
            self._slot.update(zip(new_keys, new.tolist(), strict=True))
            rows[fresh] = new
            self._floats[new] = _EMPTY[:, None]
            self._ints[new] = 0
        return rows

    # -- the batch update ---------------------------------------------------------------
    def update(self, keys: np.ndarray, X: np.ndarray) -> None:
        """Add the rows ``X`` (n, d) of ``keys`` (n,), in stream order."""
        n = len(keys)
        if not n:
            return
        X = np.asarray(X, dtype=np.float64)
        if self.width is None:
            self._allocate(X.shape[1])
        elif X.shape[1] != self.width:
            raise ConfigError(f"statistics of {self.width} columns got {X.shape[1]}")
        codes, uniques = pd.factorize(keys, use_na_sentinel=False)
        rows = self._rows_for(np.asarray(uniques, dtype=object))
        order = np.argsort(codes, kind="stable")  # stream order kept within a key
        Xs, cs = X[order], codes[order]
        starts = np.flatnonzero(np.r_[True, cs[1:] != cs[:-1]])
        counts = np.diff(np.r_[starts, n])
        sums = np.add.reduceat(Xs, starts, axis=0)
        bmean = sums / counts[:, None]
        dev = Xs - bmean[cs]
        F, ints = self._floats[rows], self._ints[rows]  # one gather each
        na = ints[:, _N].astype(np.float64)
        total_n = na + counts
        delta = bmean - F[:, _MEAN]
        new = ints[:, _N] == 0
        F[new, _FIRST] = Xs[starts[new]]
        F[:, _M2] += np.add.reduceat(dev * dev, starts, axis=0)
        F[:, _M2] += delta * delta * (na * counts / total_n)[:, None]
        F[:, _MEAN] += delta * (counts / total_n)[:, None]
        F[:, _TOTAL] += sums
        F[:, _ABS] += np.add.reduceat(np.abs(Xs), starts, axis=0)
        np.minimum(F[:, _LOW], np.minimum.reduceat(Xs, starts, axis=0), out=F[:, _LOW])
        np.maximum(F[:, _HIGH], np.maximum.reduceat(Xs, starts, axis=0), out=F[:, _HIGH])
        ints[:, _N] += counts
        # keys count as used in order of first appearance in the batch, as in
        # LruStore and on the Spark engine, so every keyed step evicts alike
        ints[:, _USED] = self._tick + np.arange(len(rows))
        self._tick += len(rows)
        if self.stack_size:
            self._push(rows, ints, Xs, cs, starts, counts)
        self._floats[rows], self._ints[rows] = F, ints  # one scatter each
        self.evict_excess()

    def _push(
        self,
        rows: np.ndarray,
        ints: np.ndarray,
        Xs: np.ndarray,
        cs: np.ndarray,
        starts: np.ndarray,
        counts: np.ndarray,
    ) -> None:
        """Append each key's latest ``stack_size`` rows to its ring of rows."""
        size = self.stack_size
        rank = np.arange(len(cs)) - starts[cs]  # position of each row within its key
        kept = np.minimum(counts, size)
        keep = rank >= (counts - kept)[cs]
        g = cs[keep]
        where = (ints[g, _AT] + rank[keep] - (counts - kept)[g]) % size
        self._stack[rows[g], where] = Xs[keep]
        ints[:, _AT] = (ints[:, _AT] + kept) % size
        ints[:, _LEN] = np.minimum(ints[:, _LEN] + kept, size)

    def evict_excess(self) -> list[Any]:
        """Evict the keys unseen for longest past ``max_keys`` (counted); returns them."""
        excess = len(self._slot) - self.max_keys
        if excess <= 0:
            return []
        live = np.fromiter(self._slot.values(), dtype=np.int64, count=len(self._slot))
        oldest = live[np.argpartition(self._ints[live, _USED], excess - 1)[:excess]]
        gone = [self._key[row] for row in oldest.tolist()]
        for row in oldest.tolist():
            self._drop(row)
        self.evicted += excess
        return gone

    def _drop(self, row: int) -> None:
        del self._slot[self._key[row]]
        self._key[row] = None
        self._free.append(row)

    # -- one key (the KeyedStore protocol) ---------------------------------------------
    def peek(self, key: Any) -> KeyStats | None:
        row = self._slot.get(key)
        if row is None:
            return None
        F, ints = self._floats[row], self._ints[row]
        at, filled = int(ints[_AT]), int(ints[_LEN])
        ring = self._stack[row]
        stack = np.roll(ring, -at, axis=0)[self.stack_size - filled :] if filled else ring[:0]
        figures = {name: F[i].copy() for i, name in enumerate(_FLOATS)}
        return KeyStats(n=int(ints[_N]), stack=stack.copy(), **figures)

    def get(self, key: Any) -> KeyStats | None:
        state = self.peek(key)
        if state is not None:
            self._ints[self._slot[key], _USED] = self._tick
            self._tick += 1
        return state

    def put(self, key: Any, state: KeyStats) -> None:
        if self.width is None:
            self._allocate(len(state.mean))
        row = int(self._rows_for(np.array([key], dtype=object))[0])
        self._floats[row] = [getattr(state, name) for name in _FLOATS]
        rows = state.stack[-self.stack_size :] if self.stack_size else state.stack[:0]
        self._stack[row, : len(rows)] = rows
        self._ints[row] = (state.n, self._tick, len(rows), len(rows) % max(1, self.stack_size))
        self._tick += 1
        self.evict_excess()

    def touch(self, keys: list[Any]) -> None:
        for key in keys:
            row = self._slot.get(key)
            if row is not None:
                self._ints[row, _USED] = self._tick
                self._tick += 1

    def pop(self, key: Any) -> KeyStats | None:
        state = self.peek(key)
        if state is not None:
            self._drop(self._slot[key])
        return state

    def _live(self) -> np.ndarray:
        return np.fromiter(self._slot.values(), dtype=np.int64, count=len(self._slot))

    def _in_use_order(self) -> list[Any]:
        live = self._live()
        ordered = live[np.argsort(self._ints[live, _USED], kind="stable")]
        return [self._key[row] for row in ordered.tolist()]

    def items(self) -> Iterator[tuple[Any, Any]]:
        """``(key, KeyStats)`` pairs, least recently used first."""
        for key in self._in_use_order():
            yield key, self.peek(key)

    def head(self, n: int) -> list[tuple[Any, Any]]:
        """The ``n`` least recently used pairs, without sorting every key."""
        if len(self._slot) <= n:
            return list(self.items())
        live = self._live()
        pick = live[np.argpartition(self._ints[live, _USED], n - 1)[:n]]
        pick = pick[np.argsort(self._ints[pick, _USED], kind="stable")]
        return [(self._key[row], self.peek(self._key[row])) for row in pick.tolist()]

    def keys(self) -> list[Any]:
        return self._in_use_order()

    def matrices(self, keys: list[Any] | None = None) -> tuple[list[Any], dict[str, np.ndarray]]:
        """``keys`` (default: all, least recently used first) and each statistic as a
        ``(keys, columns)`` array: count, sum, abssum, min, max, mean, var, first."""
        keys = self._in_use_order() if keys is None else keys
        rows = np.fromiter((self._slot[k] for k in keys), dtype=np.int64, count=len(keys))
        F, n = self._floats[rows], self._ints[rows, _N]
        with np.errstate(invalid="ignore", divide="ignore"):
            var = F[:, _M2] / n[:, None]
        return keys, {
            "count": np.repeat(n[:, None], F.shape[2], axis=1),
            "sum": F[:, _TOTAL],
            "abssum": F[:, _ABS],
            "min": F[:, _LOW],
            "max": F[:, _HIGH],
            "mean": F[:, _MEAN],
            "var": var,
            "first": F[:, _FIRST],
        }

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, key: object) -> bool:
        return key in self._slot
