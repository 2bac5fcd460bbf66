"""The engine interface: how one run's batches arrive and where its keyed state lives.

Every engine shares one run loop (:func:`~streamlearn.engines.loop.run_pipeline`),
which owns checkpoints, sinks, observers, interrupts and the final summary.
An engine only opens a :class:`Feed` for a run: the feed delivers the
stream's micro-batches (:meth:`Feed.arrivals`), processes each with the
run's :class:`~streamlearn.process.BatchProcessor` (whose steps say where
keyed state lives) and says where the stream stands for a checkpoint.
A new engine is a module with an :class:`Engine` and a
:func:`~streamlearn.engines.register_engine` call.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamlearn.engines.observer import Observer
from streamlearn.sinks.base import BatchResult
from streamlearn.sources.base import Progress

if TYPE_CHECKING:
    from streamlearn.checkpoint import Checkpoint
    from streamlearn.pipeline import Pipeline
    from streamlearn.process import BatchProcessor
    from streamlearn.sinks.base import Sink
    from streamlearn.sources.base import Source
    from streamlearn.summary import RunSummary

__all__ = ["Arrival", "Engine", "Feed", "Observer"]


@dataclass
class Arrival:
    """One micro-batch as an engine delivers it."""

    raw: Any
    #: what the engine needs to process it (the Spark engine: keyed states, predictions)
    extra: Any = None


class Feed(ABC):
    """One run's stream of micro-batches, as an engine delivers them.

    Attributes
    ----------
    processor
        The run's processor, its state restored from the checkpoint if any.
    """

    #: a checkpoint follows every batch, whatever ``checkpoint_every`` says
    #: (the engine commits every batch and the two must never disagree)
    checkpoint_every_batch: bool = False
    processor: BatchProcessor

    @abstractmethod
    def arrivals(self) -> Iterator[Arrival | None]:
        """Batches in stream order until the stream ends; ``None`` when nothing came for a while."""

    def process(self, arrival: Arrival, batch_id: int) -> BatchResult | None:
        """Run one batch through the processor (``None``: the arrival held no record)."""
        return self.processor.process(arrival.raw, batch_id)

    def done(self, arrival: Arrival) -> None:  # noqa: B027
        """The batch is processed, written and checkpointed."""

    @abstractmethod
    def snapshot(self) -> dict[str, Any]:
        """Where the stream stands, saved in checkpoints."""

    @abstractmethod
    def progress(self) -> Progress:
        """Records read so far and, when known, in all."""

    def describe(self) -> dict[str, Any]:
        """What ``on_start`` tells observers about the source."""
        return {}

    @abstractmethod
    def source_summary(self) -> dict[str, Any]:
        """The ``source`` entry of the final summary."""

    def summary(self) -> dict[str, Any]:
        """The engine's own entries in the final summary."""
        return {}

    def close(self) -> None:  # noqa: B027
        """Stop reading and release everything; safe to call twice."""


class Engine(ABC):
    """Something that drives pipelines: the shared run loop with this engine's feed."""

    name: str = "engine"

    def checkpoint_folder(self, root: Path) -> Path:
        """Where the run loop keeps its checkpoint within ``--checkpoint``."""
        return root

    @abstractmethod
    def open(
        self, pipeline: Pipeline, source: Source, saved: Checkpoint | None, checkpoint: Path | None
    ) -> Feed:
        """Start a run of ``pipeline`` on ``source`` (not open), continuing ``saved`` if given."""

    def run(
        self,
        pipeline: Pipeline,
        sinks: Sequence[Sink] = (),
        observer: Observer | None = None,
        checkpoint: str | Path | None = None,
        checkpoint_every: int = 1,
    ) -> RunSummary:
        """Run to the end; returns the final metrics (the metrics-JSON shape)."""
        from streamlearn.engines.loop import run_pipeline

        return run_pipeline(pipeline, self, sinks, observer, checkpoint, checkpoint_every)
