"""Where records come from: a registry of kinds (memory, generators, files, Kafka...).

See :mod:`streamlearn.sources.registry` for the ``--source`` kinds; Kafka's
source lives in :mod:`streamlearn.kafka`.
"""

from __future__ import annotations

from streamlearn.sources.base import Progress, Replay, Source
from streamlearn.sources.memory import MemorySource
from streamlearn.sources.registry import (
    SourceKind,
    SourceSpec,
    build_source,
    is_endless,
    parse_source,
    register_source,
    source_kinds,
)

__all__ = [
    "MemorySource",
    "Progress",
    "Replay",
    "Source",
    "SourceKind",
    "SourceSpec",
    "build_source",
    "is_endless",
    "parse_source",
    "register_source",
    "source_kinds",
]
