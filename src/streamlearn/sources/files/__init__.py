"""Files as people have them: CSV/TSV and JSON lines (plain or compressed), Parquet and Arrow, directories and globs.

:func:`open_path` picks the reader of a path: a directory or a glob becomes
one stream of its files in name order (:class:`ManyFiles`); a Parquet or
Arrow file is read through pyarrow (:class:`ColumnarSource`); any other file
is text (:class:`FileSource`), compressed or not.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

from streamlearn.errors import ConfigError, SourceError
from streamlearn.sources.base import Source
from streamlearn.sources.files.columnar import COLUMNAR_FORMATS, ColumnarSource, columnar_format_of
from streamlearn.sources.files.compressed import stem
from streamlearn.sources.files.many import ManyFiles
from streamlearn.sources.files.text import JSON_SUFFIXES, FileSource
from streamlearn.sources.registry import SourceSpec

__all__ = ["ColumnarSource", "FileSource", "ManyFiles", "from_spec", "is_path_like", "open_path"]

_GLOB = set("*?[")
_SKIP = ("_SUCCESS", "_committed", "_started")  # markers Spark and Hadoop leave beside their parts


def is_path_like(text: str) -> bool:
    """Whether a ``--source`` value names a file, a directory or a glob."""
    return Path(text).exists() or bool(_GLOB & set(text)) or "/" in text


def _files(pattern: str) -> list[Path]:
    path = Path(pattern)
    if path.is_dir():
        found = [p for p in path.iterdir() if p.is_file()]
    else:
        found = [Path(p) for p in glob.glob(pattern) if Path(p).is_file()]
    return sorted(p for p in found if not p.name.startswith((".", *_SKIP)))


def _reader(format: str | None, options: dict[str, Any]) -> Any:
    def read(path: Path) -> Source:
        kind = format
        if kind in (None, "file", "auto"):
            kind = columnar_format_of(path)
        if kind in COLUMNAR_FORMATS:
            return ColumnarSource(path, kind)
        text = None if kind in (None, "file", "auto") else kind
        if text is None and Path(stem(path)).suffix.lower() in JSON_SUFFIXES:
            text = "json"
        return FileSource(path, format=text, **options)

    return read


def open_path(
    pattern: str,
    format: str | None = None,
    count: int | None = None,
    delimiter: str | None = None,
    header: bool | None = None,
    columns: list[str] | tuple[str, ...] | None = None,
) -> Source:
    """The source of a file, a directory or a glob, read as the path says.

    Parameters
    ----------
    format
        ``csv``, ``json``, ``parquet`` or ``arrow``; ``None`` decides from
        each file's magic bytes and extension.
    """
    options = {"delimiter": delimiter, "header": header, "columns": columns}
    read = _reader(format, options)
    path = Path(pattern)
    if path.is_file():
        src = read(path)
        if count is not None:
            src.count = count
        return src
    if not path.is_dir() and not (_GLOB & set(pattern)):
        raise SourceError(f"file not found: {pattern}")
    files = _files(pattern)
    if not files:
        raise SourceError(f"no file to read in {pattern}")
    return ManyFiles(pattern, files, read, count)


def from_spec(spec: SourceSpec) -> Source:
    """The ``csv:PATH``, ``json:PATH``, ``parquet:PATH``, ``arrow:PATH`` and ``file:PATH`` sources."""
    kind = None if spec.kind == "file" else spec.kind
    if spec.columns is not None and kind in COLUMNAR_FORMATS:
        raise ConfigError(
            "--columns names the columns of text files; Parquet and Arrow files name their own"
        )
    return open_path(spec.target, kind, spec.count, spec.delimiter, spec.header, spec.columns)
