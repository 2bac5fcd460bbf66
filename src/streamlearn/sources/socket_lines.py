"""``socket:HOST:PORT``: line-delimited records from a TCP server.

This is what the course's current version uses: its producer is a TCP server
that writes one message per line, and Spark's ``socketTextStream`` reads it.
Each line (without its ``\\n`` or ``\\r\\n``) is one payload; positions number
the lines this run has read.

A socket has no replay: what the server sent while nobody listened is gone.
So a run resumed from a checkpoint continues from "now", numbering lines on
from the checkpoint, and says so once.
"""

from __future__ import annotations

import logging
import select
import socket
import time
from typing import Any

import numpy as np

from streamlearn.errors import ConfigError, SourceError
from streamlearn.records.batch import RawBatch
from streamlearn.sources.base import Progress, Source
from streamlearn.sources.registry import SourceSpec

__all__ = ["SocketSource", "from_spec", "parse_address"]

log = logging.getLogger(__name__)

_RECV = 1 << 20  # bytes asked of the kernel at a time
#: a line longer than this is not a record of ours: refuse rather than buffer without bound
MAX_LINE = 1 << 24


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``PORT`` alone, meaning 127.0.0.1) as a pair.

    Examples
    --------
    >>> parse_address("127.0.0.1:9999")
    ('127.0.0.1', 9999)
    >>> parse_address("9999")
    ('127.0.0.1', 9999)
    >>> parse_address("localhost:http")
    Traceback (most recent call last):
    ...
    streamlearn.errors.ConfigError: socket address 'localhost:http': the port must be a number from 1 to 65535
    """
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", text
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"socket address {text!r}: the port must be a number from 1 to 65535")
    return host or "127.0.0.1", int(port)


class SocketSource(Source):
    """Reads text lines from ``host:port``, as Spark's ``socketTextStream``.

    Parameters
    ----------
    host, port
        The server to connect to.
    count
        Stop after this many lines (``None``: until the server closes).
    connect_timeout
        Seconds to keep trying to connect before giving up (exit code 4).
    """

    kind = "socket"
    format = "auto"
    position_kind = "offset"

    def __init__(
        self, host: str, port: int, count: int | None = None, connect_timeout: float = 30.0
    ) -> None:
        self.host, self.port = host, int(port)
        self.count = count
        self.connect_timeout = float(connect_timeout)
        self.origin = f"{host}:{port}"
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._next = 0  # the number of the next line
        self._read = 0  # lines read by this run
        self._closed_by_server = False

    # -- connection ---------------------------------------------------------------
    def open(self, snapshot: dict[str, Any] | None = None) -> None:
        if snapshot:
            self._next = int(snapshot.get("next", 0))
            log.warning(
                "socket %s has no replay: resuming from now, at line %d; lines sent while "
                "the run was stopped are not read",
                self.origin,
                self._next,
            )
        self._connect()

    def _connect(self) -> None:
        deadline = time.monotonic() + self.connect_timeout
        last: OSError | None = None
        while True:
            try:
                self._sock = socket.create_connection((self.host, self.port), timeout=1.0)
                self._sock.setblocking(False)
                return
            except OSError as exc:
                last = exc
            if time.monotonic() >= deadline:
                reason = last.strerror if last is not None and last.strerror else str(last)
                raise SourceError(
                    f"socket source: nothing answers on {self.origin} after "
                    f"{self.connect_timeout:g} s ({reason})"
                )
            time.sleep(0.2)

    def reachable(self) -> bool:
        return self._sock is not None and not self._closed_by_server

    # -- reading ------------------------------------------------------------------
    def _wanted(self, max_records: int) -> int:
        if self.count is None:
            return max_records
        return max(0, min(max_records, self.count - self._read))

    def read(self, max_records: int, timeout_s: float = 1.0) -> RawBatch:
        wanted = self._wanted(max_records)
        lines: list[bytes] = []
        deadline = time.monotonic() + timeout_s
        while len(lines) < wanted:
            lines.extend(self._take_lines(wanted - len(lines)))
            if len(lines) >= wanted or self._closed_by_server or self._sock is None:
                break
            # wait for the first line up to the timeout; after that only take what is there
            wait = 0.0 if lines else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self._sock], [], [], wait)
            if not ready:
                break
            self._receive()
        if self._closed_by_server and self._buffer and len(lines) < wanted:
            lines.append(self._buffer.rstrip(b"\r"))  # a last line without "\n"
            self._buffer = b""
        first = self._next
        self._next += len(lines)
        self._read += len(lines)
        return RawBatch(
            self.origin,
            lines,
            np.zeros(len(lines), dtype=np.int32),
            np.arange(first, first + len(lines), dtype=np.int64),
        )

    def _receive(self) -> None:
        assert self._sock is not None
        try:
            chunk = self._sock.recv(_RECV)
        except BlockingIOError:
            return
        except OSError as exc:
            raise SourceError(f"socket source {self.origin}: {exc.strerror or exc}") from None
        if not chunk:
            self._closed_by_server = True
            return
        self._buffer += chunk
        if len(self._buffer) > MAX_LINE and b"\n" not in self._buffer:
            raise SourceError(
                f"socket source {self.origin}: a line longer than {MAX_LINE} bytes; "
                "is this a line-delimited server?"
            )

    def _take_lines(self, n: int) -> list[bytes]:
        end = self._buffer.rfind(b"\n")
        if end < 0:
            return []
        lines = self._buffer[:end].split(b"\n")
        if len(lines) > n:
            lines, rest = lines[:n], lines[n:]
            self._buffer = b"\n".join(rest) + self._buffer[end:]
        else:
            self._buffer = self._buffer[end + 1 :]
        return [line[:-1] if line.endswith(b"\r") else line for line in lines]

    @property
    def exhausted(self) -> bool:
        if self.count is not None and self._read >= self.count:
            return True
        return self._closed_by_server and not self._buffer

    def snapshot(self) -> dict[str, Any]:
        return {"next": self._next}

    def progress(self) -> Progress:
        return Progress(consumed=self._read, total=self.count)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "address": self.origin, "replay": False}

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def from_spec(spec: SourceSpec) -> SocketSource:
    host, port = parse_address(spec.target)
    return SocketSource(host, port, count=spec.count, connect_timeout=spec.broker_timeout)
