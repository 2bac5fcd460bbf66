"""The one run loop every engine shares.

It owns what is the same whatever the engine: checkpoints (load, save every
``checkpoint_every`` batches, refuse a foreign one), sinks (open at their
checkpointed positions, write every batch, close), observers, interrupts
and the final summary. The engine's :class:`~streamlearn.engines.base.Feed`
only delivers the batches and processes each one.

Interrupts stop at a batch boundary: SIGINT or SIGTERM sets a flag, the
batch being processed finishes, a checkpoint is saved, and the summary is
taken there, so every model has predicted the same records. A second
signal stops at once, without a summary.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, cast

from streamlearn.checkpoint import Checkpoint, Checkpointer
from streamlearn.engines.observer import Observer
from streamlearn.errors import Terminated
from streamlearn.pipeline import fingerprint
from streamlearn.steps.base import check_unique_ids
from streamlearn.summary import RunSummary

if TYPE_CHECKING:
    from streamlearn.engines.base import Engine, Feed
    from streamlearn.pipeline import Pipeline
    from streamlearn.sinks.base import Sink

__all__ = ["Interrupts", "run_pipeline"]


class Interrupts:
    """Turns SIGINT and SIGTERM into a flag the loop looks at between batches.

    Outside the main thread signals cannot be caught; the flag then stays
    down and Ctrl-C raises ``KeyboardInterrupt`` as usual.
    """

    def __init__(self) -> None:
        self.signal: str | None = None
        self._event = threading.Event()

    @property
    def set(self) -> bool:
        return self._event.is_set()

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self._event.is_set():  # the second one: stop now
            raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt
        self.signal = signal.Signals(signum).name
        self._event.set()

    @contextlib.contextmanager
    def installed(self) -> Iterator[Interrupts]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {s: signal.signal(s, self._handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


def run_pipeline(
    pipeline: Pipeline,
    engine: Engine,
    sinks: Sequence[Sink] = (),
    observer: Observer | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 1,
) -> RunSummary:
    """Run ``pipeline`` on ``engine`` to its end; returns the final metrics.

    Stops at the end of a bounded source, after ``until`` idle seconds or
    ``count`` records, or at the batch boundary after SIGINT or SIGTERM
    (the summary then has ``interrupted`` set and names the ``signal``).
    """
    observer = observer or Observer()
    check_unique_ids("sink", (s.sink_id for s in sinks))
    writer = None
    if checkpoint is not None:
        folder = engine.checkpoint_folder(Path(checkpoint))
        writer = Checkpointer(folder, f"{fingerprint(pipeline)}:{engine.name}", checkpoint_every)
    saved = writer.load() if writer is not None else None
    source = pipeline.build_source()  # a bad source fails here, before anything starts
    opened: list[Sink] = []
    try:
        for sink in sinks:  # outputs fail before any record is read
            sink.open(snapshot=saved.sink_positions.get(sink.sink_id) if saved else None)
            opened.append(sink)
        feed = engine.open(
            pipeline, source, saved, Path(checkpoint) if checkpoint is not None else None
        )
        try:
            return _drive(feed, engine, sinks, observer, writer, saved, Interrupts())
        finally:
            feed.close()
    finally:
        for sink in opened:
            sink.close()


def _drive(
    feed: Feed,
    engine: Engine,
    sinks: Sequence[Sink],
    observer: Observer,
    writer: Checkpointer | None,
    saved: Checkpoint | None,
    interrupts: Interrupts,
) -> RunSummary:
    processor = feed.processor
    next_batch = saved.next_batch if saved is not None else 0
    elapsed_before = saved.elapsed_s if saved is not None else 0.0
    started = time.monotonic()

    def save() -> None:
        if writer is None:
            return
        writer.save(
            Checkpoint(
                next_batch=next_batch,
                processor=processor.snapshot(),
                source_position=feed.snapshot(),
                sink_positions={s.sink_id: s.snapshot() for s in sinks},
                fingerprint=writer.fingerprint,
                elapsed_s=elapsed_before + time.monotonic() - started,
            )
        )

    observer.on_start(
        {
            "engine": engine.name,
            "resumed_at_batch": next_batch,
            "keyed_summary": processor.steps_summary,
            **feed.describe(),
        }
    )
    try:
        with interrupts.installed():
            for arrival in feed.arrivals():
                if arrival is None:
                    observer.on_idle(feed.progress())
                else:
                    result = feed.process(arrival, next_batch)
                    if result is None:  # the engine's state moved, no record came
                        if feed.checkpoint_every_batch:
                            save()
                    else:
                        next_batch += 1
                        for sink in sinks:
                            sink.write(result)
                        if writer is not None and (
                            feed.checkpoint_every_batch or writer.due(next_batch)
                        ):
                            save()
                        observer.on_batch(result, feed.progress())
                    feed.done(arrival)
                if interrupts.set:
                    break
            save()
        summary = processor.final_summary(
            engine.name, elapsed_before + time.monotonic() - started, feed.source_summary()
        )
        summary = cast(RunSummary, {**summary, **feed.summary()})
        summary["interrupted"] = interrupts.set
        if interrupts.signal is not None:
            summary["signal"] = interrupts.signal
    finally:
        for sink in sinks:
            sink.close()
    observer.on_end(summary)
    return summary
