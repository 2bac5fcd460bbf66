"""The step interface, step identity, and how user code errors are reported."""

from __future__ import annotations

import traceback
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from streamlearn.errors import ConfigError, UserCodeError
from streamlearn.records.batch import RecordBatch
from streamlearn.types import StepKind

if TYPE_CHECKING:
    from streamlearn.outputs import Output

__all__ = ["Step", "check_unique_ids", "name_of", "user_code_error", "user_traceback"]

_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)


def user_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` without streamlearn's own frames."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not str(Path(f.filename).resolve()).startswith(_PACKAGE_DIR)
    ]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)]
    lines.extend(traceback.format_exception_only(type(exc), exc))
    return "".join(lines)


def user_code_error(
    exc: BaseException, step: str, batch: RecordBatch, row: int | None, key: Any = None
) -> UserCodeError:
    record = batch.row(row) if row is not None else None
    position = batch.position(row) if row is not None else None
    return UserCodeError(step, batch.batch_id + 1, record, user_traceback(exc), key, position)


def name_of(fn: object, default: str) -> str:
    """The id a step takes from a user function: its name, or ``default`` for a lambda."""
    name = str(getattr(fn, "__name__", ""))
    return name if name.isidentifier() else default


def check_unique_ids(what: str, ids: Iterable[str]) -> None:
    """Refuse two parts of a pipeline with the same id, in one line.

    Examples
    --------
    >>> check_unique_ids("step", ["stats", "save", "stats"])
    Traceback (most recent call last):
    ...
    streamlearn.errors.ConfigError: two steps have the id 'stats'; give each its own step_id
    """
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ConfigError(f"two {what}s have the id {i!r}; give each its own {what}_id")
        seen.add(i)


class Step(ABC):
    """One transformation of a decoded batch.

    Every step has an id, unique in its pipeline, that names it in errors,
    summaries and checkpoints (``step_id``; by default :attr:`default_id`).
    A stateful step implements :meth:`snapshot` and :meth:`restore`, so its
    state is saved with checkpoints, and :meth:`describe` for the metrics.
    """

    #: how the step treats a batch; the Spark engine runs ``row`` steps on
    #: executors and keeps a pipeline with a ``batch`` step on the driver
    scope: ClassVar[StepKind] = "batch"
    #: the id of a step not given one
    default_id: ClassVar[str] = "step"
    #: the columns the step reads; ``None``: any (every column is then decoded)
    reads: tuple[str, ...] | None = None

    @property
    def step_id(self) -> str:
        """The step's id, unique in its pipeline."""
        return str(self.__dict__.get("_step_id") or self.default_id)

    @step_id.setter
    def step_id(self, value: str | None) -> None:
        self.__dict__["_step_id"] = value

    def outputs(self) -> list[Output]:
        """The files and folders it writes, checked before the first record is read."""
        return []

    @abstractmethod
    def apply(self, batch: RecordBatch) -> RecordBatch:
        """Transform one batch; rows may be added as columns or filtered out."""

    def snapshot(self) -> Any:
        """The step's state, to be saved in a checkpoint (``None``: stateless)."""
        return None

    def restore(self, state: Any) -> None:  # noqa: B027
        """Restore what :meth:`snapshot` returned."""

    def describe(self) -> dict[str, Any] | None:
        """What the metrics JSON shows of the step's state, or ``None``."""
        return None

    def close(self) -> None:  # noqa: B027
        """Flush and release files."""
