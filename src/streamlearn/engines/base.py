"""The engine interface: something that drives a pipeline from source to sinks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from streamlearn.pipeline import Pipeline
from streamlearn.sinks.base import BatchResult, Sink
from streamlearn.sources.base import Progress

__all__ = ["Engine", "Observer"]


class Observer:
    """Hooks for live output (console, progress bar, dashboard); all optional."""

    def on_start(self, info: dict[str, Any]) -> None:
        """The run is about to read its first batch."""

    def on_batch(self, result: BatchResult, progress: Progress) -> None:
        """A batch went through every step and sink."""

    def on_idle(self, progress: Progress) -> None:
        """No record arrived in the last poll."""

    def on_end(self, summary: dict[str, Any]) -> None:
        """The run stopped (end of stream, count reached, or interrupted)."""


class Engine(ABC):
    name: str = "engine"

    @abstractmethod
    def run(
        self,
        pipeline: Pipeline,
        sinks: Sequence[Sink] = (),
        observer: Observer | None = None,
        checkpoint: str | None = None,
        checkpoint_every: int = 1,
    ) -> dict[str, Any]:
        """Run to the end; returns the final metrics (the metrics-JSON shape)."""
