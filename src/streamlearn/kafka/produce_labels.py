"""Features now, labels later: test data for ``--labels`` (``produce --labels-topic``).

Each record of the source gets a record id. Its features (the record without
the target, with the id) go to the features topic at once; its label (the id
and the target) goes to the labels topic ``label_delay`` seconds later, drawn
uniformly, or never for a share ``label_loss``. Both are keyed by the id and
stamped with the time they are written, so a consumer sees the same delays
in the timestamps as on the clock.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from streamlearn.errors import ConfigError
from streamlearn.kafka.producer import KafkaWriter
from streamlearn.sources.base import Source
from streamlearn.sources.pacing import Pacer

__all__ = ["ProducedLabels", "parse_label_delay", "produce_with_labels"]


def parse_label_delay(text: str) -> tuple[float, float]:
    """``--label-delay``: ``"0-5s"`` (uniform between), ``"2s"`` or ``"2"`` (fixed), in seconds.

    >>> parse_label_delay("0-5s"), parse_label_delay("2s")
    ((0.0, 5.0), (2.0, 2.0))
    """
    body = text.strip().removesuffix("s")
    low, sep, high = body.partition("-")
    try:
        a, b = float(low), float(high) if sep else float(low)
    except ValueError:
        a = b = -1.0
    if not (0 <= a <= b < float("inf")):
        raise ConfigError(f"--label-delay must be SECONDS or LOW-HIGHs, such as 0-5s, not {text!r}")
    return a, b


@dataclass(frozen=True)
class ProducedLabels:
    """What :func:`produce_with_labels` wrote."""

    records: int
    labels: int
    seconds: float
    #: records left out: not JSON objects holding the target (a bad line of a file)
    skipped: int = 0


def produce_with_labels(
    source: Source,
    bootstrap: str,
    topic: str,
    labels_topic: str,
    target: str,
    id_field: str = "id",
    label_delay: tuple[float, float] = (0.0, 5.0),
    label_loss: float = 0.0,
    count: int | None = None,
    rate: float | None = None,
    seed: int = 0,
) -> ProducedLabels:
    """Write the source's records as features to ``topic`` and their labels later to ``labels_topic``.

    The source must deliver JSON objects (wrap others in a
    :class:`~streamlearn.sources.transcode.Transcoder`) holding ``target``;
    other records are skipped and counted. A record whose target is null or
    empty is written without a label (to be served). ``id_field`` must be a new field.
    """
    if not 0 <= label_loss < 1:
        raise ConfigError(f"--label-loss must be in [0, 1), not {label_loss}")
    rng = np.random.default_rng(seed)
    pacer = Pacer(rate)
    due: list[tuple[int, int, bytes, bytes]] = []  # (time ms, id, key, payload)
    sent = labels = skipped = 0
    started = time.perf_counter()
    with (
        KafkaWriter(bootstrap, topic) as features,
        KafkaWriter(bootstrap, labels_topic) as later,
    ):
        source.open()
        try:
            while (count is None or sent < count) and not source.exhausted:
                want = 1_000 if count is None else min(1_000, count - sent)
                want = pacer.allow(want, timeout_s=0.05, at_least=1)
                if want:
                    batch = source.read(want, timeout_s=0.2)
                    pacer.took(len(batch))
                    now = time.time_ns() // 1_000_000
                    payloads, keys = [], []
                    for payload in batch.payloads:
                        record = _record(payload, target)
                        if record is None:
                            skipped += 1
                            continue
                        if id_field in record:
                            raise ConfigError(
                                f"the records already hold a field {id_field!r}; "
                                "give --id-field another name"
                            )
                        key = str(sent).encode()
                        value = record.pop(target)
                        payloads.append(orjson.dumps({id_field: sent, **record}))
                        keys.append(key)
                        if value not in (None, "") and rng.random() >= label_loss:
                            wait = rng.uniform(*label_delay)
                            label = orjson.dumps({id_field: sent, target: value})
                            heapq.heappush(due, (now + round(wait * 1000), sent, key, label))
                        sent += 1
                    features.write_stamped(payloads, keys, [now] * len(payloads))
                labels += _release(due, later, time.time_ns() // 1_000_000)
            features.flush()
            while due:  # the labels still to come
                time.sleep(max(0.0, min(0.05, (due[0][0] - time.time_ns() / 1e6) / 1000)))
                labels += _release(due, later, time.time_ns() // 1_000_000)
        finally:
            source.close()
        later.flush()
    return ProducedLabels(sent, labels, time.perf_counter() - started, skipped)


def _record(payload: bytes, target: str) -> dict[str, Any] | None:
    """The record as a dict holding ``target``, or ``None``."""
    try:
        record = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return record if isinstance(record, dict) and target in record else None


def _release(due: list[tuple[int, int, bytes, bytes]], writer: KafkaWriter, now_ms: int) -> int:
    """Write the labels due by ``now_ms``, stamped with the time they were due."""
    payloads, keys, stamps = [], [], []
    while due and due[0][0] <= now_ms:
        t, _, key, label = heapq.heappop(due)
        payloads.append(label)
        keys.append(key)
        stamps.append(t)
    if payloads:
        writer.write_stamped(payloads, keys, stamps)
    return len(payloads)
