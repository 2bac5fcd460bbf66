"""The course's literal-list payloads: ``[counter, y, x1, ..., xN]`` as NumPy prints them.

A payload is the text of ``np.array2string(row, separator=",")``: brackets,
padding, line breaks, scientific notation, ``nan`` and ``inf``. It is parsed
with a strict grammar, never with ``eval``. A whole batch goes through a
compiled parser (:func:`parse_rows`); only the payloads it rejects are re-read
one by one in Python (:func:`parse_literal`), either to parse an unusual but
valid number or to name the fault.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
from numba import njit

from streamlearn.codecs.base import Codec
from streamlearn.codecs.literal_format import format_rows
from streamlearn.errors import ConfigError
from streamlearn.records.batch import DeadLetter, RawBatch, RecordBatch
from streamlearn.records.schema import Schema, literal_schema

__all__ = ["LiteralCodec", "LiteralError", "parse_literal", "parse_rows"]

# The same grammar as the compiled parser: ASCII digits, optional sign,
# decimal point and exponent, or nan / inf / infinity in any case.
_NUMBER = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|nan|inf(?:inity)?)",
    re.IGNORECASE | re.ASCII,
)
_WS = " \t\n\r\f\v"
_INT64_LIMIT = 2.0**63
_POW10 = np.array([10.0**k for k in range(23)])  # all exact in float64


# -- the compiled batch parser ---------------------------------------------------


@njit(cache=True, inline="always")
def _skip_ws(buf: np.ndarray, i: int, e: int) -> int:
    while i < e and (buf[i] == 32 or 9 <= buf[i] <= 13):
        i += 1
    return i


@njit(cache=True, inline="always")
def _match_word(buf: np.ndarray, i: int, e: int, c0: int, c1: int, c2: int) -> bool:
    """``buf[i:i+3]`` spells ``c0 c1 c2`` in any case."""
    return i + 3 <= e and buf[i] | 32 == c0 and buf[i + 1] | 32 == c1 and buf[i + 2] | 32 == c2


@njit(cache=True, inline="always")
def _parse_number(buf: np.ndarray, i: int, e: int) -> tuple[bool, float, int]:
    """Parse one token at ``buf[i:]``: (ok, value, end). Not ok also means "ask Python"."""
    neg = False
    if i < e and (buf[i] == 43 or buf[i] == 45):
        neg = buf[i] == 45
        i += 1
    if _match_word(buf, i, e, 110, 97, 110):
        return True, np.nan, i + 3
    if _match_word(buf, i, e, 105, 110, 102):
        i += 3
        if (
            _match_word(buf, i, e, 105, 110, 105)
            and i + 5 <= e
            and (buf[i + 3] | 32 == 116 and buf[i + 4] | 32 == 121)
        ):
            i += 5  # "infinity"
        return True, -np.inf if neg else np.inf, i
    mant = np.int64(0)
    dexp = 0
    digits = 0
    exact = True
    while i < e and 48 <= buf[i] <= 57:
        if mant < 100000000000000000:
            mant = mant * 10 + (buf[i] - 48)
        else:
            dexp += 1
            exact = exact and buf[i] == 48
        digits += 1
        i += 1
    if i < e and buf[i] == 46:
        i += 1
        while i < e and 48 <= buf[i] <= 57:
            if mant < 100000000000000000:
                mant = mant * 10 + (buf[i] - 48)
                dexp -= 1
            else:
                exact = exact and buf[i] == 48
            digits += 1
            i += 1
    if digits == 0:
        return False, 0.0, i
    if i < e and (buf[i] == 101 or buf[i] == 69):
        i += 1
        eneg = False
        if i < e and (buf[i] == 43 or buf[i] == 45):
            eneg = buf[i] == 45
            i += 1
        if i >= e or not 48 <= buf[i] <= 57:
            return False, 0.0, i
        ev = 0
        while i < e and 48 <= buf[i] <= 57:
            if ev < 100000:
                ev = ev * 10 + (buf[i] - 48)
            i += 1
        dexp += -ev if eneg else ev
    if mant == 0:
        v = 0.0
    elif exact and mant <= 9007199254740992 and -22 <= dexp <= 22:
        # Clinger's fast path: one correctly rounded operation on exact operands
        v = mant * _POW10[dexp] if dexp >= 0 else mant / _POW10[-dexp]
    else:
        return False, 0.0, i
    return True, -v if neg else v, i


@njit(cache=True)
def _parse_many(buf: np.ndarray, starts: np.ndarray, out: np.ndarray, ok: np.ndarray) -> None:
    m = out.shape[1]
    for r in range(out.shape[0]):
        ok[r] = False
        i = _skip_ws(buf, starts[r], starts[r + 1])
        e = starts[r + 1]
        if i >= e or buf[i] != 91:
            continue
        i += 1
        k = 0
        good = False
        while True:
            i = _skip_ws(buf, i, e)
            if k >= m:
                break
            valid, v, i = _parse_number(buf, i, e)
            if not valid:
                break
            out[r, k] = v
            k += 1
            i = _skip_ws(buf, i, e)
            if i >= e:
                break
            if buf[i] == 44:
                i += 1
                continue
            if buf[i] == 93:
                good = _skip_ws(buf, i + 1, e) == e and k == m
            break
        ok[r] = good


def parse_rows(payloads: Sequence[bytes], n_values: int) -> tuple[np.ndarray, np.ndarray]:
    """Parse literal lists of exactly ``n_values`` numbers each, compiled, in one pass.

    Parameters
    ----------
    payloads
        Texts such as ``np.array2string(row, separator=",")`` prints.
    n_values
        The number of values each list must hold.

    Returns
    -------
    values, ok
        ``(n, n_values)`` floats (column-major, so columns are contiguous) and
        a mask of the payloads parsed here. A payload not ok is malformed, or
        merely unusual (a number with more than 17 significant digits, say):
        :func:`parse_literal` re-reads it and either parses it or says why not.
    """
    n = len(payloads)
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, payloads), dtype=np.int64, count=n), out=starts[1:])
    buf = np.frombuffer(b"".join(payloads), dtype=np.uint8)
    values = np.empty((n, n_values), dtype=np.float64, order="F")  # contiguous columns
    ok = np.empty(n, dtype=np.bool_)
    _parse_many(buf, starts, values, ok)
    return values, ok


# -- the strict per-record parser -------------------------------------------------


class LiteralError(ValueError):
    """A payload that is not a literal list of numbers; the message is the reason."""


def parse_literal(payload: bytes, n_values: int | None = None) -> np.ndarray:
    """Parse one literal list strictly.

    Parameters
    ----------
    payload
        UTF-8 text such as ``b"[ 0.  , 1.5e+00,nan]"``.
    n_values
        The number of values required, or ``None`` for any number.

    Returns
    -------
    numpy.ndarray
        The values as ``float64``.

    Raises
    ------
    LiteralError
        With a reason such as ``"expected 12 values, got 5"`` or
        ``"not a number: 'abc' at index 3"``.
    """
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LiteralError(f"not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    text = text.strip(_WS)
    if not text:
        raise LiteralError("empty payload")
    if not text.startswith("["):
        raise LiteralError(f"missing '[' at the start: {_clip(text)!r}")
    if not text.endswith("]") or len(text) < 2:
        raise LiteralError(f"missing ']' at the end: {_clip(text)!r}")
    inner = text[1:-1]
    tokens = inner.split(",") if inner.strip(_WS) else []
    values = np.empty(len(tokens), dtype=np.float64)
    for k, raw_token in enumerate(tokens):
        token = raw_token.strip(_WS)
        if not token:
            raise LiteralError(f"empty value at index {k}")
        if not _NUMBER.fullmatch(token):
            raise LiteralError(f"not a number: {_clip(token)!r} at index {k}")
        values[k] = float(token)
    if n_values is not None and len(values) != n_values:
        raise LiteralError(f"expected {n_values} values, got {len(values)}")
    return values


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


class LiteralCodec(Codec):
    """Literal lists ``[counter, y, x1, ..., xN]``, the course's message format.

    Parameters
    ----------
    schema
        Fields in list order; by default :func:`literal_schema` with
        ``n_features`` features (``counter`` is an ``int64`` column, the rest
        ``float64``). Its ``nonfinite`` policy decides whether rows with NaN
        or inf are dead-lettered or kept.
    n_features
        The number of features when ``schema`` is ``None`` (a given schema
        fixes its own width). ``None`` always means: infer it from the first
        valid record (at least 3 values) and then keep it; until then
        ``schema`` is a placeholder without features, and only a given
        schema's ``nonfinite`` policy is kept.

    Examples
    --------
    >>> codec = LiteralCodec(n_features=2)
    >>> codec.encode({"counter": [7], "y": [0.5], "x1": [1.0], "x2": [-2.0]})
    [b'[ 7. , 0.5, 1. ,-2. ]']
    """

    name = "literal"

    def __init__(self, schema: Schema | None = None, *, n_features: int | None = 10) -> None:
        self._inferring = n_features is None
        if n_features is None:
            policy = "dead-letter" if schema is None else schema.nonfinite
            schema = replace(literal_schema(0), nonfinite=policy)
        elif schema is None:
            if n_features < 0:
                raise ConfigError(f"n_features must be >= 0, not {n_features}")
            schema = literal_schema(n_features)
        for f in schema.fields:
            if f.kind == "str":
                raise ConfigError(f"the literal format holds numbers only; field {f.name!r} is str")
        super().__init__(schema)

    @property
    def n_values(self) -> int | None:
        """Values per list, or ``None`` while still inferring."""
        return None if self._inferring else len(self.schema.fields)

    def _fix_width(self, n_values: int) -> None:
        self.schema = replace(literal_schema(n_values - 2), nonfinite=self.schema.nonfinite)
        self._inferring = False

    def _infer(self, payloads: Sequence[bytes]) -> None:
        for p in payloads:
            try:
                values = parse_literal(p)
            except LiteralError:
                continue
            if len(values) >= 3:
                self._fix_width(len(values))
                return

    # -- decoding -------------------------------------------------------------------
    def decode(self, raw: RawBatch) -> tuple[RecordBatch, list[DeadLetter]]:
        """Parse a batch; bad payloads become dead letters, good ones keep their order."""
        if self._inferring:
            self._infer(raw.payloads)
        if self._inferring:  # nothing valid yet: every payload says why
            why = {i: self._reason(p) for i, p in enumerate(raw.payloads)}
            return self._assemble(raw, np.empty((0, 0)), np.zeros(len(raw), bool), why)
        m = len(self.schema.fields)
        values, ok = parse_rows(raw.payloads, m)
        reasons: dict[int, str] = {}
        for i in np.flatnonzero(~ok).tolist():
            try:
                values[i] = parse_literal(raw.payloads[i], m)
                ok[i] = True
            except LiteralError as exc:
                reasons[i] = str(exc)
        self._validate(values, ok, reasons)
        return self._assemble(raw, values, ok, reasons)

    def _reason(self, payload: bytes) -> str:
        try:
            values = parse_literal(payload, self.n_values)
        except LiteralError as exc:
            return str(exc)
        return f"expected at least 3 values, got {len(values)}"

    def _validate(self, values: np.ndarray, ok: np.ndarray, reasons: dict[int, str]) -> None:
        """Integer fields must hold integers; NaN and inf follow the schema's policy."""
        check_floats = self.schema.nonfinite == "dead-letter"
        bad = np.zeros(len(ok), dtype=bool)
        for j, f in enumerate(self.schema.fields):
            col = values[:, j]
            if f.kind == "int":
                with np.errstate(invalid="ignore"):
                    bad |= ~((np.floor(col) == col) & (np.abs(col) < _INT64_LIMIT))
            elif check_floats:
                bad |= ~np.isfinite(col)
        for i in np.flatnonzero(bad & ok).tolist():
            ok[i] = False
            reasons[i] = self._row_fault(values[i])

    def _row_fault(self, row: np.ndarray) -> str:
        for f, v in zip(self.schema.fields, row.tolist(), strict=True):
            if f.kind == "int" and not (v == v // 1 and abs(v) < _INT64_LIMIT):
                if not np.isfinite(v):
                    return f"non-finite value in integer field {f.name!r}: {v!r}"
                return f"field {f.name!r} is not an integer: {v!r}"
            if f.kind == "float" and self.schema.nonfinite == "dead-letter" and not np.isfinite(v):
                return f"non-finite value in field {f.name!r}: {v!r}"
        return "invalid record"

    def _assemble(
        self, raw: RawBatch, values: np.ndarray, ok: np.ndarray, reasons: dict[int, str]
    ) -> tuple[RecordBatch, list[DeadLetter]]:
        every = bool(ok.all())
        keep = slice(None) if every else np.flatnonzero(ok)
        columns: dict[str, np.ndarray] = {}
        for j, f in enumerate(self.schema.fields):
            col = values[keep, j] if values.shape[1] else np.empty(0)
            columns[f.name] = col.astype(np.int64) if f.kind == "int" else col
        dead = [raw.dead_letter(i, reasons[i]) for i in sorted(reasons)]
        return raw.records(columns, keep), dead

    # -- encoding -------------------------------------------------------------------
    def encode(self, columns: Mapping[str, np.ndarray]) -> list[bytes]:
        """Rows given as columns, formatted exactly like ``np.array2string(row, separator=",")``."""
        if self._inferring:
            self._fix_width(len(columns))
        cols = []
        for name in self.schema.names:
            if name not in columns:
                raise ConfigError(f"literal encode: no column {name!r} (have {', '.join(columns)})")
            cols.append(np.asarray(columns[name], dtype=np.float64))
        if not cols:
            return []
        return format_rows(np.column_stack(cols))
