"""Where results go: files per batch, dead letters, metrics, Kafka, memory."""

from __future__ import annotations

from streamlearn.sinks.base import BatchResult, Sink
from streamlearn.sinks.deadletters import DeadLetterFile
from streamlearn.sinks.files import PredictionsSink, atomic_write_bytes, write_batch_file
from streamlearn.sinks.memory import ListSink
from streamlearn.sinks.metrics import write_metrics_json

__all__ = [
    "BatchResult",
    "DeadLetterFile",
    "ListSink",
    "PredictionsSink",
    "Sink",
    "atomic_write_bytes",
    "write_batch_file",
    "write_metrics_json",
]
