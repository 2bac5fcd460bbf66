"""The sink interface and what a sink receives after each micro-batch."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, cast

import numpy as np

from streamlearn.records.batch import DeadLetter, RecordBatch

if TYPE_CHECKING:
    from streamlearn.outputs import Output
    from streamlearn.summary import RunSummary

__all__ = ["BatchResult", "Sink"]


@dataclass
class BatchResult:
    """Everything one micro-batch produced.

    ``predictions`` maps model name to predictions in the label space (class
    names for classification), aligned with ``records``; ``targets`` likewise.
    ``summary`` is the run's metrics after this batch (the metrics-JSON shape).
    """

    batch_id: int
    records: RecordBatch
    dead_letters: list[DeadLetter]
    predictions: dict[str, np.ndarray] = field(default_factory=dict)
    targets: np.ndarray | None = None
    summary: RunSummary = field(default_factory=lambda: cast("RunSummary", {}))
    consumed: int = 0
    #: drift alarms raised in this batch: (model, record number)
    alarms: list[tuple[str, int]] = field(default_factory=list)
    #: the model whose predictions the batch serves: the champion when it was predicted
    champion: str | None = None
    #: each record's key (``--per-key``, ``--join-key`` or ``--key`` column), for keyed outputs
    keys: np.ndarray | None = None


class Sink(ABC):
    """Receives every batch's result, in batch order.

    Every sink has an id, unique in its run, under which checkpoints keep
    its :meth:`snapshot` (``sink_id``; by default :attr:`default_id`).
    Sinks that write files must be idempotent by batch id: writing the same
    batch twice (after a restart) leaves the same files.
    """

    #: the id of a sink not given one
    default_id: ClassVar[str] = "sink"

    @property
    def sink_id(self) -> str:
        """The sink's id, unique in its run."""
        return str(self.__dict__.get("_sink_id") or self.default_id)

    @sink_id.setter
    def sink_id(self, value: str | None) -> None:
        self.__dict__["_sink_id"] = value

    def outputs(self) -> list[Output]:
        """The files and folders it writes, checked before the first record is read."""
        return []

    def open(self, snapshot: dict[str, Any] | None = None) -> None:  # noqa: B027
        """Prepare; ``snapshot`` is what :meth:`snapshot` returned at the checkpoint."""

    @abstractmethod
    def write(self, result: BatchResult) -> None: ...

    def snapshot(self) -> dict[str, Any]:
        """What a checkpoint must remember to undo writes made after it."""
        return {}

    def close(self) -> None:  # noqa: B027
        """Flush and release."""
