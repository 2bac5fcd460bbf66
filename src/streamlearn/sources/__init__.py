"""Where records come from: a registry of kinds (memory, generators, files, Kafka...).

See :mod:`streamlearn.sources.registry` for the ``--source`` kinds; Kafka's
source lives in :mod:`streamlearn.kafka`. Names load on first use, so the
command line can list the kinds without loading NumPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from streamlearn._lazy import exports

if TYPE_CHECKING:
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
        source_usage,
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
    "source_usage",
]

_HOMES = {
    "Progress": "base",
    "Replay": "base",
    "Source": "base",
    "MemorySource": "memory",
    **{
        name: "registry"
        for name in (
            "SourceKind",
            "SourceSpec",
            "build_source",
            "is_endless",
            "parse_source",
            "register_source",
            "source_kinds",
            "source_usage",
        )
    },
}

__getattr__, __dir__ = exports(__name__, _HOMES, __all__)
