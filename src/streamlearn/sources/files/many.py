"""A directory or a glob of files, read as one stream in name order (as Spark's file source does).

The position names the file being read (its index and name) and the
position inside it, so a restart continues in the right file at the right
record: every record exactly once across files. Each file is a partition:
a dead letter names its own file and line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from streamlearn.errors import ConfigError
from streamlearn.records.batch import RawBatch
from streamlearn.sources.base import Progress, Source

__all__ = ["ManyFiles"]


class ManyFiles(Source):
    """The records of several files, one file after the other, in name order.

    Parameters
    ----------
    origin
        What the user named: the directory or the glob.
    paths
        The files, sorted.
    open_file
        Makes the source of one file; every file is read the same way as
        the first (its format and layout), and a different header is an error.
    count
        Deliver at most this many records in all.
    """

    def __init__(
        self,
        origin: str,
        paths: Sequence[Path],
        open_file: Callable[[Path], Source],
        count: int | None = None,
    ) -> None:
        if not paths:
            raise ConfigError(f"no file to read in {origin}")
        self.origin = origin
        self.paths = list(paths)
        self._open_file = open_file
        self.count = count
        first = open_file(self.paths[0])
        self._first = first
        self.kind, self.format, self.position_kind = first.kind, first.format, first.position_kind
        self.schema = first.schema
        self.layout = getattr(first, "layout", None)
        self.compression = getattr(first, "compression", None)
        self._index = 0
        self._current: Source | None = None
        self._delivered = 0

    def peek(self, n: int) -> list[bytes] | None:
        peek = getattr(self._first, "peek", None)
        return peek(n) if peek is not None else None

    def _file(self, index: int, inner: dict[str, Any] | None) -> Source:
        src = (
            self._first
            if index == 0 and self._first is not None
            else self._open_file(self.paths[index])
        )
        header, layout = getattr(src, "header", None), getattr(src, "layout", None)
        if self.layout is not None and layout is not None and layout != self.layout:
            raise ConfigError(
                f"{src.origin} is laid out differently from {self.paths[0]} "
                f"(header {header!r}); read the files separately"
            )
        src.open(snapshot=inner)
        return src

    def open(self, snapshot: dict[str, Any] | None = None) -> None:
        self.close()
        self._index, inner, self._delivered = 0, None, 0
        if snapshot:
            try:
                self._index, inner = int(snapshot["file"]), snapshot["inner"]
                self._delivered = int(snapshot["delivered"])
            except (KeyError, TypeError, ValueError):
                raise ConfigError(f"bad file position to resume from: {snapshot!r}") from None
            name = snapshot.get("name")
            if (
                self._index < len(self.paths)
                and name is not None
                and str(self.paths[self._index]) != name
            ):
                raise ConfigError(
                    f"the checkpoint was reading {name}, but file {self._index + 1} of {self.origin} "
                    f"is now {self.paths[self._index]}: the files changed; use a new --checkpoint folder"
                )
        if self._index < len(self.paths):
            self._current = self._file(self._index, inner)

    def read(self, max_records: int, timeout_s: float = 1.0) -> RawBatch:
        want = max_records if self.count is None else min(max_records, self.count - self._delivered)
        parts: list[RawBatch] = []
        got = 0
        while got < want and self._current is not None:
            raw = self._current.read(want - got, timeout_s)
            if len(raw):
                raw.partitions[:] = self._index
                raw.origins = {self._index: str(self.paths[self._index])}
                parts.append(raw)
                got += len(raw)
            if self._current.exhausted:
                self._next_file()
            elif not len(raw):
                break
        self._delivered += got
        if not parts:
            return RawBatch.empty(self.origin, self.position_kind)
        batch = RawBatch.concat(parts, origin=self.origin)
        return batch

    def _next_file(self) -> None:
        assert self._current is not None
        self._current.close()
        self._current = None
        self._index += 1
        if self._index < len(self.paths):
            self._current = self._file(self._index, None)

    @property
    def exhausted(self) -> bool:
        if self.count is not None and self._delivered >= self.count:
            return True
        while self._current is not None and self._current.exhausted:
            self._next_file()
        return self._current is None

    def snapshot(self) -> dict[str, Any]:
        inner = self._current.snapshot() if self._current is not None else None
        name = str(self.paths[self._index]) if self._index < len(self.paths) else None
        return {"file": self._index, "name": name, "inner": inner, "delivered": self._delivered}

    def progress(self) -> Progress:
        return Progress(consumed=self._delivered, total=self.count)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.origin,
            "files": len(self.paths),
            "file": min(self._index + 1, len(self.paths)),
            "records": self._delivered,
        }

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
