"""Keyed statistics flattened into one small table for the page."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["stats_table"]

#: rows shown at most: the page is for looking, the metrics JSON has them all
MAX_ROWS = 200


def _cell(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    try:  # numpy scalars
        return _cell(value.item())
    except (AttributeError, ValueError):
        pass
    if isinstance(value, list | tuple):
        return f"[{len(value)} values]"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def stats_table(keyed: dict[str, Any] | None, max_rows: int = MAX_ROWS) -> dict[str, Any] | None:
    """Rows of ``step, key, column, stat...`` from keyed step summaries.

    Parameters
    ----------
    keyed
        ``{step name: summary}`` as ``BatchProcessor.keyed_summary()`` returns:
        :class:`~streamlearn.steps.KeyedStats` gives ``{"keys": {key: {column:
        {stat: value}}}, "evicted_keys": n}``; other keyed steps give ``{key:
        state}``.
    max_rows
        Rows kept; the rest are counted in ``more``.

    Returns
    -------
    dict or None
        ``{"columns", "rows", "more", "evicted"}``, or ``None`` without statistics.
    """
    if not keyed:
        return None
    stat_names: list[str] = []
    raw_rows: list[tuple[str, str, str, dict[str, Any]]] = []
    total = evicted = 0

    def add(step: str, key: str, column: str, values: dict[str, Any]) -> None:
        nonlocal total
        total += 1
        if len(raw_rows) < max_rows:  # count the rest, keep only the first rows
            raw_rows.append((step, key, column, values))

    for step, summary in keyed.items():
        if not isinstance(summary, dict):
            add(str(step), "", "", {"value": summary})
            continue
        if isinstance(summary.get("keys"), dict):
            evicted += int(summary.get("evicted_keys") or 0)
            for key, columns in summary["keys"].items():
                for column, stats in (columns or {}).items():
                    add(
                        str(step),
                        str(key),
                        str(column),
                        stats if isinstance(stats, dict) else {"value": stats},
                    )
        else:
            for key, state in summary.items():
                add(str(step), str(key), "", {"value": state})
    for *_, values in raw_rows:
        stat_names.extend(s for s in values if s not in stat_names)
    rows = [
        [step, key, column, *(_cell(values.get(s)) for s in stat_names)]
        for step, key, column, values in raw_rows
    ]
    return {
        "columns": ["step", "key", "column", *stat_names],
        "rows": rows,
        "more": total - len(rows),
        "evicted": evicted,
    }
