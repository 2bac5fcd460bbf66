"""Steps applied to each decoded batch: stateless ops, the course's steps, keyed state."""

from __future__ import annotations

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
