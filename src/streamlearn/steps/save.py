"""Saving each batch to disk, as the course's lab does, idempotently by batch id."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from streamlearn.outputs import Output, output_failed
from streamlearn.records.batch import RecordBatch
from streamlearn.sinks.files import remove_stale_temporaries, write_batch_file
from streamlearn.steps.base import Step
from streamlearn.types import StepKind

__all__ = ["SaveBatches"]


class SaveBatches(Step):
    """Writes every batch to ``folder/batch-000001.csv`` (or ``.parquet``).

    The file is named by batch id and written atomically, so a batch replayed
    after a restart overwrites its file with the same content.
    """

    scope: ClassVar[StepKind] = "observe"
    default_id = "save"

    def __init__(
        self,
        folder: str | Path,
        format: str = "csv",
        columns: Sequence[str] | None = None,
        step_id: str | None = None,
    ):
        self.folder = Path(folder)
        self.format = format
        self.columns = tuple(columns) if columns else None
        self.step_id = step_id
        self.reads = self.columns or ()  # saves what the run decodes

    def outputs(self) -> list[Output]:
        return [("--save", self.folder, "folder")]

    def apply(self, batch: RecordBatch) -> RecordBatch:
        if not self.__dict__.get("_cleaned"):  # once per run: files of a write that was killed
            if self.folder.is_dir():
                remove_stale_temporaries(self.folder)
            self.__dict__["_cleaned"] = True
        cols = batch.columns if self.columns is None else {c: batch.column(c) for c in self.columns}
        try:
            write_batch_file(
                self.folder, batch.batch_id + 1, {"offset": batch.offsets, **cols}, self.format
            )
        except OSError as exc:
            raise output_failed("--save", self.folder, exc) from None
        return batch
