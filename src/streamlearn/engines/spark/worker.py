"""What executors need to decode records and apply steps, exactly as the driver does.

A :class:`WorkerPlan` is pickled into Spark tasks (keyed state and batch
prediction). It holds the codec's schema (with roles) and the pipeline's
steps. Executors see only part of a micro-batch, so only steps that act row
by row may run there; :func:`row_wise` says which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from streamlearn.codecs import make_codec
from streamlearn.codecs.base import Codec
from streamlearn.records.batch import RawBatch, RecordBatch
from streamlearn.records.schema import Schema
from streamlearn.steps.base import Step
from streamlearn.steps.keyed import KeyedStep
from streamlearn.types import PositionKind

if TYPE_CHECKING:
    from streamlearn.engines.spark.key_races import RaceTemplate
    from streamlearn.engines.spark.race_units import UnitTemplate

__all__ = ["WorkerPlan", "raw_from_pandas", "row_wise"]


def row_wise(steps: Sequence[Step]) -> bool:
    """Whether every step gives the same rows on a part of a batch as on the whole.

    That holds for steps that act row by row and for steps that return their
    batch unchanged (their effect is state or files); see ``Step.scope``.
    """
    return all(s.scope in ("row", "observe") for s in steps)


@dataclass
class WorkerPlan:
    """Decoding and steps for executors; ``steps`` hold no per-key state."""

    format: str
    schema: Schema
    steps: list[Step]
    origin: str
    position_kind: PositionKind
    #: per-key races run on the executors (``--per-key``), after the steps
    race: RaceTemplate | None = None
    #: a race's models as units of state on the executors (``--workers``), after the steps
    units: UnitTemplate | None = None
    #: records cross the keyed operator in blocks, one row per task (see :mod:`.blocks`)
    record_blocks: bool = True
    #: keyed groups are named by ``repr`` of each key's Python value, and the driver's
    #: evictions join them (see .evictions); False for a checkpoint of an older release
    evictions: bool = True
    #: the codec's options (a CSV file's delimiter): executors decode as the driver does
    codec_options: dict[str, Any] = field(default_factory=dict)
    _codec: Codec | None = field(default=None, repr=False, compare=False)

    @classmethod
    def build(
        cls,
        format: str,
        codec: Codec,
        steps: Sequence[Step],
        origin: str,
        position_kind: PositionKind,
    ) -> WorkerPlan:
        light = [s.fresh() if isinstance(s, KeyedStep) else s for s in steps]
        return cls(
            format, codec.schema, light, origin, position_kind, codec_options=dict(codec.options)
        )

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_codec"] = None
        return state

    @property
    def codec(self) -> Codec:
        if self._codec is None:
            codec = make_codec(self.format, self.schema, **self.codec_options)
            codec.schema = self.schema
            self._codec = codec
        return self._codec

    def decode(self, raw: RawBatch) -> RecordBatch:
        batch, _ = self.codec.decode(raw)
        return batch

    def transform(self, batch: RecordBatch, upto: int | None = None) -> RecordBatch:
        """Apply the row-wise steps before step ``upto`` (all steps if ``None``)."""
        return self.transform_range(batch, 0, len(self.steps) if upto is None else upto)

    def transform_range(self, batch: RecordBatch, start: int, stop: int) -> RecordBatch:
        """Apply the row-wise steps ``start`` to ``stop - 1``; the others change no row."""
        for step in self.steps[start:stop]:
            if step.scope == "row":
                batch = step.apply(batch)
        return batch


def raw_from_pandas(
    pdf: pd.DataFrame, origin: str, position_kind: PositionKind, sort: bool = False
) -> RawBatch:
    """A raw batch from the data source's columns (``partition, offset, payload, key``)."""
    if sort and len(pdf):
        pdf = pdf.sort_values(["partition", "offset"], kind="stable")
    keys = pdf["key"].tolist()
    return RawBatch(
        origin,
        [bytes(p) if p is not None else b"" for p in pdf["payload"].tolist()],
        pdf["partition"].to_numpy(dtype=np.int32),
        pdf["offset"].to_numpy(dtype=np.int64),
        keys if any(k is not None for k in keys) else None,
        position_kind,
    )
