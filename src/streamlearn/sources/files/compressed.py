"""Opening files as people have them: plain, or compressed with gzip, bz2, xz, zstd or zip.

The compression is recognised by its magic bytes (the file's first bytes),
else by the extension. A compressed stream cannot seek: positions count
bytes of the decompressed text, and a resume reads up to them again.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
from pathlib import Path
from typing import IO, Any, Literal, cast

from streamlearn.errors import SourceError

__all__ = ["COMPRESSIONS", "Compression", "compression_of", "open_binary", "skip_to", "stem"]

Compression = Literal["gzip", "bz2", "xz", "zstd", "zip"]
COMPRESSIONS: tuple[Compression, ...] = ("gzip", "bz2", "xz", "zstd", "zip")
_MAGIC: tuple[tuple[bytes, Compression], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"PK\x03\x04", "zip"),
)
_SUFFIXES: dict[str, Compression] = {
    ".gz": "gzip",
    ".gzip": "gzip",
    ".bz2": "bz2",
    ".xz": "xz",
    ".zst": "zstd",
    ".zstd": "zstd",
    ".zip": "zip",
}


def _raw_open(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise SourceError(f"file not found: {path}") from None
    except IsADirectoryError:
        raise SourceError(f"not a file: {path}") from None
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None


def compression_of(path: Path) -> Compression | None:
    """The file's compression, from its first bytes (else its extension); ``None`` if plain."""
    with _raw_open(path) as fh:
        head = fh.read(8)
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None if head else _SUFFIXES.get(path.suffix.lower())


def stem(path: Path) -> str:
    """The file's name without a compression extension: ``rows.csv`` for ``rows.csv.gz``."""
    name = path.name
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _zip_member(path: Path) -> IO[bytes]:
    archive = zipfile.ZipFile(path)
    members = [
        m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")
    ]
    if len(members) != 1:
        names = ", ".join(m.filename for m in members[:5])
        raise SourceError(
            f"{path} holds {len(members)} files ({names}); unzip it and give the one to read"
        )
    return archive.open(members[0])


def open_binary(path: Path, compression: Compression | None) -> IO[bytes]:
    """The file's decompressed bytes, as a stream read from the start."""
    if compression is None:
        return _raw_open(path)
    try:
        if compression == "gzip":
            return cast(IO[bytes], gzip.open(path, "rb"))
        if compression == "bz2":
            return cast(IO[bytes], bz2.open(path, "rb"))
        if compression == "xz":
            return cast(IO[bytes], lzma.open(path, "rb"))
        if compression == "zip":
            return _zip_member(path)
        import pyarrow as pa

        # zstd through pyarrow, which ships the codec: no other package needed
        stream = pa.CompressedInputStream(pa.OSFile(str(path)), "zstd")
        return io.BufferedReader(_Raw(stream), buffer_size=1 << 20)
    except OSError as exc:
        raise SourceError(f"cannot read {path} ({compression}): {exc}") from None


class _Raw(io.RawIOBase):
    """A pyarrow input stream as a raw Python stream, so that it can be buffered (``readline``)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._stream.close()
        super().close()


def skip_to(stream: IO[bytes], byte: int, plain: bool) -> None:
    """Move ``stream`` to decompressed ``byte``: a seek for a plain file, a read otherwise."""
    if plain:
        stream.seek(byte)
        return
    left = byte
    while left > 0:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            raise SourceError("the file is shorter than the position to resume from")
        left -= len(chunk)
