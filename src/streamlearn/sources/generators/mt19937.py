"""NumPy's legacy ``RandomState`` stream (MT19937), compiled with numba.

The course producers seed NumPy's legacy global generator once and draw a few
numbers per message. Calling ``RandomState`` per message costs microseconds;
these kernels replay exactly the same stream (bit for bit) for many records at
once: ``random_sample`` is MT19937's 53-bit double and ``randn`` is NumPy's
``legacy_gauss`` (polar Box-Muller that caches its second value).

The state lives in three small arrays that the kernels update in place, so a
generator can be advanced, copied and resumed cheaply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

__all__ = [
    "LegacyState",
    "draw_linear",
    "draw_nonlinear",
    "fill_doubles",
    "fill_gauss",
    "skip_linear",
    "skip_nonlinear",
]

_N = 624
_M = 397
_MATRIX_A = 0x9908B0DF
_UPPER = 0x80000000
_LOWER = 0x7FFFFFFF


@dataclass
class LegacyState:
    """The legacy ``RandomState`` state as arrays the kernels mutate.

    Attributes
    ----------
    key
        The 624 MT19937 words (``uint32``).
    ints
        ``[pos, has_gauss]`` (``int64``).
    gauss
        ``[cached_gaussian]`` (``float64``).
    """

    key: np.ndarray
    ints: np.ndarray
    gauss: np.ndarray

    @classmethod
    def from_seed(cls, seed: int) -> LegacyState:
        """The state after ``np.random.seed(seed)``."""
        return cls.from_numpy(np.random.RandomState(seed))

    @classmethod
    def from_numpy(cls, rs: np.random.RandomState) -> LegacyState:
        name, key, pos, has_gauss, cached = rs.get_state(legacy=True)
        if name != "MT19937":
            raise ValueError(f"expected an MT19937 state, got {name!r}")
        return cls(
            np.array(key, dtype=np.uint32),
            np.array([pos, has_gauss], dtype=np.int64),
            np.array([cached], dtype=np.float64),
        )

    def to_numpy(self) -> np.random.RandomState:
        """A ``RandomState`` in exactly this state (used by tests)."""
        rs = np.random.RandomState()
        rs.set_state(
            ("MT19937", self.key.copy(), int(self.ints[0]), int(self.ints[1]), float(self.gauss[0]))
        )
        return rs

    def copy(self) -> LegacyState:
        return LegacyState(self.key.copy(), self.ints.copy(), self.gauss.copy())


@njit(cache=True)
def _twist(key: np.ndarray) -> None:
    # In place and in this order, exactly like numpy's mt19937_gen: the
    # wrap-around reads words that were already regenerated.
    for i in range(_N):
        y = (np.int64(key[i]) & _UPPER) | (np.int64(key[i + 1 if i < _N - 1 else 0]) & _LOWER)
        j = i + _M if i < _N - _M else i + _M - _N
        v = np.int64(key[j]) ^ (y >> 1)
        if y & 1:
            v ^= _MATRIX_A
        key[i] = v


# The helpers take and return ``pos`` so that it stays in a register inside
# the kernels; the kernels store it back into ``ints`` once, at the end.


@njit(cache=True, inline="always")
def _next_u32(key: np.ndarray, pos: int) -> tuple[np.int64, int]:
    if pos >= _N:
        _twist(key)
        pos = 0
    y = np.int64(key[pos])
    y ^= y >> 11
    y ^= (y << 7) & 0x9D2C5680
    y ^= (y << 15) & 0xEFC60000
    y ^= y >> 18
    return y, pos + 1


@njit(cache=True, inline="always")
def _next_double(key: np.ndarray, pos: int) -> tuple[float, int]:
    a, pos = _next_u32(key, pos)
    b, pos = _next_u32(key, pos)
    return ((a >> 5) * 67108864.0 + (b >> 6)) / 9007199254740992.0, pos


@njit(cache=True, inline="always")
def _polar(key: np.ndarray, pos: int) -> tuple[float, float, int]:
    """One round of legacy_gauss: (value returned now, value cached, pos)."""
    while True:
        u1, pos = _next_double(key, pos)
        u2, pos = _next_double(key, pos)
        x1 = 2.0 * u1 - 1.0
        x2 = 2.0 * u2 - 1.0
        r2 = x1 * x1 + x2 * x2
        if r2 < 1.0 and r2 != 0.0:
            break
    f = math.sqrt(-2.0 * math.log(r2) / r2)
    return f * x2, f * x1, pos


@njit(cache=True, inline="always")
def _skip_u32(key: np.ndarray, pos: int, n: int) -> int:
    # Untempered words are never looked at, so skipping only moves ``pos``.
    while n > 0:
        if pos >= _N:
            _twist(key)
            pos = 0
        step = min(_N - pos, n)
        pos += step
        n -= step
    return pos


@njit(cache=True)
def fill_doubles(key: np.ndarray, ints: np.ndarray, out: np.ndarray) -> None:
    """Fill ``out`` (1-D) like ``RandomState.random_sample``."""
    pos = ints[0]
    for i in range(out.shape[0]):
        out[i], pos = _next_double(key, pos)
    ints[0] = pos


@njit(cache=True)
def _gauss_into(
    key: np.ndarray, ints: np.ndarray, gauss: np.ndarray, out: np.ndarray, r: int, c0: int, n: int
) -> None:
    """``n`` legacy gauss values into ``out[r, c0:c0+n]``, honouring the cached value."""
    pos = ints[0]
    has = ints[1] != 0
    cached = gauss[0]
    for j in range(c0, c0 + n):
        if has:
            out[r, j] = cached
            has = False
        else:
            out[r, j], cached, pos = _polar(key, pos)
            has = True
    ints[0] = pos
    ints[1] = 1 if has else 0
    gauss[0] = cached if has else 0.0


@njit(cache=True)
def fill_gauss(key: np.ndarray, ints: np.ndarray, gauss: np.ndarray, out: np.ndarray) -> None:
    """Fill ``out`` (1-D) like ``RandomState.standard_normal`` (legacy gauss)."""
    _gauss_into(key, ints, gauss, out.reshape((1, out.shape[0])), 0, 0, out.shape[0])


@njit(cache=True)
def draw_linear(
    key: np.ndarray, ints: np.ndarray, gauss: np.ndarray, start: int, out: np.ndarray
) -> None:
    """Draw ``len(out)`` linear course records ``[i, y, x1..x10]`` into ``out``.

    ``x = randn(1, 10)[0]`` then ``y = (x1 + x10) + 0.1 * rand()``: ``x.dot(beta)``
    adds exact products by 1 and 0, so it equals ``x1 + x10`` exactly.
    """
    pos = ints[0]
    has = ints[1] != 0
    cached = gauss[0]
    for r in range(out.shape[0]):
        for j in range(2, 12):
            if has:
                out[r, j] = cached
                has = False
            else:
                out[r, j], cached, pos = _polar(key, pos)
                has = True
        u, pos = _next_double(key, pos)
        out[r, 0] = start + r
        out[r, 1] = (out[r, 2] + out[r, 11]) + 0.1 * u
    ints[0] = pos
    ints[1] = 1 if has else 0
    gauss[0] = cached if has else 0.0


@njit(cache=True)
def draw_nonlinear(key: np.ndarray, ints: np.ndarray, start: int, out: np.ndarray) -> None:
    """Draw ``len(out)`` nonlinear course records into ``out``, leaving ``u`` in column 1.

    The caller computes ``y`` from ``x`` and ``u`` with NumPy's own ``sin`` and
    ``log``, whose results differ from the C library's in the last bit.
    """
    pos = ints[0]
    for r in range(out.shape[0]):
        for j in range(2, 12):
            out[r, j], pos = _next_double(key, pos)
        out[r, 1], pos = _next_double(key, pos)
        out[r, 0] = start + r
    ints[0] = pos


@njit(cache=True)
def skip_linear(key: np.ndarray, ints: np.ndarray, gauss: np.ndarray, n: int) -> None:
    """Advance past ``n`` linear records (the gauss rejection loop must be replayed)."""
    pos = ints[0]
    has = ints[1] != 0
    cached = gauss[0]
    for _ in range(n):
        for _j in range(10):
            if has:
                has = False
            else:
                _, cached, pos = _polar(key, pos)
                has = True
        pos = _skip_u32(key, pos, 2)
    ints[0] = pos
    ints[1] = 1 if has else 0
    gauss[0] = cached if has else 0.0


@njit(cache=True)
def skip_nonlinear(key: np.ndarray, ints: np.ndarray, n: int) -> None:
    """Advance past ``n`` nonlinear records: 11 doubles, i.e. 22 words, each."""
    ints[0] = _skip_u32(key, ints[0], 22 * n)
