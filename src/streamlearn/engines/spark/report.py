"""What the Spark engine tells users: the ``source`` entry, and failures in one line."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from streamlearn import errors as sl_errors
from streamlearn.errors import StreamlearnError
from streamlearn.sources.base import Source

if TYPE_CHECKING:
    from streamlearn.engines.spark.driver_state import DriverState

__all__ = ["describe_source", "final_offset", "translate_failure"]


def final_offset(query: Any) -> dict[str, Any] | None:
    """The end offset of the query's last batch, as the source wrote it."""
    progress = query.lastProgress if query is not None else None
    if not progress or not progress.get("sources"):
        return None
    end = progress["sources"][0].get("endOffset")
    if isinstance(end, str):
        try:
            end = json.loads(end)
        except ValueError:
            return None
    return end if isinstance(end, dict) else None


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
    return StreamlearnError(f"the Spark query failed: {what}")
