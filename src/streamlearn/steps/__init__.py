"""Steps applied to each decoded batch: stateless ops, the course's steps, keyed state."""

from __future__ import annotations

from streamlearn.steps.base import Step, user_traceback
from streamlearn.steps.course import CounterText, FeatureSummary
from streamlearn.steps.keyed import STATS, KeyedState, KeyedStats
from streamlearn.steps.save import SaveBatches
from streamlearn.steps.stateless import Filter, Map, MapColumns, Select

__all__ = [
    "STATS",
    "CounterText",
    "FeatureSummary",
    "Filter",
    "KeyedState",
    "KeyedStats",
    "Map",
    "MapColumns",
    "SaveBatches",
    "Select",
    "Step",
    "user_traceback",
]
