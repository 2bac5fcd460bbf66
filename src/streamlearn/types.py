"""The closed sets of values streamlearn takes, as ``Literal`` types.

Each has a tuple of its values for checks and help texts, and a
:func:`check` that turns a wrong value into one clear line.

Examples
--------
>>> check("granularity", "record", GRANULARITIES)
'record'
>>> check("task", "clustering", TASKS)
Traceback (most recent call last):
...
streamlearn.errors.ConfigError: --task must be one of regression, classification, not 'clustering'
"""

from __future__ import annotations

from typing import Literal, TypeVar, get_args

from streamlearn.errors import ConfigError

__all__ = [
    "FIELD_KINDS",
    "GRANULARITIES",
    "NONFINITE",
    "POSITION_KINDS",
    "STEP_KINDS",
    "TASKS",
    "UNTIL_MODES",
    "FieldKind",
    "Granularity",
    "Nonfinite",
    "PositionKind",
    "StepKind",
    "Task",
    "UntilMode",
    "check",
]

#: what a race learns
Task = Literal["regression", "classification"]
#: ``record``: each record predicted with everything before it; ``batch``: with the model before the batch
Granularity = Literal["record", "batch"]
#: what happens to NaN and inf in numeric fields
Nonfinite = Literal["dead-letter", "keep"]
#: when a run stops
UntilMode = Literal["end", "idle", "count"]
#: ``offset``: partition and offset (Kafka, generators); ``line``: a text file's line number;
#: ``row``: a Parquet or Arrow file's row group (partition) and row (offset)
PositionKind = Literal["offset", "line", "row"]
#: a decoded field's type
FieldKind = Literal["float", "int", "str"]
#: how a step treats a batch: ``row`` transforms row by row (safe on any part of a batch);
#: ``observe`` returns it unchanged (its effect is state or files); ``batch`` needs all of it
StepKind = Literal["row", "observe", "batch"]

TASKS: tuple[Task, ...] = get_args(Task)
GRANULARITIES: tuple[Granularity, ...] = get_args(Granularity)
NONFINITE: tuple[Nonfinite, ...] = get_args(Nonfinite)
UNTIL_MODES: tuple[UntilMode, ...] = get_args(UntilMode)
POSITION_KINDS: tuple[PositionKind, ...] = get_args(PositionKind)
FIELD_KINDS: tuple[FieldKind, ...] = get_args(FieldKind)
STEP_KINDS: tuple[StepKind, ...] = get_args(StepKind)

_T = TypeVar("_T", bound=str)


def check(what: str, value: object, allowed: tuple[_T, ...]) -> _T:
    """``value`` if it is one of ``allowed``, else a :class:`ConfigError` naming ``--what``."""
    if value in allowed:
        return value  # type: ignore[return-value]
    raise ConfigError(f"--{what} must be one of {', '.join(allowed)}, not {value!r}")
