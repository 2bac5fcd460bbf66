"""Predictions and dead letters written to Kafka topics, one JSON message per record.

Each batch is written in one transaction, and a run resumed from a
checkpoint skips the batches the topic already holds complete
(:mod:`streamlearn.kafka.exactly_once`): exactly once where the broker hides
aborted transactions. Each message is also keyed by its record's identity
(``origin:partition:offset``), so consumers can deduplicate where it does not.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import orjson

from streamlearn.kafka.exactly_once import TopicMarks, batch_headers, committed_batches
from streamlearn.kafka.producer import KafkaWriter
from streamlearn.records.labels import key_text
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
        self.run = ""
        self.skip: set[int] = set()  # batches a resumed run finds already written
        self.skipped = 0
        self._marks: TopicMarks | None = None

    def open(self, snapshot: dict[str, Any] | None = None) -> None:
        self.run = str(snapshot.get("run", "")) if snapshot else ""
        if not self.run:
            self.run = uuid.uuid4().hex
        # the id outlives the process: a resumed run fences off its predecessor
        self.writer = KafkaWriter(
            self.bootstrap, self.topic, transactional_id=f"streamlearn-{self.run}-{self.sink_id}"
        )
        self._marks = TopicMarks(self.bootstrap, self.topic)
        if snapshot and snapshot.get("ends"):
            self.skip = committed_batches(self.bootstrap, self.topic, self.run, snapshot["ends"])

    def _send(self, batch: int, payloads: list[bytes], keys: list[bytes]) -> None:
        """One batch's messages, in one transaction, unless the topic holds them already."""
        if not payloads:
            return
        if batch in self.skip:
            self.skipped += len(payloads)
            return
        self.writer.begin()
        self.writer.write(payloads, keys, headers=batch_headers(self.run, batch, len(payloads)))
        self.writer.commit()

    def snapshot(self) -> dict[str, Any]:
        # a checkpoint must not claim messages that may still be in flight
        self.writer.flush()
        assert self._marks is not None
        ends = self._marks.ends(self.writer.partitions)
        return {"written": self.writer.written, "run": self.run, "ends": ends}

    def close(self) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            writer.close()
        if self._marks is not None:
            marks, self._marks = self._marks, None
            marks.close()


class KafkaDeadLetters(_KafkaSink):
    """Dead letters as JSON messages (position, exact raw bytes, reason, batch); see :meth:`DeadLetter.to_dict`."""

    default_id = "dead_letters"

    def write(self, result: BatchResult) -> None:
        if not result.dead_letters:
            return
        payloads = [
            orjson.dumps({**d.to_dict(), "batch": result.batch_id + 1}) for d in result.dead_letters
        ]
        keys = [f"{d.origin}:{d.partition}:{d.offset}".encode() for d in result.dead_letters]
        self._send(result.batch_id + 1, payloads, keys)


class KafkaPredictions(_KafkaSink):
    """Each record's id, the champion's and every model's prediction and the label, as JSON.

    Messages are keyed by the record's key (``--per-key``, ``--join-key`` or
    ``--key``) when it has one, so a consumer reads a live inference feed
    per key; otherwise by the record's position.
    """

    default_id = "predictions"

    def write(self, result: BatchResult) -> None:
        records = result.records
        if not len(records) or not result.predictions:
            return
        names = list(result.predictions)
        columns = [result.predictions[n] for n in names]
        champion = result.champion if result.champion in result.predictions else None
        record_keys = result.keys.tolist() if result.keys is not None else None
        payloads, keys = [], []
        for i in range(len(records)):
            part, off = int(records.partitions[i]), int(records.offsets[i])
            msg = {
                "origin": records.origin,
                "partition": part,
                "offset": off,
                "batch": result.batch_id + 1,
                "key": None if record_keys is None else _item(record_keys[i]),
                "champion": champion,
                "prediction": None if champion is None else _item(result.predictions[champion][i]),
                "predictions": {n: _item(c[i]) for n, c in zip(names, columns, strict=True)},
                "label": _item(result.targets[i]) if result.targets is not None else None,
            }
            payloads.append(orjson.dumps(msg, option=orjson.OPT_SERIALIZE_NUMPY))
            key = None if record_keys is None else key_text(record_keys[i])
            if key is not None:
                keys.append(key.encode())
            else:
                keys.append(f"{records.origin}:{part}:{off}".encode())
        self._send(result.batch_id + 1, payloads, keys)
