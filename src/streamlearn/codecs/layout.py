"""How delimited text is cut: the delimiter, whether a header comes first, the column names.

Decided by majority over a file's (or topic's) first lines: the delimiter is
the one that cuts most lines into the same number of fields, and a first
line is a header unless it looks like the data below it.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from streamlearn.codecs.delimited_row import FLOAT_RE
from streamlearn.errors import ConfigError

__all__ = ["DELIMITERS", "SAMPLE", "Layout", "rows_of", "sniff_layout"]

#: records read to decide formats, layouts and types
SAMPLE = 1000
#: the delimiters tried, in order of preference
DELIMITERS = (",", "\t", ";", "|")


@dataclass(frozen=True)
class Layout:
    """How delimited text is cut: the delimiter, whether a header comes first, the column names."""

    delimiter: str
    header: bool
    names: tuple[str, ...]


def _split(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(line, newline=""), delimiter=delimiter), [])
    except csv.Error:
        return line.split(delimiter)


def _decode_lines(lines: Sequence[bytes]) -> list[str]:
    out = []
    for raw in lines:
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if text.strip():
            out.append(text.removeprefix("\ufeff"))
    return out


def _pick_delimiter(lines: Sequence[str]) -> tuple[str, int]:
    """The delimiter that cuts most lines into the same number (> 1) of fields, and that number."""
    best: tuple[float, int, str] = (0.0, 1, ",")
    for rank, d in enumerate(DELIMITERS):
        counts = Counter(len(_split(line, d)) for line in lines)
        width, agree = counts.most_common(1)[0]
        if width < 2:
            continue
        score = agree / len(lines) - rank * 1e-3  # ties go to the earlier delimiter
        if score > best[0]:
            best = (score, width, d)
    return best[2], best[1]


def _looks_numeric(cell: str) -> bool:
    return bool(FLOAT_RE.fullmatch(cell.strip(" \t")))


def sniff_layout(
    lines: Sequence[bytes],
    delimiter: str | None = None,
    header: bool | None = None,
    names: Sequence[str] | None = None,
    origin: str = "the data",
    default_names: Sequence[str] | None = None,
) -> Layout:
    """Decide a delimited text's delimiter, header and column names from its first lines.

    ``delimiter``, ``header`` (``False`` for ``--no-header``) and ``names``
    (``--columns``) override what the lines suggest. ``default_names``
    (messages of a topic) are the names when no header comes first and the
    widths agree; a file without a header needs ``--no-header`` or
    ``--columns`` instead.

    Raises
    ------
    ConfigError
        When the lines cannot be read as records: one column only, or a
        first line that looks like data with no names given.
    """
    text = _decode_lines(lines[: SAMPLE + 1])
    if not text:
        raise ConfigError(f"{origin} is empty: no line to read")
    if delimiter is None:
        delimiter, width = _pick_delimiter(text)
    else:
        width = Counter(len(_split(line, delimiter)) for line in text).most_common(1)[0][0]
    if width < 2 and names is None:
        raise ConfigError(
            f"found 1 column in {origin}; is the delimiter a tab or a semicolon? use --delimiter '\\t' (or ';', '|')"
        )
    first = [c.strip() for c in _split(text[0], delimiter)]
    if names is not None:
        names = tuple(names)
        if header is None:  # names given: a first line spelling them is a header to skip
            header = tuple(first) == names
        if len(names) != width:
            raise ConfigError(f"--columns names {len(names)} columns, {origin} has {width}")
        return Layout(delimiter, header, names)
    if header is False:
        return Layout(delimiter, False, tuple(f"c{i}" for i in range(width)))
    rows = [_split(line, delimiter) for line in text[1:] if len(_split(line, delimiter)) == width]
    numeric_in_data = {
        j for j in range(width) if rows and sum(_looks_numeric(r[j]) for r in rows) * 2 > len(rows)
    }
    numeric_first = {j for j, c in enumerate(first) if _looks_numeric(c)}
    looks_like_data = bool(numeric_in_data) and numeric_first >= numeric_in_data
    if header is None and looks_like_data and default_names is not None:
        names = (
            tuple(default_names)
            if len(default_names) == width
            else tuple(f"c{i}" for i in range(width))
        )
        return Layout(delimiter, False, names)
    if header is None and looks_like_data:
        words = len(first) - len(numeric_first)
        raise ConfigError(
            f"no header found in {origin}: the first line looks like data ({len(numeric_first)} numbers, "
            f"{words} words); use --no-header or --columns"
        )
    if len(first) != width or any(not c for c in first):
        raise ConfigError(
            f"the header of {origin} has {len(first)} names for {width} columns, or an empty one"
        )
    if len(set(first)) != len(first):
        dup = next(c for c in first if first.count(c) > 1)
        raise ConfigError(f"the header of {origin} names column {dup!r} twice; use --columns")
    return Layout(delimiter, True, tuple(first))


def rows_of(lines: Sequence[bytes], layout: Layout) -> list[list[str]]:
    """Lines cut into cells (the header skipped), for inference."""
    text = _decode_lines(lines)
    if layout.header and text:
        text = text[1:]
    return [_split(line, layout.delimiter) for line in text]
