"""Write payloads to a Kafka topic, fast and without losing any.

:class:`KafkaWriter` is what ``streamlearn produce`` (:mod:`.produce`) and
the Kafka sinks use.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from streamlearn.errors import SourceError
from streamlearn.kafka.client import ClientErrors, client_config, fetch_metadata

try:
    from confluent_kafka import KafkaError, KafkaException, Producer
    from confluent_kafka.admin import AdminClient, NewTopic
except ImportError as exc:  # pragma: no cover - depends on the install
    from streamlearn.errors import MissingExtraError

    raise MissingExtraError("Kafka", "kafka") from exc

__all__ = ["PRODUCER_TUNING", "KafkaWriter"]

log = logging.getLogger(__name__)

#: producer settings measured on the embedded broker (benchmarks/kafka_io.py)
PRODUCER_TUNING: dict[str, Any] = {
    # fewer, larger produce requests: as fast as 5 ms on an idle machine, ~15%
    # faster on a busy one; 0 ms doubles the broker's CPU. At most 20 ms latency
    "linger.ms": 20,
    "batch.num.messages": 10_000,
    "queue.buffering.max.messages": 500_000,
    "queue.buffering.max.kbytes": 262_144,
    # on loopback, compression costs more CPU than it saves (lz4: +70% client
    # CPU for 1M ~200-byte records); pass config={"compression.type": "lz4"}
    # for a real network
    "compression.type": "none",
    # the Java client's hash: keyed records land where Java producers put them
    "partitioner": "murmur2_random",
    # delivery reports only for failures: a Python callback per message
    # halves the produce rate (1.0M -> 0.53M msg/s measured)
    "delivery.report.only.error": True,
}
#: messages between two ``poll(0)`` calls
_CHUNK = 8192
#: consecutive keyless messages sent to one partition before the next
_BLOCK = 1024


class KafkaWriter:
    """A producer for one topic that counts every failed delivery.

    Parameters
    ----------
    bootstrap
        ``HOST:PORT[,...]`` of the brokers.
    topic
        The topic to write to.
    partitions
        Partitions to create the topic with. An existing topic is kept as is
        (a warning says so when it has fewer).
    create
        Create the topic when it is missing; when False a missing topic is a
        :class:`SourceError`.
    delivery_timeout_s
        A message not acknowledged within this time counts as failed.
    config
        Extra librdkafka producer settings; they win over ours.
    timeout_s
        Bound on connecting and creating the topic.
    transactional_id
        Write in transactions (:meth:`begin`, :meth:`commit`) under this id: a
        writer opened again with the same id aborts what its predecessor left
        open, so consumers that read committed data never see half a batch.

    Notes
    -----
    Keyed messages go to ``murmur2(key) % partitions``; keyless ones go
    round-robin in blocks of 1024 consecutive messages per partition, which
    keeps batches large. :meth:`flush` raises if any message failed.

    Examples
    --------
    >>> with KafkaWriter("127.0.0.1:9092", "numbers", partitions=3) as w:  # doctest: +SKIP
    ...     w.write([b"[1, 2.0]", b"[2, 4.0]"])
    """

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        partitions: int = 1,
        create: bool = True,
        *,
        delivery_timeout_s: float = 30.0,
        config: dict[str, Any] | None = None,
        timeout_s: float = 10.0,
        transactional_id: str | None = None,
    ) -> None:
        if partitions < 1:
            raise ValueError(f"partitions must be >= 1, not {partitions}")
        self.bootstrap = bootstrap
        self.topic = topic
        self.delivery_timeout_s = delivery_timeout_s
        self.written = 0  # queued so far; flush() confirms delivery
        self.failed = 0
        self._first_failure: str | None = None
        self._errors = ClientErrors()
        conf = client_config(self.bootstrap, self._errors, PRODUCER_TUNING)
        conf["message.timeout.ms"] = int(delivery_timeout_s * 1000)
        conf["on_delivery"] = self._on_failure
        if transactional_id is not None:
            conf["transactional.id"] = transactional_id
        conf.update(config or {})
        producer = Producer(conf)
        self.partitions = self._ensure_topic(producer, partitions, create, timeout_s)
        self._producer: Any = producer
        self._block = 0
        self._open_transaction = False
        self.transactional = transactional_id is not None
        if self.transactional:
            self._call("start transactions", producer.init_transactions, timeout_s)

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except KafkaException as exc:
            raise SourceError(
                f"cannot {what} on '{self.topic}' at {self.bootstrap}: {exc.args[0].str()}"
            ) from None

    def begin(self) -> None:
        """Start a transaction (transactional writers only)."""
        self._call("begin a transaction", self._producer.begin_transaction)
        self._open_transaction = True

    def commit(self) -> None:
        """Deliver and commit what was written since :meth:`begin`, all or nothing."""
        self._call(
            "commit a transaction", self._producer.commit_transaction, self.delivery_timeout_s
        )
        self._open_transaction = False
        self._raise_failures()

    def _ensure_topic(self, producer: Any, partitions: int, create: bool, timeout_s: float) -> int:
        deadline = time.monotonic() + timeout_s
        md = fetch_metadata(producer, self.bootstrap, self._errors, timeout_s)
        tm = md.topics.get(self.topic)
        if tm is not None and tm.error is None and tm.partitions:
            if len(tm.partitions) < partitions:
                log.warning(
                    "topic '%s' exists with %d partitions (asked for %d); keeping it",
                    self.topic,
                    len(tm.partitions),
                    partitions,
                )
            return len(tm.partitions)
        if not create:
            raise SourceError(f"topic '{self.topic}' does not exist on {self.bootstrap}")
        admin = AdminClient(client_config(self.bootstrap, self._errors))
        future = admin.create_topics(
            [NewTopic(self.topic, num_partitions=partitions)],  # broker-default replication
            request_timeout=timeout_s,
        )[self.topic]
        try:
            future.result(timeout=timeout_s)
        except KafkaException as exc:
            err = exc.args[0]
            if err.code() != KafkaError.TOPIC_ALREADY_EXISTS:  # lost a race: fine
                raise SourceError(
                    f"cannot create topic '{self.topic}' on {self.bootstrap}: {err.str()}"
                ) from None
        except Exception as exc:  # a timeout of the future itself
            raise SourceError(
                f"cannot create topic '{self.topic}' on {self.bootstrap}: {exc}"
            ) from None
        # metadata catches up with a creation shortly after
        while time.monotonic() < deadline:
            md = fetch_metadata(
                producer, self.bootstrap, self._errors, max(0.5, deadline - time.monotonic())
            )
            tm = md.topics.get(self.topic)
            if tm is not None and tm.error is None and tm.partitions:
                return len(tm.partitions)
            time.sleep(0.05)
        raise SourceError(
            f"topic '{self.topic}' was created on {self.bootstrap} but never appeared"
        )

    def _on_failure(self, err: KafkaError | None, msg: Any) -> None:
        # with delivery.report.only.error this runs for failed messages only
        if err is not None:
            self.failed += 1
            if self._first_failure is None:
                self._first_failure = err.str()

    def write(
        self,
        payloads: Sequence[bytes],
        keys: Sequence[bytes | None] | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        """Queue payloads for delivery, in order; waits only when the queue is full.

        ``headers`` go with every message of the call (keyed messages only).

        Raises
        ------
        SourceError
            When a payload is refused (too large, unknown topic) or earlier
            deliveries failed while waiting for room.
        """
        if self._producer is None:
            raise SourceError(f"the writer to '{self.topic}' is closed")
        if keys is not None and len(keys) != len(payloads):
            raise ValueError(f"{len(keys)} keys for {len(payloads)} payloads")
        produce, poll, topic = self._producer.produce, self._producer.poll, self.topic
        n = len(payloads)
        try:
            if keys is not None:
                for s in range(0, n, _CHUNK):
                    for v, k in zip(payloads[s : s + _CHUNK], keys[s : s + _CHUNK], strict=True):
                        try:
                            produce(topic, v, k, headers=headers)
                        except BufferError:
                            self._when_room(v, k, -1, headers)
                    poll(0)
            elif self.partitions == 1:
                for s in range(0, n, _CHUNK):
                    for v in payloads[s : s + _CHUNK]:
                        try:
                            produce(topic, v)
                        except BufferError:
                            self._when_room(v, None, -1)
                    poll(0)
            else:
                for s in range(0, n, _BLOCK):
                    part = self._block % self.partitions
                    self._block += 1
                    for v in payloads[s : s + _BLOCK]:
                        try:
                            produce(topic, v, partition=part)
                        except BufferError:
                            self._when_room(v, None, part)
                    poll(0)
        except KafkaException as exc:
            raise SourceError(
                f"cannot write to '{topic}' on {self.bootstrap}: {exc.args[0].str()}"
            ) from None
        self.written += n

    def write_stamped(
        self, payloads: Sequence[bytes], keys: Sequence[bytes], timestamps_ms: Sequence[int]
    ) -> None:
        """Queue keyed payloads with their own timestamps (milliseconds since the epoch)."""
        if self._producer is None:
            raise SourceError(f"the writer to '{self.topic}' is closed")
        produce, topic = self._producer.produce, self.topic
        for v, k, t in zip(payloads, keys, timestamps_ms, strict=True):
            try:
                produce(topic, v, k, timestamp=t)
            except BufferError:
                self._when_room(v, k, -1, timestamp_ms=t)
        self._producer.poll(0)

    def _when_room(
        self,
        value: bytes,
        key: bytes | None,
        partition: int,
        headers: list[tuple[str, bytes]] | None = None,
        timestamp_ms: int = 0,
    ) -> None:
        """Serve delivery events until the local queue has room, then produce."""
        while True:
            self._producer.poll(0.005)
            self._raise_failures()
            try:
                self._producer.produce(
                    self.topic, value, key, partition, headers=headers, timestamp=timestamp_ms
                )
                return
            except BufferError:
                continue

    def _raise_failures(self) -> None:
        if self.failed:
            failed, self.failed = self.failed, 0
            raise SourceError(
                f"{failed} message(s) to '{self.topic}' on {self.bootstrap} were not delivered: {self._first_failure}"
            )

    def flush(self, timeout_s: float | None = None) -> None:
        """Wait for every queued message; raise if any was not delivered."""
        if self._producer is None:
            return
        timeout = self.delivery_timeout_s + 5.0 if timeout_s is None else timeout_s
        left = self._producer.flush(timeout)
        self._raise_failures()
        if left:
            raise SourceError(
                f"{left} message(s) to '{self.topic}' on {self.bootstrap} still undelivered after {timeout:.0f} s"
            )

    def close(self) -> None:
        """Flush (abort a transaction left open) and release the producer."""
        try:
            if self._open_transaction and self._producer is not None:
                self._open_transaction = False
                self._call("abort a transaction", self._producer.abort_transaction, 10.0)
            self.flush()
        finally:
            self._producer = None

    def __enter__(self) -> KafkaWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
            return
        try:  # keep the exception that is already on its way out
            self.close()
        except SourceError as failure:
            log.warning("%s", failure)
