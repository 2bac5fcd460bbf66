"""What streamlearn makes of a source, before anything runs: ``streamlearn inspect``.

:func:`inspect_source` reads a sample of the source's first records and
reports the detected format and layout, each column's type and role, a few
decoded rows and the dead letters the sample would produce, with reasons.

Examples
--------
>>> from streamlearn import Pipeline
>>> report = inspect_source(Pipeline("linear", until="count:100"), rows=1)
>>> report["format"], [c["role"] for c in report["columns"]][:3], report["dead_letters"]
('literal', ['unused', 'target', 'feature'], [])
"""

from __future__ import annotations

import math
from typing import Any

from streamlearn.codecs.infer import parse_types
from streamlearn.codecs.layout import SAMPLE
from streamlearn.codecs.settle import Choices, settle
from streamlearn.pipeline import Pipeline
from streamlearn.records.batch import RawBatch
from streamlearn.sources.base import Source

__all__ = ["inspect_source"]

#: dead letters listed in full; the rest are counted
SHOWN_DEAD = 20


def _sample(source: Source, n: int) -> RawBatch:
    parts: list[RawBatch] = []
    got = 0
    while got < n and not source.exhausted:
        raw = source.read(n - got, 2.0)
        if not len(raw):
            break
        parts.append(raw)
        got += len(raw)
    return RawBatch.concat(parts) if parts else RawBatch.empty(source.origin, source.position_kind)


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    return None if isinstance(value, float) and not math.isfinite(value) else value


def inspect_source(pipeline: Pipeline, rows: int = 5, sample: int = SAMPLE) -> dict[str, Any]:
    """Read the first ``sample`` records of the pipeline's source and say how they would be read.

    Nothing is learned or written, and the source is read apart (a topic's
    offsets are not committed).
    """
    source = pipeline.build_source()
    source.open()
    try:
        raw = _sample(source, sample)
        described = source.describe()
    finally:
        source.close()
    choices = Choices(
        target=pipeline.target,
        features=pipeline.features,
        categorical=pipeline.categorical,
        key=pipeline.key,
        types=parse_types(pipeline.types),
        nonfinite=pipeline.nonfinite,
        delimiter=pipeline.delimiter,
        header=pipeline.header,
        columns=pipeline.columns,
    )
    format = pipeline.format or source.format
    payloads = raw.payloads if raw.table is None else []
    found = settle(
        format,
        payloads,
        choices,
        pipeline.schema or source.schema,
        getattr(source, "layout", None),
        source.origin,
    )
    report: dict[str, Any] = {"source": described, "sample": len(raw)}
    if found is None:
        why = "not a record in any known format"
        dead = [raw.dead_letter(i, why) for i in range(len(raw))]
        report.update(format=None, columns=[], rows=[])
    else:
        batch, dead = found.codec.decode(raw)
        report.update(found.describe())
        report["columns"] = report.pop("fields")
        report["rows"] = [
            {k: _plain(v) for k, v in batch.row(i).items()} for i in range(min(rows, len(batch)))
        ]
    report["dead_letter_count"] = len(dead)
    report["dead_letters"] = [
        {"position": d.position, "reason": d.reason, "raw": d.to_dict()["raw"]}
        for d in dead[:SHOWN_DEAD]
    ]
    return report
