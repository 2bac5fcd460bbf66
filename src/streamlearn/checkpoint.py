"""Atomic, integrity-checked snapshots of learner state, metrics, sink positions and source offsets.

One file holds everything, so state and offsets can never disagree: it is
written to a temporary file, fsynced and renamed over the previous one. A run
killed at any moment restarts from the last complete snapshot.

A checkpoint is trusted data, like a pickled model: its payload is a pickle.
So the file starts with a small JSON header (format version, pipeline
fingerprint, size and SHA-256 of the payload) that is checked before any
byte of the payload is unpickled: a checkpoint of another pipeline, a
truncated or altered file is refused in one line. So are checkpoint folders
and files that other users may write, or that another user owns, as ssh
refuses such keys.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from streamlearn.errors import ConfigError
from streamlearn.outputs import check_folder, os_reason, output_failed
from streamlearn.sinks.files import atomic_write_bytes, remove_stale_temporaries

__all__ = ["FORMAT_VERSION", "MAGIC", "Checkpoint", "Checkpointer", "read_header"]

#: the first line of every checkpoint file
MAGIC = b"streamlearn checkpoint\n"
#: the layout of the header and payload; a file of another version is refused
FORMAT_VERSION = 3  # 3: per-key races hold their own classes; labels joined by key
#: a header longer than this is not one of ours
_MAX_HEADER = 1 << 16


@dataclass
class Checkpoint:
    #: the id of the next batch to process
    next_batch: int
    processor: bytes
    source_position: dict[str, Any]
    sink_positions: dict[str, dict[str, Any]]
    fingerprint: str
    elapsed_s: float = 0.0


def read_header(path: str | Path) -> dict[str, Any]:
    """The JSON header of a checkpoint file (``next_batch`` among others), payload unread.

    Raises
    ------
    ConfigError
        When the file is not a streamlearn checkpoint.
    """
    with open(path, "rb") as fh:
        head = fh.read(len(MAGIC) + _MAX_HEADER)
    return _parse(Path(path), head)[0]


def _parse(path: Path, data: bytes) -> tuple[dict[str, Any], int]:
    if not data.startswith(MAGIC):
        raise ConfigError(
            f"checkpoint {path} is not a streamlearn checkpoint; use a new --checkpoint folder"
        )
    end = data.find(b"\n", len(MAGIC), len(MAGIC) + _MAX_HEADER)
    if end < 0:
        raise ConfigError(f"checkpoint {path} has a damaged header; use a new --checkpoint folder")
    try:
        header = orjson.loads(data[len(MAGIC) : end])
    except orjson.JSONDecodeError:
        raise ConfigError(
            f"checkpoint {path} has a damaged header; use a new --checkpoint folder"
        ) from None
    if not isinstance(header, dict):
        raise ConfigError(f"checkpoint {path} has a damaged header; use a new --checkpoint folder")
    return header, end + 1


def _check_private(path: Path, what: str) -> None:
    """Refuse ``path`` if another user owns it or may write to it."""
    try:
        info = path.stat()
    except OSError as exc:
        raise ConfigError(f"cannot read checkpoint {what} {path}: {exc.strerror}") from None
    uid = os.getuid()
    if info.st_uid not in (uid, 0) or (uid == 0 and info.st_uid != 0):
        raise ConfigError(
            f"checkpoint {what} {path} belongs to another user (uid {info.st_uid}); "
            "a checkpoint is trusted code, so it must be your own"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(
            f"checkpoint {what} {path} is writable by other users (mode {stat.S_IMODE(info.st_mode):o}); "
            f"a checkpoint is trusted code: chmod go-w {path}"
        )


class Checkpointer:
    """Saves a :class:`Checkpoint` every ``every`` batches into ``folder``.

    ``fingerprint`` describes the pipeline; a checkpoint written by a
    different pipeline is refused rather than silently mixed in.
    """

    FILE = "state.ckpt"

    def __init__(self, folder: str | Path, fingerprint: str, every: int = 1) -> None:
        if every < 1:
            raise ConfigError("--checkpoint-every must be at least 1 batch")
        self.folder = Path(folder)
        self.fingerprint = fingerprint
        self.every = every
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ConfigError(
                f"cannot create checkpoint folder {self.folder}: {os_reason(exc, self.folder)}"
            ) from None
        _check_private(self.folder, "folder")
        check_folder(self.folder, "checkpoints")
        remove_stale_temporaries(self.folder)

    @property
    def path(self) -> Path:
        return self.folder / self.FILE

    def load(self) -> Checkpoint | None:
        """The saved checkpoint, checked before it is unpickled; ``None`` if there is none."""
        if not self.path.exists():
            return None
        _check_private(self.path, "file")
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read checkpoint {self.path}: {exc.strerror}") from None
        header, start = _parse(self.path, data)
        if header.get("format") != FORMAT_VERSION:
            raise ConfigError(
                f"checkpoint {self.path} has format {header.get('format')!r}, this streamlearn "
                f"reads format {FORMAT_VERSION}; use a new --checkpoint folder"
            )
        if header.get("fingerprint") != self.fingerprint:
            raise ConfigError(
                f"checkpoint {self.folder} belongs to a different pipeline; use a new --checkpoint folder"
            )
        payload = data[start:]
        if len(payload) != header.get("bytes") or hashlib.sha256(payload).hexdigest() != header.get(
            "sha256"
        ):
            raise ConfigError(
                f"checkpoint {self.path} is damaged (its checksum does not match); use a new --checkpoint folder"
            )
        try:
            ckpt = pickle.loads(payload)
        except Exception as exc:
            raise ConfigError(f"checkpoint {self.path} is unreadable: {exc}") from None
        if not isinstance(ckpt, Checkpoint):
            raise ConfigError(f"checkpoint {self.path} has an unknown layout")
        return ckpt

    def due(self, batches_done: int) -> bool:
        return batches_done % self.every == 0

    def save(self, ckpt: Checkpoint) -> None:
        payload = pickle.dumps(ckpt, protocol=pickle.HIGHEST_PROTOCOL)
        header = {
            "format": FORMAT_VERSION,
            "fingerprint": ckpt.fingerprint,
            "bytes": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "next_batch": ckpt.next_batch,
        }
        try:
            atomic_write_bytes(self.path, MAGIC + orjson.dumps(header) + b"\n" + payload)
        except OSError as exc:
            raise output_failed("checkpoint", self.path, exc) from None
