"""Helpers shared by the benchmarks: timing, memory and producing into a broker."""

from __future__ import annotations

import resource
from typing import Any

from streamlearn.engines.base import Observer
from streamlearn.sinks.base import BatchResult
from streamlearn.sources.base import Progress

__all__ = ["RssProbe", "produce", "rss_mb"]


def rss_mb() -> float:
    """Resident set size of this process now, in MB."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 1e6


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


class RssProbe(Observer):
    """Samples RSS when the run passes 25, 50, 75 and 100% of ``total`` records."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.marks = [0.25, 0.5, 0.75, 1.0]
        self.samples: dict[float, float] = {}

    def on_batch(self, result: BatchResult, progress: Progress) -> None:
        done = result.summary["records_consumed"] / self.total
        while self.marks and done >= self.marks[0] - 1e-9:
            self.samples[self.marks.pop(0)] = rss_mb()


def produce(
    bootstrap: str, what: str, topic: str, count: int, partitions: int = 1
) -> dict[str, Any]:
    from streamlearn.kafka.produce import produce as produce_into

    done = produce_into(what, bootstrap, topic, count=count, partitions=partitions)
    return {"records": done.records, "seconds": done.seconds, "records_per_s": done.records_per_s}
