"""The course's literal-list text: ``np.array2string(row, separator=",")``, fast.

``np.array2string`` costs about 150 us per 12-value row. :func:`format_rows`
produces the same bytes, compiled with numba, for many rows at once. It
follows NumPy's default print options (``precision=8``, ``floatmode="maxprec"``,
``linewidth=75``, ``threshold=1000``, ``sign="-"``), i.e. ``FloatingFormat``
in ``numpy/_core/arrayprint.py``:

* positional mode prints each value with at most 8 decimals, trailing zeros
  trimmed, then pads every value to the same width (left for the integer
  part, right for the fraction);
* scientific mode (some nonzero ``|v| >= 1e8`` or ``< 1e-4``, or max/min over
  the nonzero magnitudes ``> 1000``) prints 9 significant digits at most, all
  values with as many decimals as the longest one;
* values are joined with ``,`` and lines wrapped at width 75.

With 8 decimals (positional, ``|v| < 2**26``) or 9 significant digits
(scientific), at most one candidate decimal lies in a double's rounding
interval, so Dragon4's shortest-unique digits equal the correctly rounded
ones, which we compute exactly with an error-free product. Rows where that
argument does not hold (exact ties, huge or subnormal magnitudes, long or
empty rows) fall back to ``np.array2string``, so output is always identical.

The inverse, a compiled parser, is in :mod:`streamlearn.codecs.literal`.
"""

from __future__ import annotations

import math
import threading

import numpy as np
from numba import njit

from streamlearn.codecs.digits import (
    frac_len,
    ndigits,
    put_digits,
    put_spaces,
    round_scaled,
    scientific,
)

__all__ = ["PRINT_DEFAULTS", "format_row", "format_rows", "reference_format"]

#: NumPy's default print options, which the course producers use.
PRINT_DEFAULTS: dict[str, object] = {
    "precision": 8,
    "threshold": 1000,
    "edgeitems": 3,
    "linewidth": 75,
    "suppress": False,
    "nanstr": "nan",
    "infstr": "inf",
    "sign": "-",
    "floatmode": "maxprec",
    "legacy": False,
    "formatter": None,
}
_CHUNK = 32768  # rows formatted per kernel call: bounds the scratch buffer
_scratch = threading.local()  # reused: a fresh buffer costs page faults on every call
_MAX_WORD = 22  # bytes per value, upper bound incl. separator and line break


def reference_format(row: np.ndarray, line_width: int = 75) -> str:
    """``np.array2string(row, separator=",", max_line_width=line_width)``, NumPy's defaults."""
    arr = np.asarray(row, dtype=np.float64)
    opts = np.get_printoptions()
    if opts["nanstr"] == "nan" and opts["infstr"] == "inf":  # the rest can be passed
        return np.array2string(
            arr,
            max_line_width=line_width,
            precision=8,
            suppress_small=False,
            separator=",",
            formatter=None,
            threshold=1000,
            edgeitems=3,
            sign="-",
            floatmode="maxprec",
            legacy=False,
        )
    with np.printoptions(**PRINT_DEFAULTS):  # type: ignore[arg-type]
        return np.array2string(arr, separator=",", max_line_width=line_width)


@njit(cache=True, inline="always")
def _format_row(
    row: np.ndarray,
    bits: np.ndarray,
    buf: np.ndarray,
    p: int,
    ip: np.ndarray,
    fp: np.ndarray,
    ex: np.ndarray,
    line_width: int,
) -> int:
    """Write one row at ``buf[p:]``; return the end, or -1 to ask for the fallback."""
    n = row.shape[0]
    if n == 0 or n > 1000:
        return -1
    vmax = 0.0
    vmin = np.inf
    any_nonfinite = False
    neginf = 0
    for k in range(n):
        v = row[k]
        if math.isfinite(v):
            a = abs(v)
            if a != 0.0:
                vmax = max(vmax, a)
                vmin = min(vmin, a)
        else:
            any_nonfinite = True
            if v == -np.inf:
                neginf = 1
    exp_mode = vmax > 0.0 and (vmax >= 1e8 or vmin < 0.0001 or vmax / vmin > 1000.0)
    pad_left = 0
    pad_right = 0  # positional: decimals; scientific: precision, see below
    exp_size = 2
    for k in range(n):
        v = row[k]
        if not math.isfinite(v):
            continue
        neg = 1 if math.copysign(1.0, v) < 0 else 0
        a = abs(v)
        if exp_mode:
            if a == 0.0:
                d, e, ok = np.int64(0), 0, True
            else:
                d, e, ok = scientific(a, bits[k])
            if not ok:
                return -1
            ip[k] = d
            ex[k] = e
            fl = frac_len(d % 100000000, 8)
            exp_size = max(exp_size, ndigits(np.int64(abs(e))))
            pad_left = max(pad_left, 1 + neg)
        else:
            if a >= 67108864.0:  # 2**26: a rounding interval could hold two candidates
                return -1
            whole = math.floor(a)
            frac, ok = round_scaled((a - whole) * 1e8, a - whole, 1e8)
            if not ok:
                return -1
            if frac == 100000000:
                whole += 1
                frac = np.int64(0)
            iw = np.int64(whole)
            ip[k] = iw
            ex[k] = frac
            fl = frac_len(frac, 8)
            pad_left = max(pad_left, ndigits(iw) + neg)
        fp[k] = fl
        pad_right = max(pad_right, fl)
    precision = pad_right
    if exp_mode:
        pad_right = exp_size + 2 + precision
    if any_nonfinite:
        offset = pad_right + 1
        pad_left = max(pad_left, 3 - offset, 3 + neginf - offset)
    width = pad_left + pad_right + 1
    buf[p] = 91  # "["
    p += 1
    line = 1  # the hanging indent that "[" replaces
    for k in range(n):
        if line + width > line_width - 1 and line > 1:
            buf[p] = 10
            buf[p + 1] = 32
            p += 2
            line = 1
        v = row[k]
        if not math.isfinite(v):
            if math.isnan(v) or v > 0:
                p = put_spaces(buf, p, width - 3)
            else:
                p = put_spaces(buf, p, width - 4)
                buf[p] = 45
                p += 1
            word = (110, 97, 110) if math.isnan(v) else (105, 110, 102)
            for c in word:
                buf[p] = c
                p += 1
        else:
            neg = 1 if math.copysign(1.0, v) < 0 else 0
            if exp_mode:
                d = ip[k]
                p = put_spaces(buf, p, pad_left - 1 - neg)
                if neg:
                    buf[p] = 45
                    p += 1
                # nine digits one place to the right, then the first moves before "."
                p = put_digits(buf, p + 1, d, 9)
                buf[p - 10] = buf[p - 9]
                buf[p - 9] = 46
                p -= 8 - fp[k]
                for _ in range(precision - fp[k]):
                    buf[p] = 48
                    p += 1
                e = ex[k]
                buf[p] = 101
                buf[p + 1] = 45 if e < 0 else 43
                p = put_digits(buf, p + 2, np.int64(abs(e)), exp_size)
            else:
                iw = ip[k]
                nd = ndigits(iw)
                p = put_spaces(buf, p, pad_left - nd - neg)
                if neg:
                    buf[p] = 45
                    p += 1
                p = put_digits(buf, p, iw, nd)
                buf[p] = 46
                p = put_digits(buf, p + 1, ex[k], 8)
                p -= 8 - fp[k]
                p = put_spaces(buf, p, pad_right - fp[k])
        line += width
        if k < n - 1:
            buf[p] = 44
            p += 1
            line += 1
    buf[p] = 93  # "]"
    return p + 1


@njit(cache=True)
def _format_many(rows: np.ndarray, buf: np.ndarray, fallback: np.ndarray, line_width: int) -> int:
    """Write every row followed by a NUL byte; a row left to NumPy is just the NUL."""
    n, m = rows.shape
    ip = np.empty(m, dtype=np.int64)
    fp = np.empty(m, dtype=np.int64)
    ex = np.empty(m, dtype=np.int64)
    bits = rows.view(np.int64)
    p = 0
    for r in range(n):
        q = _format_row(rows[r], bits[r], buf, p, ip, fp, ex, line_width)
        fallback[r] = q < 0
        if q >= 0:
            p = q
        buf[p] = 0
        p += 1
    return p


def _buffer(size: int) -> np.ndarray:
    buf = getattr(_scratch, "buf", None)
    if buf is None or len(buf) < size:
        buf = _scratch.buf = np.empty(size, dtype=np.uint8)
    return buf


def format_rows(rows: np.ndarray, line_width: int = 75) -> list[bytes]:
    """``np.array2string(row, separator=",").encode()`` for every row of a 2-D array.

    Parameters
    ----------
    rows
        ``(n, m)`` values, converted to ``float64``.
    line_width
        NumPy's ``max_line_width``: 75 (its default, the course's Kafka
        producers) or e.g. 1000 (one line, the course's socket producer).

    Returns
    -------
    list of bytes
        One payload per row, byte-identical to NumPy's output.
    """
    arr = np.ascontiguousarray(rows, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"expected a 2-D array of rows, got shape {arr.shape}")
    n, m = arr.shape
    if m > 1000 or m == 0:  # NumPy summarises long rows with "..."
        return [reference_format(r, line_width).encode() for r in arr]
    out: list[bytes] = []
    buf = _buffer(min(n, _CHUNK) * (m * _MAX_WORD + 3))
    fallback = np.empty(min(n, _CHUNK), dtype=np.bool_)
    for s in range(0, n, _CHUNK):
        chunk = arr[s : s + _CHUNK]
        end = _format_many(chunk, buf, fallback, line_width)
        # one C-level split is far cheaper than slicing row by row in Python
        parts = buf[: end - 1].tobytes().split(b"\0")
        for r in np.flatnonzero(fallback[: len(chunk)]).tolist():
            parts[r] = reference_format(chunk[r], line_width).encode()
        out.extend(parts)
    return out


def format_row(row: np.ndarray) -> str:
    """``np.array2string(row, separator=",")`` for one 1-D row."""
    return format_rows(np.asarray(row, dtype=np.float64).reshape(1, -1))[0].decode()
