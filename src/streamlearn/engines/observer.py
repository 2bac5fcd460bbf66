"""What a run tells live outputs (console, progress bar, dashboard) as it goes."""

from __future__ import annotations

from typing import Any

from streamlearn.sinks.base import BatchResult
from streamlearn.sources.base import Progress
from streamlearn.summary import RunSummary

__all__ = ["Observer"]


class Observer:
    """Hooks for live output (console, progress bar, dashboard); all optional."""

    def on_start(self, info: dict[str, Any]) -> None:
        """The run is about to read its first batch."""

    def on_batch(self, result: BatchResult, progress: Progress) -> None:
        """A batch went through every step and sink."""

    def on_idle(self, progress: Progress) -> None:
        """No record arrived in the last poll."""

    def on_end(self, summary: RunSummary) -> None:
        """The run stopped (end of stream, count reached, or interrupted)."""
