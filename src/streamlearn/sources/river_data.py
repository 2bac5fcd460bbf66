"""River's bundled data sets as sources: ``--source river:phishing``.

River ships a few real data sets inside its wheel (Phishing, Bananas, Image
Segments, Shuttle, Trump approval, Chick weights...): real streams to
develop and benchmark on, with no download. A data set River would download
is refused in one line. Records go out as JSON objects: the features by
name and the label as ``target``, in River's order.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
from itertools import islice
from typing import Any

import numpy as np
import orjson

from streamlearn.errors import ConfigError, MissingExtraError
from streamlearn.records.batch import RawBatch
from streamlearn.sources.base import Progress, Source
from streamlearn.sources.registry import SourceSpec

__all__ = ["TARGET", "RiverSource", "bundled", "from_spec"]

#: the name of the label in the records
TARGET = "target"


def _datasets() -> Any:
    try:
        return importlib.import_module("river.datasets")
    except ImportError:
        raise MissingExtraError("River's data sets", "river") from None


def _classes() -> dict[str, type]:
    out = {}
    for name, cls in vars(_datasets()).items():
        if inspect.isclass(cls) and hasattr(cls, "__iter__") and name[0].isupper():
            out[name.lower()] = cls
    aliases = {"segment": "imagesegments", "segments": "imagesegments", "sp500": "sp500stocks"}
    for alias, name in aliases.items():
        if name in out:
            out[alias] = out[name]
    return out


def bundled() -> list[str]:
    """The data sets River ships in its wheel that streamlearn can read (one target each)."""
    from river.datasets import base

    names = []
    for name, cls in sorted(_classes().items()):
        if name in ("segment", "segments", "sp500"):
            continue
        try:
            d = cls()
        except Exception:
            continue
        if _readable(d, base):
            names.append(name)
    return names


def _readable(dataset: Any, base: Any) -> bool:
    """A data set on this disk (in River's wheel, or downloaded before) with one target."""
    if not isinstance(dataset, base.FileDataset) or "multi-output" in dataset.task.lower():
        return False
    return not isinstance(dataset, base.RemoteDataset) or bool(
        getattr(dataset, "is_downloaded", False)
    )


def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, dt.date):
        return float(dt.datetime(value.year, value.month, value.day).timestamp())
    if isinstance(value, np.generic):
        return value.item()
    return value


class RiverSource(Source):
    """One of River's bundled data sets, record by record, in River's order.

    Parameters
    ----------
    name
        The data set, case-insensitive: ``phishing``, ``bananas``,
        ``imagesegments`` (or ``segment``), ``shuttle``...
    count
        Deliver at most this many records.

    Examples
    --------
    >>> src = RiverSource("phishing")
    >>> src.open()
    >>> len(src.read(2000)), src.exhausted
    (1250, True)
    """

    kind = "river"
    format = "json"
    replay = "index"

    def __init__(self, name: str, count: int | None = None) -> None:
        from river.datasets import base

        key = name.strip().lower().replace("-", "").replace("_", "")
        cls = _classes().get(key)
        if cls is None:
            raise ConfigError(
                f"River has no data set {name!r}; bundled ones: {', '.join(bundled())}"
            )
        dataset = cls()
        if "multi-output" in getattr(dataset, "task", "").lower():
            raise ConfigError(
                f"{cls.__name__} has several targets ({dataset.task}); streamlearn races one target"
            )
        if not _readable(dataset, base):
            raise ConfigError(
                f"River would download {cls.__name__} from the internet; streamlearn reads the data sets "
                f"River ships in its wheel: {', '.join(bundled())}"
            )
        self.dataset = dataset
        self.name = cls.__name__
        self.origin = f"river:{key}"
        self.task = "classification" if "classification" in dataset.task.lower() else "regression"
        total = int(getattr(dataset, "n_samples", 0) or 0)
        self.count = total if count is None else min(count, total) if total else count
        self._rows: Any = None
        self._next = 0

    def _records(self, start: int) -> Any:
        for x, y in islice(iter(self.dataset), start, None):
            record = {str(k): _plain(v) for k, v in x.items()}
            record[TARGET] = _plain(y)
            yield orjson.dumps(record)

    def open(self, snapshot: dict[str, Any] | None = None) -> None:
        self._next = int(snapshot["next"]) if snapshot else 0
        self._rows = self._records(self._next)

    def peek(self, n: int) -> list[bytes]:
        return list(islice(self._records(self._next), n))

    def read(self, max_records: int, timeout_s: float = 1.0) -> RawBatch:
        if self._rows is None:
            self.open()
        want = max_records if self.count is None else min(max_records, self.count - self._next)
        payloads = list(islice(self._rows, max(0, want)))
        start, self._next = self._next, self._next + len(payloads)
        if len(payloads) < want:
            self.count = self._next  # the data set ended
        return RawBatch(
            self.origin,
            payloads,
            np.zeros(len(payloads), np.int32),
            np.arange(start, self._next, dtype=np.int64),
        )

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self._next >= self.count

    def snapshot(self) -> dict[str, Any]:
        return {"next": self._next}

    def progress(self) -> Progress:
        return Progress(consumed=self._next, total=self.count)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "dataset": self.name, "task": self.task, "count": self.count}


def from_spec(spec: SourceSpec) -> RiverSource:
    """The ``river:NAME`` source."""
    return RiverSource(spec.target, spec.count)
