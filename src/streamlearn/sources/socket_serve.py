"""Serve records as lines on a TCP port, as the course's current producer does.

The course's producer is a TCP server on port 9999 that sends each message
on one line (``np.array2string(..., separator=",", max_line_width=1000)``
plus ``\\n``) to the one client that connects, Spark's ``socketTextStream``.
:class:`LineServer` does the same on 127.0.0.1: one client at a time; when
the client goes away, the server waits for the next one and goes on.

Records are sent a batch at a time. A batch the client did not take whole
(it disconnected in the middle) is sent again, from its start, to the next
client: a client never sees half a line, and may see again at most the lines
of one batch.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
from collections.abc import Sequence

from streamlearn.errors import ConfigError

__all__ = ["LineServer"]

log = logging.getLogger(__name__)


class LineServer:
    """A one-client-at-a-time TCP server of text lines on 127.0.0.1.

    It has the writer interface of :func:`streamlearn.kafka.produce.produce_from_source`:
    :meth:`write` blocks until a client has taken the whole batch.

    Parameters
    ----------
    port
        Port on 127.0.0.1 (0 picks a free one; see :attr:`port`).
    accept_timeout
        Seconds :meth:`write` waits for a client before giving up
        (``None``: forever, as the course's producer).
    """

    def __init__(self, port: int, accept_timeout: float | None = None) -> None:
        if not 0 <= port < 65536:
            raise ConfigError(f"--socket {port}: the port must be a number from 1 to 65535")
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._server.bind(("127.0.0.1", port))
        except OSError as exc:
            self._server.close()
            raise ConfigError(
                f"--socket {port}: cannot listen on 127.0.0.1:{port} ({exc.strerror})"
            ) from None
        self._server.listen(1)
        self.port: int = self._server.getsockname()[1]
        self.accept_timeout = accept_timeout
        self._client: socket.socket | None = None
        self.clients = 0  # clients served so far
        self.lines = 0  # lines a client took

    def _accept(self) -> socket.socket:
        if self._client is None:
            ready, _, _ = select.select([self._server], [], [], self.accept_timeout)
            if not ready:
                raise TimeoutError(f"no client connected to 127.0.0.1:{self.port}")
            self._client, _ = self._server.accept()
            self.clients += 1
            log.info("client %d connected to 127.0.0.1:%d", self.clients, self.port)
        return self._client

    def write(self, payloads: Sequence[bytes], keys: Sequence[bytes | None] | None = None) -> None:
        """Send each payload as one line; if the client leaves, resend to the next one."""
        data = b"\n".join(payloads) + b"\n" if payloads else b""
        while data:
            client = self._accept()
            try:
                client.sendall(data)
            except OSError:  # the client went away: the next one gets the batch again
                client.close()
                self._client = None
                continue
            break
        self.lines += len(payloads)

    def flush(self) -> None:
        """Nothing is buffered: :meth:`write` returns once the kernel has the lines."""

    def close(self) -> None:
        """End the stream: the client reads to the end and sees the connection close."""
        if self._client is not None:
            with contextlib.suppress(OSError):
                self._client.shutdown(socket.SHUT_WR)
            self._client.close()
            self._client = None
        self._server.close()

    def __enter__(self) -> LineServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
