"""The ``--metrics-json`` file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from streamlearn.sinks.files import atomic_write_bytes

__all__ = ["write_metrics_json"]


def write_metrics_json(path: str | Path, summary: Mapping[str, Any]) -> None:
    """Write ``summary`` as indented, key-sorted JSON (NaN and infinity as ``null``), atomically."""
    data = orjson.dumps(
        summary,
        option=orjson.OPT_INDENT_2
        | orjson.OPT_SERIALIZE_NUMPY
        | orjson.OPT_SORT_KEYS
        | orjson.OPT_NON_STR_KEYS,
    )
    atomic_write_bytes(Path(path), data + b"\n")
