"""The source interface: anything that yields raw payloads with positions.

A source is bounded (a file, a generator with ``count``, a Kafka topic read
``--until end``) or unbounded. Its ``position()`` is saved in checkpoints and
handed back to ``open(resume=...)`` so a restarted run continues exactly where
the checkpoint left off.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from streamlearn.records.batch import RawBatch

__all__ = ["Progress", "Source"]


@dataclass(frozen=True)
class Progress:
    consumed: int
    #: records the source will deliver in all, when known (bounded sources)
    total: int | None = None
    #: records available but not yet read (Kafka lag), when known
    lag: int | None = None


class Source(ABC):
    #: short name used in metrics: ``kafka``, ``linear``, ``csv``, ``memory``...
    kind: str = "source"
    #: the codec the payloads are in unless the user says otherwise
    default_format: str = "json"
    #: ``offset`` (partition and offset) or ``line`` (files)
    position_kind: str = "offset"

    def open(self, resume: dict[str, Any] | None = None) -> None:  # noqa: B027
        """Prepare to read; ``resume`` is a ``position()`` from a checkpoint."""

    @abstractmethod
    def read(self, max_records: int, timeout_s: float = 1.0) -> RawBatch:
        """Up to ``max_records`` payloads, waiting at most ``timeout_s`` for the first.

        Returns an empty batch when nothing arrived in time.
        """

    @property
    @abstractmethod
    def exhausted(self) -> bool:
        """True once a bounded source has delivered everything it will."""

    @abstractmethod
    def position(self) -> dict[str, Any]:
        """Where the next read starts, as plain JSON-able data."""

    def progress(self) -> Progress:
        return Progress(consumed=0)

    def describe(self) -> dict[str, Any]:
        """What goes under ``source`` in the metrics JSON."""
        return {"kind": self.kind}

    def close(self) -> None:  # noqa: B027
        """Release connections and files."""

    def __enter__(self) -> Source:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
