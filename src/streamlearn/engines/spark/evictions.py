"""Keys evicted past ``max_keys``, carried from the driver into Spark's state store.

Spark calls a key's state function only when the key has records (or times
out), so a key the driver evicts (the one unseen for longest, past a keyed
step's or a per-key race's ``max_keys``) would stay in the state store and
resume its old state if it came back. The driver writes each micro-batch's
evictions to a file of the checkpoint (:class:`EvictionLog`, before Spark
commits the batch); a second streaming source (:class:`EvictionSource`)
reads them into the next micro-batch as rows of kind ``EVICT``, grouped with
the key's records, and the key's function drops the state first. So the
state store holds at most ``max_keys`` keys per step, and a key that comes
back starts afresh as on the local engine.

Files are named by the batch that evicted, and are only written when it did,
so an AvailableNow query ends: the last batch's evictions make at most one
batch more, without records.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pyspark.sql.datasource import DataSource, DataSourceStreamReader, InputPartition
from pyspark.sql.streaming.datasource import (
    ReadAllAvailable,
    ReadLimit,
    SupportsTriggerAvailableNow,
)
from pyspark.sql.types import StructType

from streamlearn.engines.spark.blocks import EVICT

__all__ = ["EVICTIONS_FORMAT", "EvictionLog", "EvictionSource", "eviction_frame"]

#: the name the evictions source is registered under
EVICTIONS_FORMAT = "streamlearn_evictions"
_SUFFIX = ".json"


class EvictionLog:
    """The driver's side: one file per micro-batch that evicted keys.

    Examples
    --------
    >>> import tempfile
    >>> log = EvictionLog(tempfile.mkdtemp())
    >>> log.write(3, [(1, "'s2'")]); log.write(4, [])
    >>> log.batches(), log.entries(-1, 3)
    ([3], [(1, "'s2'")])
    >>> log.forget(3); log.batches()
    []
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def write(self, batch_id: int, evicted: list[tuple[int, str]]) -> None:
        """Record the keys (step, group key) batch ``batch_id`` evicted; atomic, and the
        same again if a replayed batch writes it twice."""
        if not evicted:
            return
        path = self.directory / f"{batch_id:012d}{_SUFFIX}"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps([[int(s), str(k)] for s, k in evicted]))
        os.replace(tmp, path)

    def forget(self, upto: int) -> None:
        """Remove the files of batches up to ``upto`` (read by a committed batch)."""
        for b in self.batches():
            if b <= upto:
                (self.directory / f"{b:012d}{_SUFFIX}").unlink(missing_ok=True)

    def batches(self) -> list[int]:
        """The batches that evicted keys, in order."""
        return sorted(int(p.stem) for p in self.directory.glob(f"*{_SUFFIX}"))

    def entries(self, after: int, upto: int) -> list[tuple[int, str]]:
        """The evictions of batches ``after + 1`` to ``upto``, in order."""
        out: list[tuple[int, str]] = []
        for b in self.batches():
            if after < b <= upto:
                text = (self.directory / f"{b:012d}{_SUFFIX}").read_text()
                out.extend((int(s), str(k)) for s, k in json.loads(text))
        return out


class _EvictionReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    """Offsets are the last evicting batch read; partitions carry the keys themselves, so
    executors never read the driver's files."""

    def __init__(self, directory: str) -> None:
        self.log = EvictionLog(directory)

    def initialOffset(self) -> dict[str, Any]:
        return {"upto": -1}

    def getDefaultReadLimit(self) -> ReadLimit:
        return ReadAllAvailable()

    def latestOffset(self, start: dict[str, Any], limit: ReadLimit) -> dict[str, Any]:
        found = self.log.batches()
        return {"upto": max(found[-1] if found else -1, int(start["upto"]))}

    def prepareForTriggerAvailableNow(self) -> None:
        """Nothing to fix: files written while the query runs are read by its next batch."""

    def partitions(self, start: dict[str, Any], end: dict[str, Any]) -> list[InputPartition]:
        entries = self.log.entries(int(start["upto"]), int(end["upto"]))
        return [InputPartition(entries)] if entries else []

    def read(self, partition: InputPartition) -> Iterator[tuple[int, str]]:
        yield from partition.value

    def commit(self, end: dict[str, Any]) -> None:
        """Spark committed a batch that read the files up to ``end``: they go (the log
        stays as small as the evictions not yet read)."""
        self.log.forget(int(end["upto"]))


class EvictionSource(DataSource):
    """``spark.readStream.format("streamlearn_evictions").option("dir", ...)``."""

    @classmethod
    def name(cls) -> str:
        return EVICTIONS_FORMAT

    def schema(self) -> str:
        return "_step int, _key string"

    def streamReader(self, schema: StructType) -> DataSourceStreamReader:
        return _EvictionReader(self.options["dir"])


def eviction_frame(spark: Any, directory: str) -> Any:
    """The evictions as rows of the keyed operator's schema (kind ``EVICT``)."""
    return (
        spark.readStream.format(EVICTIONS_FORMAT)
        .option("dir", directory)
        .load()
        .selectExpr(
            "CAST(-1 AS INT) AS partition",
            "CAST(-1 AS BIGINT) AS offset",
            "CAST(NULL AS BINARY) AS payload",
            "CAST(NULL AS BINARY) AS key",
            f"CAST({EVICT} AS INT) AS _kind",
            "_step",
            "_key",
            "CAST(NULL AS BINARY) AS _blob",
        )
    )
