"""What every confluent-kafka client of ours shares, whatever the broker.

Settings with bounded timeouts and quiet logs, the ``error_cb`` that keeps
the reason a broker cannot be reached, and metadata look-ups that fail with
a one-line :class:`~streamlearn.errors.SourceError` instead of hanging.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from streamlearn.errors import ConfigError, SourceError

__all__ = [
    "CONSUMER_TUNING",
    "ClientErrors",
    "check_bootstrap",
    "client_config",
    "consumer_config",
    "fetch_metadata",
    "librdkafka_logger",
    "topic_partitions",
]

_quiet: logging.Logger | None = None


def librdkafka_logger() -> logging.Logger:
    """Where librdkafka's own log lines go (the ``logger`` client setting).

    Silent unless the user adds a handler to ``streamlearn.kafka.librdkafka``:
    connection errors reach users as one-line :class:`SourceError` instead.
    """
    global _quiet
    if _quiet is None:
        _quiet = logging.getLogger("streamlearn.kafka.librdkafka")
        _quiet.addHandler(logging.NullHandler())
        _quiet.propagate = False
    return _quiet


class ClientErrors:
    """``error_cb`` target: remembers why the brokers cannot be reached."""

    def __init__(self) -> None:
        self.all_down = False
        self.last: str | None = None

    def __call__(self, err: Any) -> None:
        from confluent_kafka import KafkaError

        if err.code() == KafkaError._ALL_BROKERS_DOWN:
            self.all_down = True
        elif self.last is None or err.code() in (KafkaError._TRANSPORT, KafkaError._RESOLVE):
            # "host:port/bootstrap: Connect to ... failed: Connection refused (after 0ms ...)"
            text = err.str().rpartition("failed: ")[2]
            self.last = text.split(" (after ")[0]


def check_bootstrap(bootstrap: str) -> str:
    """``bootstrap`` if it is ``HOST:PORT[,HOST:PORT...]`` with ports 1 to 65535.

    librdkafka would take a bad address for an unreachable broker and say
    "Connection refused"; a typo is a configuration error instead.

    Examples
    --------
    >>> check_bootstrap("127.0.0.1:9092,[::1]:9093")
    '127.0.0.1:9092,[::1]:9093'
    >>> check_bootstrap("127.0.0.1:notaport")
    Traceback (most recent call last):
    ...
    streamlearn.errors.ConfigError: --bootstrap '127.0.0.1:notaport': port 'notaport' is not a number; expected HOST:PORT[,HOST:PORT...]
    """
    expected = "expected HOST:PORT[,HOST:PORT...]"
    if not bootstrap.strip():
        raise ConfigError(f"--bootstrap is empty; {expected}")
    for address in bootstrap.split(","):
        address = address.strip().removeprefix("PLAINTEXT://").removeprefix("SSL://")
        host, colon, port = address.rpartition(":")
        if not colon or not host.strip("[]"):
            raise ConfigError(
                f"--bootstrap {bootstrap!r}: {address!r} is not HOST:PORT; {expected}"
            )
        if not port.isdigit():
            raise ConfigError(
                f"--bootstrap {bootstrap!r}: port {port!r} is not a number; {expected}"
            )
        if not 0 < int(port) < 65536:
            raise ConfigError(f"--bootstrap {bootstrap!r}: port {port} is not between 1 and 65535")
    return bootstrap


def client_config(
    bootstrap: str, errors: ClientErrors, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Settings every client of ours shares: bounded timeouts, quiet logs."""
    check_bootstrap(bootstrap)
    conf: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "client.id": "streamlearn",
        "socket.timeout.ms": 10_000,
        "socket.connection.setup.timeout.ms": 10_000,
        "error_cb": errors,
        "logger": librdkafka_logger(),
    }
    conf.update(extra or {})
    return conf


#: consumer settings measured on the embedded broker (benchmarks/kafka_io.py)
CONSUMER_TUNING: dict[str, Any] = {
    # librdkafka waits this long to fetch again once its queue is full (default
    # 1000 ms): with a fast broker that stalls the stream, 3x fewer msg/s
    "fetch.queue.backoff.ms": 10,
    # larger fetches: fewer round trips, no measurable cost on loopback
    "queued.max.messages.kbytes": 131072,
    "max.partition.fetch.bytes": 4 * 1024 * 1024,
}


def consumer_config(
    bootstrap: str, errors: ClientErrors, group_id: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Settings of every consumer of ours: offsets are ours, topics never auto-created.

    Offsets live in checkpoints (the local engine) or in Spark's checkpoint,
    so nothing is committed or stored automatically; asking for a topic must
    never create it. ``extra`` (tuning, security, ``enable.partition.eof``)
    wins over these.
    """
    conf = client_config(bootstrap, errors)
    conf.update(
        {
            "group.id": group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": False,
            "allow.auto.create.topics": False,
            "auto.offset.reset": "earliest",
            **CONSUMER_TUNING,
            **(extra or {}),
        }
    )
    return conf


def fetch_metadata(client: Any, bootstrap: str, errors: ClientErrors, timeout_s: float) -> Any:
    """All topics' metadata, or a one-line :class:`SourceError` within ``timeout_s``.

    The full topic list is asked for on purpose: a metadata request naming a
    topic may create it (Tansu does so for producer and admin clients).
    """
    from confluent_kafka import KafkaException

    t0 = time.monotonic()
    deadline = t0 + timeout_s
    while True:
        try:
            return client.list_topics(timeout=max(0.1, min(1.0, deadline - time.monotonic())))
        except KafkaException as exc:
            reason = exc.args[0].str() if exc.args else str(exc)
        if hasattr(client, "poll"):
            client.poll(0)  # serves error_cb
        now = time.monotonic()
        # "connection refused" is final enough after a couple of reconnect attempts
        if now > deadline or (errors.all_down and now - t0 > 2.0):
            why = errors.last or reason
            raise SourceError(
                f"cannot reach Kafka at {bootstrap} ({why}); start one with "
                "`streamlearn broker` or pass --bootstrap HOST:PORT"
            )


def topic_partitions(metadata: Any, topic: str, bootstrap: str) -> list[int]:
    """The topic's partition ids, or a one-line :class:`SourceError`."""
    from confluent_kafka import KafkaError

    tm = metadata.topics.get(topic)
    if tm is None or (tm.error is not None and tm.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART):
        raise SourceError(f"topic '{topic}' does not exist on {bootstrap}")
    if tm.error is not None:
        raise SourceError(f"topic '{topic}' on {bootstrap}: {tm.error.str()}")
    if not tm.partitions:
        raise SourceError(f"topic '{topic}' on {bootstrap} has no partitions")
    return sorted(tm.partitions)
