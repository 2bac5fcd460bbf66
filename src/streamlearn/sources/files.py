"""Replay a text file: CSV with a header line, or JSON lines.

The file is read in blocks, so memory stays bounded whatever its size (a real
HHAR ``Phones_accelerometer.csv`` is 1.3 GB). A record's position is its
1-based physical line number; ``position()`` also holds the byte offset of the
next line, so a restart seeks straight there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from streamlearn.codecs.delimited import schema_from_header
from streamlearn.codecs.json_records import infer_json_schema
from streamlearn.errors import ConfigError, SourceError
from streamlearn.records.batch import RawBatch
from streamlearn.records.schema import Schema
from streamlearn.sources.base import Progress, Source
from streamlearn.sources.registry import SourceSpec

__all__ = ["FileSource", "from_spec"]

_BLOCK = 1 << 20
_SAMPLE = 200  # rows read after the header to guess column kinds
_MAX_LINE = 1 << 26  # a longer "line" means this is not a line-based text file


class FileSource(Source):
    """Replays the lines of a CSV (with header) or JSON-lines file.

    Parameters
    ----------
    path
        The file; its name as given is the records' origin.
    format
        ``csv`` or ``json``; ``None`` guesses from the extension
        (``.json``, ``.jsonl``, ``.ndjson`` are JSON lines).
    count
        Deliver at most this many records (``None``: the whole file).
    header
        Whether a CSV file starts with a header line (skipped, and used to
        build :attr:`schema`).

    Raises
    ------
    SourceError
        ``file not found: PATH`` and other unreadable files.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(path, "w").write("a,b\\n1,2\\n\\n3,4\\n")
    >>> src = FileSource(path)
    >>> src.open()
    >>> raw = src.read(10)
    >>> raw.payloads, raw.offsets.tolist(), src.exhausted
    ([b'1,2', b'3,4'], [2, 4], True)
    """

    position_kind = "line"

    def __init__(
        self,
        path: str | os.PathLike[str],
        format: str | None = None,
        count: int | None = None,
        header: bool = True,
    ) -> None:
        self.origin = str(path)
        self.path = Path(path)
        if format is None:
            format = "json" if self.path.suffix.lower() in (".json", ".jsonl", ".ndjson") else "csv"
        if format not in ("csv", "json"):
            raise ConfigError(f"file format must be csv or json, not {format!r}")
        if count is not None and count < 0:
            raise ConfigError(f"--count must be >= 0, not {count}")
        self.kind = self.format = format
        self.count = count
        self.has_header = header and format == "csv"
        self.header: bytes | None = None
        self.schema: Schema | None = None
        self._f: IO[bytes] | None = None
        self._inspect()
        self._reset(self._first_line, self._first_byte)
        self._delivered = 0

    # -- set-up -----------------------------------------------------------------
    def _openfile(self) -> IO[bytes]:
        try:
            return self.path.open("rb")
        except FileNotFoundError:
            raise SourceError(f"file not found: {self.origin}") from None
        except IsADirectoryError:
            raise SourceError(f"not a file: {self.origin}") from None
        except OSError as exc:
            raise SourceError(f"cannot read {self.origin}: {exc.strerror or exc}") from None

    def _inspect(self) -> None:
        """Read the header and a sample: the schema, and where data starts."""
        with self._openfile() as f:
            first = f.readline()
            self._first_line, self._first_byte = 1, 0
            if self.has_header:
                if not first.strip():
                    raise SourceError(f"empty file or header: {self.origin}")
                self.header = first.rstrip(b"\r\n").removeprefix(b"\xef\xbb\xbf")
                self._first_line, self._first_byte = 2, len(first)
                sample = [line for line in (f.readline() for _ in range(_SAMPLE)) if line.strip()]
                self.schema = schema_from_header(self.header, sample)
                return
            line = first
            for _ in range(_SAMPLE if self.kind == "json" else 0):
                try:
                    obj = orjson.loads(line)
                except orjson.JSONDecodeError:
                    obj = None
                if isinstance(obj, dict):
                    self.schema = infer_json_schema(obj)
                    return
                line = f.readline()
                if not line:
                    return

    def _reset(self, line: int, byte: int) -> None:
        self._line = line  # number of the next line not yet delivered
        self._byte = byte  # its byte offset
        self._pending: list[bytes] = []
        self._at = 0  # index of the next pending line
        self._tail = b""
        self._eof = False
        self._clean = True

    def open(self, snapshot: dict[str, Any] | None = None) -> None:
        self.close()
        line, byte = self._first_line, self._first_byte
        delivered = 0
        if snapshot:
            try:
                line, byte = int(snapshot["line"]), int(snapshot["byte"])
                delivered = int(snapshot.get("delivered", 0))
            except (KeyError, TypeError, ValueError):
                raise ConfigError(f"bad file position to resume from: {snapshot!r}") from None
            if line < 1 or byte < 0:
                raise ConfigError(f"bad file position to resume from: {snapshot!r}")
        self._f = self._openfile()
        self._f.seek(byte)
        self._reset(line, byte)
        self._delivered = delivered

    # -- reading ------------------------------------------------------------------
    def _fill(self) -> bool:
        """Read the next block into pending lines; False at the end of the file."""
        assert self._f is not None
        while True:
            data = self._f.read(_BLOCK)
            chunk = self._tail + data
            if not data:
                self._eof = True
                lines, self._tail = ([chunk] if chunk else []), b""
            else:
                lines = chunk.split(b"\n")
                self._tail = lines.pop()
                if len(self._tail) > _MAX_LINE:
                    raise SourceError(
                        f"{self.origin}:{self._line}: line longer than {_MAX_LINE} bytes"
                    )
            if lines:
                # Clean: no CR, and no line empty or starting with a blank
                # (whitespace sorts before text, so the smallest line tells).
                first = min(lines)
                self._clean = bool(first) and first[0] > 32 and b"\r" not in chunk
                self._pending, self._at = lines, 0
                return True
            if self._eof:
                return False

    def read(self, max_records: int, timeout_s: float = 1.0) -> RawBatch:
        if self._f is None:
            self.open()
        want = max_records
        if self.count is not None:
            want = min(want, self.count - self._delivered)
        payloads: list[bytes] = []
        offsets: list[np.ndarray] = []
        while len(payloads) < want and not self._eof_reached():
            if self._at >= len(self._pending) and not self._fill():
                break
            take = self._pending[self._at : self._at + want - len(payloads)]
            if self._clean:  # the common case: nothing to strip or skip
                payloads += take
                offsets.append(np.arange(self._line, self._line + len(take), dtype=np.int64))
                self._advance(take, len(take))
                continue
            kept: list[int] = []
            for i, line in enumerate(take):
                if line.endswith(b"\r"):
                    line = line[:-1]
                if line and (line[0] > 32 or line.strip()):  # skip blank lines
                    payloads.append(line)
                    kept.append(self._line + i)
            offsets.append(np.asarray(kept, dtype=np.int64))
            self._advance(take, len(take))
        self._delivered += len(payloads)
        offs = np.concatenate(offsets) if offsets else np.zeros(0, dtype=np.int64)
        return RawBatch(
            self.origin,
            payloads,
            np.zeros(len(payloads), dtype=np.int32),
            offs,
            position_kind="line",
        )

    def _advance(self, lines: list[bytes], n: int) -> None:
        self._at += n
        self._line += n
        self._byte += sum(map(len, lines)) + n
        if self._eof and self._at >= len(self._pending):
            # the very last line had no newline: do not count one
            self._byte = min(self._byte, self._size())

    def _size(self) -> int:
        assert self._f is not None
        return os.fstat(self._f.fileno()).st_size

    def _eof_reached(self) -> bool:
        return self._eof and self._at >= len(self._pending)

    @property
    def exhausted(self) -> bool:
        if self.count is not None and self._delivered >= self.count:
            return True
        if self._f is None or self._at < len(self._pending) or self._tail:
            return False
        if not self._eof:
            # peek: a file that ends right here is exhausted now, not after one more read
            self._fill()
        return self._eof_reached()

    def snapshot(self) -> dict[str, Any]:
        return {"line": self._line, "byte": self._byte, "delivered": self._delivered}

    def progress(self) -> Progress:
        return Progress(consumed=self._delivered, total=self.count)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.origin,
            "line": self._line,
            "records": self._delivered,
        }

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None


def from_spec(spec: SourceSpec) -> FileSource:
    """The ``csv:PATH`` and ``json:PATH`` sources."""
    return FileSource(spec.target, format=spec.kind)
