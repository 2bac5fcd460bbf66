"""Atomic snapshots of learner state, metrics, sink positions and source offsets.

One file holds everything, so state and offsets can never disagree: it is
written to a temporary file, fsynced and renamed over the previous one. A run
killed at any moment restarts from the last complete snapshot.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamlearn.errors import ConfigError
from streamlearn.sinks.files import atomic_write_bytes

__all__ = ["Checkpoint", "Checkpointer"]

_FORMAT = 1


@dataclass
class Checkpoint:
    #: the id of the next batch to process
    next_batch: int
    processor: bytes
    source_position: dict[str, Any]
    sink_positions: dict[str, dict[str, Any]]
    fingerprint: str
    elapsed_s: float = 0.0


class Checkpointer:
    """Saves a :class:`Checkpoint` every ``every`` batches into ``folder``.

    ``fingerprint`` describes the pipeline; a checkpoint written by a
    different pipeline is refused rather than silently mixed in.
    """

    FILE = "state.pkl"

    def __init__(self, folder: str | Path, fingerprint: str, every: int = 1) -> None:
        if every < 1:
            raise ConfigError("checkpoint interval must be at least 1 batch")
        self.folder = Path(folder)
        self.fingerprint = fingerprint
        self.every = every
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create checkpoint folder {self.folder}: {exc.strerror}") from None

    @property
    def path(self) -> Path:
        return self.folder / self.FILE

    def load(self) -> Checkpoint | None:
        if not self.path.exists():
            return None
        try:
            version, ckpt = pickle.loads(self.path.read_bytes())
        except Exception as exc:
            raise ConfigError(f"checkpoint {self.path} is unreadable: {exc}") from None
        if version != _FORMAT or not isinstance(ckpt, Checkpoint):
            raise ConfigError(f"checkpoint {self.path} has an unknown format")
        if ckpt.fingerprint != self.fingerprint:
            raise ConfigError(
                f"checkpoint {self.folder} belongs to a different pipeline; use a new --checkpoint folder"
            )
        return ckpt

    def due(self, batches_done: int) -> bool:
        return batches_done % self.every == 0

    def save(self, ckpt: Checkpoint) -> None:
        atomic_write_bytes(self.path, pickle.dumps((_FORMAT, ckpt), protocol=pickle.HIGHEST_PROTOCOL))
