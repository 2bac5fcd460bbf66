"""The ``--metrics-json`` file."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import orjson

from streamlearn.sinks.files import atomic_write_bytes

__all__ = ["json_safe", "write_metrics_json"]


def json_safe(value: Any) -> Any:
    """NaN and inf become ``null``: JSON has no spelling for them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def write_metrics_json(path: str | Path, summary: dict[str, Any]) -> None:
    data = orjson.dumps(
        json_safe(summary), option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_SORT_KEYS
    )
    atomic_write_bytes(Path(path), data + b"\n")
