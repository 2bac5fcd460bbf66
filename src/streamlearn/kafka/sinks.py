"""Predictions and dead letters written to Kafka topics, one JSON message per record.

Each message is keyed by its record's identity (``origin:partition:offset``),
so a consumer can drop the duplicates that a restart from a checkpoint may
send again: a topic cannot be truncated back to the checkpoint the way a file
can.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from streamlearn.kafka.producer import KafkaWriter
from streamlearn.sinks.base import BatchResult, Sink

__all__ = ["KafkaDeadLetters", "KafkaPredictions"]


def _item(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


class _KafkaSink(Sink):
    def __init__(self, topic: str, bootstrap: str, sink_id: str | None = None) -> None:
        self.sink_id = sink_id
        self.topic = topic
        self.bootstrap = bootstrap
        self.writer: Any = None

    def open(self, snapshot: dict[str, Any] | None = None) -> None:
        self.writer = KafkaWriter(self.bootstrap, self.topic)

    def snapshot(self) -> dict[str, Any]:
        # a checkpoint must not claim messages that may still be in flight
        self.writer.flush()
        return {"written": self.writer.written}

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class KafkaDeadLetters(_KafkaSink):
    """Dead letters as JSON messages (position, raw bytes as text, reason, batch)."""

    default_id = "dead_letters"

    def write(self, result: BatchResult) -> None:
        if not result.dead_letters:
            return
        payloads = [
            orjson.dumps({**d.to_dict(), "batch": result.batch_id + 1}) for d in result.dead_letters
        ]
        keys = [f"{d.origin}:{d.partition}:{d.offset}".encode() for d in result.dead_letters]
        self.writer.write(payloads, keys)


class KafkaPredictions(_KafkaSink):
    """Each record's id, every model's prediction and the label, as JSON messages."""

    default_id = "predictions"

    def write(self, result: BatchResult) -> None:
        records = result.records
        if not len(records) or not result.predictions:
            return
        names = list(result.predictions)
        columns = [result.predictions[n] for n in names]
        payloads, keys = [], []
        for i in range(len(records)):
            part, off = int(records.partitions[i]), int(records.offsets[i])
            msg = {
                "origin": records.origin,
                "partition": part,
                "offset": off,
                "batch": result.batch_id + 1,
                "predictions": {n: _item(c[i]) for n, c in zip(names, columns, strict=True)},
                "label": _item(result.targets[i]) if result.targets is not None else None,
            }
            payloads.append(orjson.dumps(msg, option=orjson.OPT_SERIALIZE_NUMPY))
            keys.append(f"{records.origin}:{part}:{off}".encode())
        self.writer.write(payloads, keys)
