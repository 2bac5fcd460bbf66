"""What the Spark engine tells users: the ``source`` entry, and failures in one line."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from streamlearn import errors as sl_errors
from streamlearn.errors import EngineError, StreamlearnError
from streamlearn.sources.base import Source

if TYPE_CHECKING:
    from streamlearn.engines.spark.driver_state import DriverState

__all__ = [
    "batch_ms",
    "describe_source",
    "final_offset",
    "from_spark",
    "state_keys",
    "translate_failure",
]


def final_offset(query: Any) -> dict[str, Any] | None:
    """The end offset of the query's last batch, as the source wrote it."""
    progress = query.lastProgress if query is not None else None
    if not progress or not progress.get("sources"):
        return None
    for source in progress["sources"]:
        end = source.get("endOffset")
        if isinstance(end, str):
            try:
                end = json.loads(end)
            except ValueError:
                continue
        if isinstance(end, dict) and set(end) != {"upto"}:  # not the evictions' (.evictions)
            return end
    return None


def describe_source(
    source: Source, state: DriverState, end: dict[str, Any] | None
) -> dict[str, Any]:
    """The metrics JSON's ``source``, with the keys the local engine's source gives."""
    if source.replay == "log":
        topic: str = source.topic  # type: ignore[attr-defined]
        ends = {str(p): o for p, o in sorted(state.after.items())}
        if end is not None:
            known = end.get("kafka", end.get(topic, {}))
            for p, o in known.items():
                ends[str(p)] = max(int(o), ends.get(str(p), 0))
        starts = {p: state.first.get(int(p), o) for p, o in ends.items()}
        return {
            "kind": "kafka",
            "topic": topic,
            "bootstrap": source.bootstrap,  # type: ignore[attr-defined]
            "group_id": source.group_id,  # type: ignore[attr-defined]
            "start_offsets": starts,
            "end_offsets": ends,
        }
    if end is not None and isinstance(end.get("pos"), dict):
        # files describe where they stand: open at the final position to ask
        try:
            source.open(snapshot=end["pos"])
            return source.describe()
        finally:
            source.close()
    return source.describe()


_PY_ERROR = re.compile(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception)): (.+)$", re.MULTILINE)


def from_spark(exc: BaseException) -> bool:
    """Whether ``exc`` came out of Spark (a JVM or query error) rather than our own code."""
    module = type(exc).__module__
    return module.startswith(("py4j", "pyspark"))


def translate_failure(exc: BaseException) -> BaseException:
    """A Spark query failure as one of our errors, without the JVM stack.

    Errors raised by our Python code on Spark's side (a missing topic, an
    unreachable broker) arrive inside the JVM's message; the last Python
    exception line in it is what the user needs.
    """
    text = str(exc)
    found = _PY_ERROR.findall(text)
    for name, message in reversed(found):
        cls = getattr(sl_errors, name, None)
        if isinstance(cls, type) and issubclass(cls, StreamlearnError):
            try:
                return cls(message.strip())
            except TypeError:
                return StreamlearnError(message.strip())
    line = found[-1] if found else ("", text.strip().splitlines()[0] if text.strip() else repr(exc))
    what = f"{line[0]}: {line[1]}" if line[0] else line[1]
    return EngineError(f"the Spark query failed: {what}")


def batch_ms(query: Any, driver_s: list[float]) -> dict[str, float]:
    """Where a micro-batch's time goes, in ms on average over Spark's recent batches (those
    that ran: with the driver reading records, Spark's rows count none): Spark's own phases (``durationMs``: the data source's offsets and
    batch, planning, the write-ahead log and commit, ``addBatch``: running it) and, of
    ``addBatch``, the driver's share (``driver_s``: decoding, the race, sinks, checkpoint)."""
    progress = [p for p in (query.recentProgress if query else []) or []]
    batches = [p for p in progress if "addBatch" in (p.get("durationMs") or {})]
    out: dict[str, float] = {}
    for p in batches:
        for phase, ms in p["durationMs"].items():
            out[phase] = out.get(phase, 0.0) + float(ms) / len(batches)
    if driver_s:
        out["driver"] = 1000 * sum(driver_s) / len(driver_s)
    return out


def state_keys(query: Any) -> int | None:
    """Groups held in Spark's state store after the last micro-batch (keys of keyed steps
    and per-key races, race models); ``None`` without keyed state."""
    progress = (query.recentProgress if query else []) or []
    for p in reversed(progress):
        operators = p.get("stateOperators") or []
        if operators:
            return sum(int(o.get("numRowsTotal", 0)) for o in operators)
    return None
