"""Errors that streamlearn reports to users as one clear line."""

from __future__ import annotations

__all__ = [
    "EXIT_CODES",
    "ConfigError",
    "EngineError",
    "MissingExtraError",
    "SourceError",
    "StreamlearnError",
    "Terminated",
    "UserCodeError",
]

#: what a finished ``streamlearn`` command's exit code means
EXIT_CODES: dict[int, str] = {
    0: "the run completed",
    1: "a bug of ours (internal error)",
    2: "bad configuration or output path, found before the first record",
    4: "a source, broker, engine or user-code failure during the run",
    130: "interrupted by SIGINT (Ctrl-C), after writing the summary",
    143: "interrupted by SIGTERM, after writing the summary",
}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where a run cannot stop at a batch boundary (exit code 143)."""


class StreamlearnError(Exception):
    """Base class of errors that the CLI prints as one line and exits non-zero."""

    exit_code = 2


class ConfigError(StreamlearnError):
    """A bad flag, a bad model spec or an inconsistent configuration."""


class SourceError(StreamlearnError):
    """A source cannot be opened or read: a missing file, topic or broker."""

    exit_code = 4


class EngineError(StreamlearnError):
    """The engine failed during the run (a Spark query failed): the last checkpoint is kept."""

    exit_code = 4


class MissingExtraError(StreamlearnError):
    """An optional integration is used but its extra is not installed."""

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(f"{what} needs the '{extra}' extra: pip install 'streamlearn[{extra}]'")


class UserCodeError(StreamlearnError):
    """A user-supplied function raised while processing a record.

    The message names the step, the batch, the key (if any) and the record; the
    user's own traceback is kept in ``user_traceback``.
    """

    exit_code = 4

    def __init__(
        self,
        step: str,
        batch_id: int,
        record: object,
        user_traceback: str,
        key: object | None = None,
        position: str | None = None,
    ) -> None:
        where = f"step '{step}', batch {batch_id}"
        if key is not None:
            where += f", key {key!r}"
        if position is not None:
            where += f", record at {position}"
        super().__init__(f"user code failed in {where}: {record!r}")
        self.step = step
        self.batch_id = batch_id
        self.record = record
        self.key = key
        self.position = position
        self.user_traceback = user_traceback
