"""Exact decimal digits of doubles and integers written as text, compiled.

The literal-list formatter (:mod:`.literal_format`) and the activity
generator's CSV text share these kernels: integers are written two digits
per division, and a double's correctly rounded decimal digits come from an
error-free product (Dekker), with ties detected exactly.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "frac_len",
    "ndigits",
    "put_digits",
    "put_int",
    "put_spaces",
    "round_exact",
    "round_scaled",
    "scientific",
    "two_product",
]

_POW10 = np.array([10.0**k for k in range(23)])  # all exact in float64
_EXP_MIN = -16
_POW10_ANY = np.array([float(f"1e{k}") for k in range(_EXP_MIN, 33)])  # for a first guess
_DIGITS2 = np.frombuffer("".join(f"{i:02d}" for i in range(100)).encode(), dtype=np.uint8).copy()
_U0, _U10, _U100 = np.uint64(0), np.uint64(10), np.uint64(100)
_POW10_INT = np.array([10**k for k in range(19)], dtype=np.int64)
_SPLIT = 134217729.0  # 2**27 + 1, Veltkamp's splitter


@njit(cache=True, inline="always")
def two_product(a: float, b: float) -> tuple[float, float]:
    # a * b == p + e exactly (Dekker), without relying on an FMA instruction
    p = a * b
    c = _SPLIT * a
    ah = c - (c - a)
    al = a - ah
    c = _SPLIT * b
    bh = c - (c - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


@njit(cache=True, inline="always")
def round_exact(hi: float, lo: float) -> tuple[np.int64, bool]:
    """Nearest integer to ``hi + lo`` (``|lo| <= ulp(hi)/2``) and whether it was a tie."""
    r = math.floor(hi)
    s = ((hi - r) - 0.5) + lo  # exact sign: the rounded sum keeps it
    if s > 0:
        r += 1
    return np.int64(r), s == 0.0


@njit(cache=True, inline="always")
def ndigits(v: int | np.int64) -> int:
    """Decimal digits of ``v >= 0`` (compared against powers of ten: no division)."""
    n = 1
    while n < 19 and v >= _POW10_INT[n]:
        n += 1
    return n


@njit(cache=True, inline="always")
def frac_len(v: np.int64, width: int) -> int:
    """Digits left of ``v`` (printed on ``width`` digits) once trailing zeros go."""
    if v == 0:
        return 0
    n = width
    u = np.uint64(v)
    while u % _U10 == _U0:
        u //= _U10
        n -= 1
    return n


@njit(cache=True, inline="always")
def put_int(buf: np.ndarray, p: int, v: int) -> int:
    """Write ``v >= 0`` with no padding at ``buf[p:]``, two digits per division; returns the end."""
    n = ndigits(v)
    j = p + n
    while v >= 100:
        q = v // 100
        r = 2 * (v - 100 * q)
        buf[j - 1] = _DIGITS2[r + 1]
        buf[j - 2] = _DIGITS2[r]
        j -= 2
        v = q
    if v >= 10:
        buf[j - 1] = _DIGITS2[2 * v + 1]
        buf[j - 2] = _DIGITS2[2 * v]
    else:
        buf[j - 1] = 48 + v
    return p + n


@njit(cache=True, inline="always")
def put_digits(buf: np.ndarray, p: int, v: np.int64, width: int) -> int:
    """Write ``v >= 0`` zero-padded to ``width`` digits at ``buf[p:]``, two at a time."""
    u = np.uint64(v)
    k = width
    while k >= 2:
        q = u // _U100
        r = np.int64(u - q * _U100)
        k -= 2
        buf[p + k] = _DIGITS2[2 * r]
        buf[p + k + 1] = _DIGITS2[2 * r + 1]
        u = q
    if k == 1:
        buf[p] = 48 + np.int64(u % _U10)
    return p + width


@njit(cache=True, inline="always")
def put_spaces(buf: np.ndarray, p: int, n: int) -> int:
    for _ in range(n):
        buf[p] = 32
        p += 1
    return p


@njit(cache=True, inline="always")
def round_scaled(hi: float, a: float, scale: float) -> tuple[np.int64, bool]:
    """Nearest integer to ``a * scale`` (``hi`` is its rounded value); False on a tie.

    ``hi`` is within 2**-24 of the exact product; only when that is too close
    to a half do we compute the product exactly.
    """
    r = math.floor(hi)
    t = (hi - r) - 0.5
    if t > 1e-6 or t < -1e-6:
        return np.int64(r + 1 if t > 0 else r), True
    hi, lo = two_product(a, scale)
    d, tie = round_exact(hi, lo)
    return d, not tie


@njit(cache=True, inline="always")
def scientific(a: float, bits: np.int64) -> tuple[np.int64, int, bool]:
    """9 significant digits ``d`` and exponent ``e`` of ``a > 0``; False if not exact."""
    # a first guess from the binary exponent; the exact checks below correct it
    e = math.floor((((bits >> 52) & 0x7FF) - 1023) * 0.30102999566398120)
    if -16 <= e < 32 and a >= _POW10_ANY[e + 1 - _EXP_MIN]:
        e += 1
    for _ in range(4):
        if e < -14 or e > 30:
            return np.int64(0), 0, False
        if e <= 8:
            scale = _POW10[8 - e]
            hi = a * scale
            if not (1e8 + 1 <= hi < 1e9 - 1):  # near the ends: decide exactly
                hi, lo = two_product(a, scale)
                if hi < 1e8 or (hi == 1e8 and lo < 0):
                    e -= 1
                    continue
                if hi > 1e9 or (hi == 1e9 and lo >= 0):
                    e += 1
                    continue
            d, ok = round_scaled(hi, a, scale)
        else:
            p = _POW10[e - 8]
            q = a / p
            if q < 1e8:
                e -= 1
                continue
            if q >= 1e9:
                e += 1
                continue
            r = math.floor(q)
            hi, lo = two_product(r + 0.5, p)
            diff = (a - hi) - lo  # a - hi is exact (Sterbenz)
            d = np.int64(r) + (1 if diff > 0 else 0)
            ok = diff != 0.0
        if not ok:
            return np.int64(0), 0, False
        if d == 1000000000:
            return np.int64(100000000), e + 1, True
        return d, e, True
    return np.int64(0), 0, False
