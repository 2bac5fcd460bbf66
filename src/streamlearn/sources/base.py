"""The source interface: anything that yields raw payloads with positions.

A source is bounded (a file, a generator with ``count``, a Kafka topic read
``--until end``) or unbounded. Its :meth:`~Source.snapshot` (where the next
read starts) is saved in checkpoints and handed back to
``open(snapshot=...)``, so a restarted run continues exactly where the
checkpoint left off.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from streamlearn.records.batch import RawBatch
from streamlearn.records.schema import Schema
from streamlearn.types import PositionKind

__all__ = ["Progress", "Replay", "Source"]

#: how a source can be read again from a position, which decides how the Spark
#: engine plans it: ``index`` sources number their records 0, 1, 2... and open
#: at ``{"next": i}``; ``log`` sources are Kafka topics (offsets per partition);
#: ``sequential`` sources are read in order from a saved position
Replay = Literal["index", "log", "sequential"]


@dataclass(frozen=True)
class Progress:
    consumed: int
    #: records the source will deliver in all, when known (bounded sources)
    total: int | None = None
    #: records available but not yet read (Kafka lag), when known
    lag: int | None = None


class Source(ABC):
    """Where records come from.

    Subclasses implement :meth:`read`, :attr:`exhausted` and
    :meth:`snapshot`, and usually :meth:`open` and :meth:`close`.
    """

    #: short name used in metrics: ``kafka``, ``linear``, ``csv``, ``memory``...
    kind: str = "source"
    #: the payload format unless the user says otherwise (``literal``, ``json``, ``csv``, ``auto``)
    format: str = "json"
    #: ``offset`` (partition and offset) or ``line`` (files)
    position_kind: PositionKind = "offset"
    #: how the source is read again from a position (see :data:`Replay`)
    replay: ClassVar[Replay] = "sequential"
    #: the fields of the records and their roles, when the source knows them
    schema: Schema | None = None
    #: records to deliver in all (``None``: until the source ends, or forever)
    count: int | None = None
    #: records per second (``None``: as fast as possible)
    rate: float | None = None

    @property
    def origin(self) -> str:
        """What records' positions name: a topic, a file, or the source's kind."""
        return str(self.__dict__.get("_origin") or self.kind)

    @origin.setter
    def origin(self, value: str) -> None:
        self.__dict__["_origin"] = value

    def open(self, snapshot: dict[str, Any] | None = None) -> None:  # noqa: B027
        """Prepare to read; ``snapshot`` is a :meth:`snapshot` from a checkpoint."""

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
    def snapshot(self) -> dict[str, Any]:
        """Where the next read starts, as plain JSON-able data."""

    def peek(self, n: int) -> list[bytes] | None:
        """The first ``n`` records from where the source opened, without consuming them.

        Formats, layouts and types are decided on them; ``None`` (the
        default) means the source cannot look ahead, and the first batch is
        used instead.
        """
        return None

    def reachable(self) -> bool:
        """Whether the source's server answers now; a quiet source is idle only if it does."""
        return True

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
