"""Where keyed steps keep per-key state: a small store protocol and its local LRU form.

The local engine keeps keys in :class:`LruStore`; the Spark engine keeps
them in Spark's state store and mirrors them into the step's store on the
driver through the same protocol, so neither depends on the other's insides.
"""

from __future__ import annotations

import contextlib
import itertools
import sys
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

from streamlearn.errors import ConfigError

__all__ = ["KeyedStore", "LruStore", "evictions_deferred"]


@runtime_checkable
class KeyedStore(Protocol):
    """Per-key state with a bound on the number of keys."""

    #: most keys held; past it the key unseen for longest is evicted
    max_keys: int
    #: keys evicted so far
    evicted: int

    def get(self, key: Any) -> Any:
        """The key's state, or ``None``; marks the key as just used."""

    def peek(self, key: Any) -> Any:
        """The key's state, or ``None``, leaving the order of use alone."""

    def put(self, key: Any, state: Any) -> None:
        """Set the key's state, evicting past ``max_keys``."""

    def pop(self, key: Any) -> Any:
        """Remove the key; its state, or ``None``."""

    def items(self) -> Iterator[tuple[Any, Any]]:
        """``(key, state)`` pairs, least recently used first."""

    def head(self, n: int) -> list[tuple[Any, Any]]:
        """The first ``n`` of :meth:`items` (cheap with many keys)."""

    def keys(self) -> list[Any]:
        """The keys held, least recently used first."""

    def evict_excess(self) -> list[Any]:
        """Evict the keys unseen for longest past ``max_keys`` (counted); returns them."""

    def touch(self, keys: list[Any]) -> None:
        """Mark the held ones of ``keys`` as just used, in this order.

        A step calls it with a batch's keys before updating them, so that
        adding the batch's new keys never evicts one of its old keys.
        """

    def __len__(self) -> int: ...

    def __contains__(self, key: object) -> bool: ...


@contextlib.contextmanager
def evictions_deferred(store: KeyedStore) -> Iterator[list[Any]]:
    """A batch's keys all go in before any key goes: past ``max_keys``, the keys unseen for
    longest are evicted when the batch is done (into the list it yields). So no key of a batch evicts another of it,
    and Spark's state store, which updates a batch's keys apart, can follow.

    Examples
    --------
    >>> store = LruStore(2)
    >>> with evictions_deferred(store) as gone:
    ...     store.put("a", 1); store.put("b", 2); store.put("c", 3); len(store)
    3
    >>> store.keys(), store.evicted, gone
    (['b', 'c'], 1, ['a'])
    """
    limit = store.max_keys
    store.max_keys = sys.maxsize
    gone: list[Any] = []
    try:
        yield gone
    finally:
        store.max_keys = limit
        gone += store.evict_excess()


class LruStore:
    """An LRU map of per-key state with a fixed maximum size.

    Examples
    --------
    >>> store = LruStore(2)
    >>> store.put("a", 1); store.put("b", 2); store.put("c", 3)
    >>> [k for k, _ in store.items()], store.evicted
    (['b', 'c'], 1)
    """

    def __init__(self, max_keys: int) -> None:
        if max_keys < 1:
            raise ConfigError("max_keys must be at least 1")
        self.max_keys = int(max_keys)
        self.evicted = 0
        self._states: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any) -> Any:
        state = self._states.get(key)
        if state is not None:
            self._states.move_to_end(key)
        return state

    def peek(self, key: Any) -> Any:
        return self._states.get(key)

    def put(self, key: Any, state: Any) -> None:
        self._states[key] = state
        self._states.move_to_end(key)
        self.evict_excess()

    def evict_excess(self) -> list[Any]:
        gone = []
        while len(self._states) > self.max_keys:
            gone.append(self._states.popitem(last=False)[0])
            self.evicted += 1
        return gone

    def pop(self, key: Any) -> Any:
        return self._states.pop(key, None)

    def items(self) -> Iterator[tuple[Any, Any]]:
        return iter(list(self._states.items()))

    def head(self, n: int) -> list[tuple[Any, Any]]:
        return list(itertools.islice(self._states.items(), n))

    def touch(self, keys: list[Any]) -> None:
        states, to_end = self._states, self._states.move_to_end
        for key in keys:
            if key in states:
                to_end(key)

    def keys(self) -> list[Any]:
        return list(self._states)

    def __len__(self) -> int:
        return len(self._states)

    def __contains__(self, key: object) -> bool:
        return key in self._states
