"""Where the driver is in Spark's batches, saved in every checkpoint of a Spark run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from streamlearn.records.batch import RawBatch

if TYPE_CHECKING:
    from streamlearn.checkpoint import Checkpoint

__all__ = ["DriverState"]


@dataclass
class DriverState:
    """Where the driver is in Spark's batches; saved as the checkpoint's source position."""

    spark_batch: int = -1
    #: per partition, the first offset read and the offset after the last one
    first: dict[int, int] = field(default_factory=dict)
    after: dict[int, int] = field(default_factory=dict)
    #: indices of the keyed steps whose state is in Spark's (a restart must agree)
    keyed: list[int] | None = None
    #: group keys of the race's models kept in Spark's state (key to model name)
    units: dict[str, str] | None = None
    #: evicted keys reach Spark's state store (see .evictions); not in an older release's
    evictions: bool = True

    def snapshot(self) -> dict[str, Any]:
        return {
            "spark_batch": self.spark_batch,
            "first": {str(p): o for p, o in self.first.items()},
            "after": {str(p): o for p, o in self.after.items()},
            "keyed": self.keyed,
            "units": self.units,
            "evictions": self.evictions,
        }

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint | None) -> DriverState:
        if ckpt is None:
            return cls()
        pos = ckpt.source_position
        return cls(
            int(pos.get("spark_batch", -1)),
            {int(p): int(o) for p, o in pos.get("first", {}).items()},
            {int(p): int(o) for p, o in pos.get("after", {}).items()},
            pos.get("keyed"),
            pos.get("units"),
            bool(pos.get("evictions", False)),
        )

    def advance(self, raw: RawBatch) -> None:
        if not len(raw):
            return
        parts = raw.partitions
        for p in np.unique(parts).tolist():
            offs = raw.offsets[parts == p]
            self.first.setdefault(p, int(offs.min()))
            self.after[p] = max(self.after.get(p, 0), int(offs.max()) + 1)
