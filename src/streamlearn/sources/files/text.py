"""Replay a text file of records: delimited (CSV, TSV, ...) or JSON lines, plain or compressed.

The file is read in blocks, so memory stays bounded whatever its size (a real
HHAR ``Phones_accelerometer.csv`` is 1.3 GB). A record's position is its
1-based physical line number; :meth:`FileSource.snapshot` also holds the
byte offset of the next line (in the decompressed text), so a restart seeks
straight there (or reads up to it, for a compressed file).

The first lines decide how a delimited file is cut (delimiter, header,
names; see :func:`~streamlearn.codecs.layout.sniff_layout`) and, by
majority, each column's type.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from streamlearn.codecs.infer import assign_roles, infer_delimited, infer_json
from streamlearn.codecs.layout import SAMPLE, Layout, rows_of, sniff_layout
from streamlearn.errors import ConfigError, SourceError
from streamlearn.records.batch import RawBatch
from streamlearn.records.schema import Schema
from streamlearn.sources.base import Progress, Source
from streamlearn.sources.files.compressed import (
    Compression,
    compression_of,
    open_binary,
    skip_to,
    stem,
)

__all__ = ["JSON_SUFFIXES", "TEXT_FORMATS", "FileSource"]

_BLOCK = 1 << 20
_MAX_LINE = 1 << 26  # a longer "line" means this is not a line-based text file
#: extensions of JSON-lines files (after any compression extension)
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
TEXT_FORMATS = ("csv", "json")


class FileSource(Source):
    """Replays the lines of a delimited text file (with a header, or not) or of a JSON-lines file.

    Parameters
    ----------
    path
        The file, plain or compressed (gzip, bz2, xz, zstd, zip); its name as
        given is the records' origin.
    format
        ``csv`` (any delimiter) or ``json``; ``None`` decides from the
        extension (``.json``, ``.jsonl``, ``.ndjson`` are JSON lines).
    count
        Deliver at most this many records (``None``: the whole file).
    delimiter, header, columns
        How a delimited file is cut, when the first lines should not decide:
        ``header=False`` (``--no-header``) names columns ``c0, c1, ...``;
        ``columns`` names them (``--columns``).

    Attributes
    ----------
    layout
        The delimiter, header and column names (delimited files).
    schema
        Fields typed by majority over the first lines, with guessed roles.

    Raises
    ------
    SourceError
        ``file not found: PATH`` and other unreadable files.
    ConfigError
        A delimited file whose first lines cannot be read as records.

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
        delimiter: str | None = None,
        header: bool | None = None,
        columns: tuple[str, ...] | list[str] | None = None,
    ) -> None:
        self.origin = str(path)
        self.path = Path(path)
        self.compression: Compression | None = compression_of(self.path)
        if format is None:
            format = "json" if Path(stem(self.path)).suffix.lower() in JSON_SUFFIXES else "csv"
        if format not in TEXT_FORMATS:
            raise ConfigError(f"a text file is csv or json, not {format!r}")
        if count is not None and count < 0:
            raise ConfigError(f"--count must be >= 0, not {count}")
        self.kind = self.format = format
        self.count = count
        self.layout: Layout | None = None
        self.header: bytes | None = None
        self.schema: Schema | None = None
        self._sample: list[bytes] = []
        self._f: IO[bytes] | None = None
        self._inspect(delimiter, header, columns)
        self._reset(self._first_line, self._first_byte)
        self._delivered = 0

    # -- set-up -----------------------------------------------------------------
    def _first_lines(self, n: int) -> list[bytes]:
        with open_binary(self.path, self.compression) as f:
            lines = []
            for _ in range(n):
                line = f.readline(_MAX_LINE)
                if not line:
                    break
                lines.append(line)
        if lines and b"\x00" in lines[0][:4096]:
            raise ConfigError(
                f"{self.origin} is not a text file (it holds NUL bytes); for Parquet or Arrow use parquet:PATH or arrow:PATH"
            )
        return lines

    def _inspect(self, delimiter: str | None, header: bool | None, columns: Any) -> None:
        """Read the first lines: the layout and schema, and where the data starts."""
        lines = self._first_lines(SAMPLE + 1)
        self._first_line, self._first_byte = 1, 0
        if self.format == "json":
            self._sample = [x.rstrip(b"\r\n") for x in lines if x.strip()]
            objects = []
            for line in self._sample:
                try:
                    objects.append(orjson.loads(line))
                except orjson.JSONDecodeError:
                    continue
            self.schema = assign_roles(infer_json(objects)) if objects else None
            return
        if not any(x.strip() for x in lines):
            raise SourceError(f"empty file: {self.origin}")
        names = tuple(columns) if columns is not None else None
        self.layout = sniff_layout(lines, delimiter, header, names, origin=self.origin)
        data = lines
        if self.layout.header:
            first = next(i for i, x in enumerate(lines) if x.strip())
            self.header = lines[first].rstrip(b"\r\n").removeprefix(b"\xef\xbb\xbf")
            self._first_line = first + 2
            self._first_byte = sum(map(len, lines[: first + 1]))
            data = lines[first + 1 :]
        self._sample = [x.rstrip(b"\r\n") for x in data if x.strip()]
        rows = rows_of(data, Layout(self.layout.delimiter, False, self.layout.names))
        self.schema = assign_roles(infer_delimited(rows, self.layout))

    def peek(self, n: int) -> list[bytes]:
        """The first ``n`` records (at most the sample read at start), without moving."""
        return self._sample[:n]

    def _reset(self, line: int, byte: int) -> None:
        self._line = line  # number of the next line not yet delivered
        self._byte = byte  # its byte offset in the decompressed text
        self._pending: list[bytes] = []
        self._at = 0  # index of the next pending line
        self._tail = b""
        self._eof = False
        self._clean = True
        self._read_to = byte  # decompressed bytes read from the stream so far

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
        self._f = open_binary(self.path, self.compression)
        skip_to(self._f, byte, plain=self.compression is None)
        self._reset(line, byte)
        self._delivered = delivered

    # -- reading ------------------------------------------------------------------
    def _fill(self) -> bool:
        """Read the next block into pending lines; False at the end of the file."""
        assert self._f is not None
        while True:
            data = self._f.read(_BLOCK)
            self._read_to += len(data)
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
            self._byte = min(self._byte, self._read_to)

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
        out: dict[str, Any] = {
            "kind": self.kind,
            "path": self.origin,
            "line": self._line,
            "records": self._delivered,
        }
        if self.compression is not None:
            out["compression"] = self.compression
        if self.layout is not None:
            out["delimiter"] = self.layout.delimiter
            out["header"] = self.layout.header
        return out

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None
