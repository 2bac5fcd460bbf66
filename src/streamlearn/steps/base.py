"""The step interface, and how user code errors are reported."""

from __future__ import annotations

import traceback
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from streamlearn.errors import UserCodeError
from streamlearn.records.batch import RecordBatch

__all__ = ["Step", "user_code_error", "user_traceback"]

_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)


def user_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` without streamlearn's own frames."""
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__)
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


class Step(ABC):
    """One transformation of a decoded batch.

    A stateful step also implements :meth:`snapshot` and :meth:`restore` so
    its state is saved with checkpoints.
    """

    name: str = "step"

    @abstractmethod
    def apply(self, batch: RecordBatch) -> RecordBatch:
        """Transform one batch; rows may be added as columns or filtered out."""

    def snapshot(self) -> Any:
        return None

    def restore(self, state: Any) -> None:  # noqa: B027
        """Restore what :meth:`snapshot` returned."""

    def describe(self) -> dict[str, Any]:
        return {"step": self.name}

    def close(self) -> None:  # noqa: B027
        """Flush and release files."""
