"""Steps applied to each decoded batch: stateless ops, the course's steps, keyed state.

Names are imported on first use (keyed steps need pandas).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from streamlearn._lazy import exports

if TYPE_CHECKING:
    from streamlearn.steps.base import Step, check_unique_ids, user_traceback
    from streamlearn.steps.course import CounterText, FeatureSummary
    from streamlearn.steps.keyed import GLOBAL_KEY, STATS, KeyedState, KeyedStats, KeyedStep
    from streamlearn.steps.save import SaveBatches
    from streamlearn.steps.stateless import Filter, Map, MapColumns, Select
    from streamlearn.steps.store import KeyedStore, LruStore

__all__ = [
    "GLOBAL_KEY",
    "STATS",
    "CounterText",
    "FeatureSummary",
    "Filter",
    "KeyedState",
    "KeyedStats",
    "KeyedStep",
    "KeyedStore",
    "LruStore",
    "Map",
    "MapColumns",
    "SaveBatches",
    "Select",
    "Step",
    "check_unique_ids",
    "user_traceback",
]

_HOMES = {
    "Step": "base",
    "check_unique_ids": "base",
    "user_traceback": "base",
    "CounterText": "course",
    "FeatureSummary": "course",
    "GLOBAL_KEY": "keyed",
    "STATS": "keyed",
    "KeyedState": "keyed",
    "KeyedStats": "keyed",
    "KeyedStep": "keyed",
    "SaveBatches": "save",
    "Filter": "stateless",
    "Map": "stateless",
    "MapColumns": "stateless",
    "Select": "stateless",
    "KeyedStore": "store",
    "LruStore": "store",
}

__getattr__, __dir__ = exports(__name__, _HOMES, __all__)
