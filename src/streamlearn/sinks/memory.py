"""A sink that keeps every batch result in a list (for tests and notebooks)."""

from __future__ import annotations

from streamlearn.sinks.base import BatchResult, Sink

__all__ = ["ListSink"]


class ListSink(Sink):
    """Keeps the results in ``self.results``. Memory grows with the stream: tests only."""

    default_id = "list"

    def __init__(self, sink_id: str | None = None) -> None:
        self.sink_id = sink_id
        self.results: list[BatchResult] = []

    def write(self, result: BatchResult) -> None:
        self.results.append(result)

    @property
    def dead_letters(self) -> list:
        return [d for r in self.results for d in r.dead_letters]

    def predictions(self, model: str) -> list:
        return [p for r in self.results for p in r.predictions.get(model, [])]
