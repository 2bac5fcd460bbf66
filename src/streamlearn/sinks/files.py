"""Files per batch, written atomically and named by batch id (so idempotent)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from streamlearn.errors import ConfigError
from streamlearn.outputs import Output, check_folder, output_failed
from streamlearn.sinks.base import BatchResult, Sink

__all__ = [
    "PredictionsSink",
    "atomic_write_bytes",
    "remove_stale_temporaries",
    "write_batch_file",
]

FORMATS = ("csv", "parquet")
#: in the name of a temporary file, before the writer's process id
TEMP_MARK = ".tmp-"


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}{TEMP_MARK}{os.getpid()}")


def remove_stale_temporaries(folder: Path) -> int:
    """Delete what writes killed half-way left in ``folder``; returns how many."""
    removed = 0
    for stale in folder.glob(f".*{TEMP_MARK}*"):
        with contextlib.suppress(OSError):
            stale.unlink()
            removed += 1
    return removed


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a temporary file, fsync it, rename it over ``path``, fsync the folder.

    A process killed half-way leaves only a hidden temporary file, which
    :func:`remove_stale_temporaries` deletes when the folder is next opened.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _table(columns: Mapping[str, np.ndarray]) -> pa.Table:
    arrays = {}
    for k, v in columns.items():
        arr = np.asarray(v)
        arrays[k] = pa.array(arr.tolist() if arr.dtype == object else arr)
    return pa.table(arrays)


def write_batch_file(
    folder: Path, batch_id: int, columns: Mapping[str, np.ndarray], format: str
) -> Path:
    """Write one batch as ``batch-000042.csv`` (or ``.parquet``), atomically."""
    if format not in FORMATS:
        raise ConfigError(f"file format must be one of {', '.join(FORMATS)}, not {format!r}")
    path = Path(folder) / f"batch-{batch_id:06d}.{format}"
    table = _table(columns)
    sink = pa.BufferOutputStream()
    if format == "csv":
        pacsv.write_csv(table, sink)
    else:
        pq.write_table(table, sink)
    atomic_write_bytes(path, sink.getvalue().to_pybytes())
    return path


class PredictionsSink(Sink):
    """Record ids, each model's prediction and the label, one file per batch.

    ``path`` is a folder; ``format`` is ``csv`` or ``parquet``.
    """

    default_id = "predictions"

    def __init__(self, path: str | Path, format: str = "csv", sink_id: str | None = None) -> None:
        if format not in FORMATS:
            raise ConfigError(f"predictions format must be one of {', '.join(FORMATS)}")
        self.sink_id = sink_id
        self.folder = Path(path)
        self.format = format

    def outputs(self) -> list[Output]:
        return [("predictions", self.folder, "folder")]

    def open(self, snapshot: dict | None = None) -> None:
        check_folder(self.folder, "predictions")
        remove_stale_temporaries(self.folder)

    def write(self, result: BatchResult) -> None:
        records = result.records
        cols: dict[str, np.ndarray] = {
            "origin": np.full(len(records), records.origin, dtype=object),
            "partition": records.partitions,
            "offset": records.offsets,
        }
        if result.keys is not None:
            cols["key"] = result.keys
        if result.champion is not None and result.champion in result.predictions:
            cols["champion"] = np.full(len(records), result.champion, dtype=object)
            cols["prediction"] = result.predictions[result.champion]
        for name, preds in result.predictions.items():
            cols[f"pred:{name}"] = preds
        if result.targets is not None:
            cols["label"] = result.targets
        try:
            write_batch_file(self.folder, result.batch_id + 1, cols, self.format)
        except OSError as exc:
            raise output_failed("predictions", self.folder, exc) from None
