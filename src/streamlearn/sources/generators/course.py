"""The course's two regression streams, linear and nonlinear, byte for byte.

The course producer seeds NumPy's legacy global generator once with
``np.random.seed(2452020515)``, then for ``i = 0, 1, 2, ...`` sends::

    # linear (beta is 1 at x1 and x10, 0 elsewhere)
    x = np.random.randn(1, 10)[0]
    y = float(x.dot(beta)[0]) + 0.1 * np.random.rand(1)[0]
    # nonlinear
    x = np.random.rand(1, 10)[0]
    y = float(np.sin(x[0]) + abs(x[1] * x[2]) + np.log(abs(x[-1]))) + 0.25 * np.random.rand(1)[0]

    message = np.array2string(np.append([i, y], x), separator=",").encode("utf-8")

Here the draws come from a numba replay of the same MT19937 stream and the
text from :func:`~streamlearn.records.literal_format.format_rows`: same bytes,
hundreds of times faster. :func:`reference_payloads` is the slow loop itself.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from streamlearn.errors import ConfigError
from streamlearn.records.batch import RawBatch
from streamlearn.records.literal_format import format_rows, reference_format
from streamlearn.sources.base import Progress, Source
from streamlearn.sources.generators import mt19937

__all__ = [
    "KINDS",
    "SEED",
    "CourseGenerator",
    "LinearSource",
    "NonLinearSource",
    "course_payloads",
    "course_rows",
    "reference_payloads",
    "reference_rows",
]

#: The seed of the course producers.
SEED = 2452020515
KINDS = ("linear", "nonlinear")
N_FEATURES = 10
_CHUNK = 1 << 16  # records drawn and formatted at a time


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ConfigError(f"unknown course generator {kind!r} (expected one of {', '.join(KINDS)})")
    return kind


class CourseGenerator:
    """The course stream of one kind, continued from any message index.

    Parameters
    ----------
    kind
        ``"linear"`` or ``"nonlinear"``.
    seed
        The legacy seed (``np.random.seed``).
    start
        Index of the first message to produce; earlier draws are replayed
        without formatting.
    """

    def __init__(self, kind: str, seed: int = SEED, start: int = 0) -> None:
        self.kind = _check_kind(kind)
        self.seed = int(seed)
        self._state = mt19937.LegacyState.from_seed(self.seed)
        self.next_index = 0
        self.skip(start)

    def skip(self, n: int) -> None:
        """Advance past ``n`` messages."""
        if n < 0:
            raise ValueError("cannot skip backwards")
        s = self._state
        if self.kind == "linear":
            mt19937.skip_linear(s.key, s.ints, s.gauss, n)
        else:
            mt19937.skip_nonlinear(s.key, s.ints, n)
        self.next_index += n

    def rows(self, n: int) -> np.ndarray:
        """The next ``n`` records as an ``(n, 12)`` array ``[i, y, x1..x10]``."""
        out = np.empty((n, 2 + N_FEATURES), dtype=np.float64)
        s = self._state
        if self.kind == "linear":
            mt19937.draw_linear(s.key, s.ints, s.gauss, self.next_index, out)
        else:
            mt19937.draw_nonlinear(s.key, s.ints, self.next_index, out)
            # NumPy's sin/log (SIMD) differ from libm's in the last bit: use NumPy's,
            # on contiguous arrays like the reference's scalars.
            x0, x1, x2, x9 = (np.ascontiguousarray(out[:, c]) for c in (2, 3, 4, 11))
            y = np.sin(x0) + np.abs(x1 * x2)
            y += np.log(np.abs(x9))
            y += 0.25 * out[:, 1]
            out[:, 1] = y
        self.next_index += n
        return out

    def payloads(self, n: int) -> list[bytes]:
        """The next ``n`` messages as the course sends them."""
        if n <= _CHUNK:
            return format_rows(self.rows(n))
        out: list[bytes] = []
        for s in range(0, n, _CHUNK):  # bounded memory for big reads
            out.extend(format_rows(self.rows(min(_CHUNK, n - s))))
        return out


def course_rows(kind: str, start: int = 0, count: int = 1, seed: int = SEED) -> np.ndarray:
    """Records ``start .. start+count-1`` of a course stream, ``(count, 12)``."""
    return CourseGenerator(kind, seed, start).rows(count)


def course_payloads(kind: str, start: int = 0, count: int = 1, seed: int = SEED) -> list[bytes]:
    """Messages ``start .. start+count-1`` of a course stream, as bytes."""
    return CourseGenerator(kind, seed, start).payloads(count)


def reference_rows(kind: str, start: int = 0, count: int = 1, seed: int = SEED) -> np.ndarray:
    """The course producer's own loop (slow: for tests and benchmarks)."""
    _check_kind(kind)
    rs = np.random.RandomState(seed)
    beta = np.zeros((N_FEATURES, 1))
    beta[0, 0] = beta[-1, 0] = 1.0
    out = np.empty((count, 2 + N_FEATURES), dtype=np.float64)
    for i in range(start + count):
        if kind == "linear":
            x = rs.randn(1, 10)[0]
            y = float(x.dot(beta)[0]) + 0.1 * rs.rand(1)[0]
        else:
            x = rs.rand(1, 10)[0]
            y = float(np.sin(x[0]) + abs(x[1] * x[2]) + np.log(abs(x[-1]))) + 0.25 * rs.rand(1)[0]
        if i >= start:
            out[i - start] = np.append([i, y], x)
    return out


def reference_payloads(kind: str, start: int = 0, count: int = 1, seed: int = SEED) -> list[bytes]:
    """The course producer's messages, formatted by ``np.array2string`` (slow)."""
    return [reference_format(r).encode("utf-8") for r in reference_rows(kind, start, count, seed)]


class _CourseSource(Source):
    """A course generator as a source: offsets are message indices."""

    default_format = "literal"
    position_kind = "offset"

    def __init__(self, count: int | None = None, seed: int = SEED, rate: float | None = None) -> None:
        if count is not None and count < 0:
            raise ConfigError(f"--count must be >= 0, not {count}")
        if rate is not None and not (rate > 0 and math.isfinite(rate)):
            raise ConfigError(f"--rate must be a positive number of records per second, not {rate}")
        self.count = None if count is None else int(count)
        self.seed = int(seed)
        self.rate = None if rate is None else float(rate)
        self._gen: CourseGenerator | None = None
        self._t0 = 0.0
        self._emitted = 0

    @property
    def _next(self) -> int:
        return 0 if self._gen is None else self._gen.next_index

    def open(self, resume: dict[str, Any] | None = None) -> None:
        start = 0
        if resume is not None:
            try:
                start = int(resume["next"])
            except (KeyError, TypeError, ValueError):
                raise ConfigError(f"{self.kind}: cannot resume from {resume!r}") from None
            if start < 0:
                raise ConfigError(f"{self.kind}: cannot resume at a negative index ({start})")
        if self._gen is None or self._gen.next_index > start:
            self._gen = CourseGenerator(self.kind, self.seed)
        self._gen.skip(start - self._gen.next_index)
        # the pacing clock: the j-th record after open() is due at t0 + j/rate
        self._t0 = time.monotonic()
        self._emitted = 0

    def _due(self) -> int:
        assert self.rate is not None
        elapsed = time.monotonic() - self._t0
        return math.floor(elapsed * self.rate + 1e-9) + 1 - self._emitted

    def read(self, max_records: int, timeout_s: float = 1.0) -> RawBatch:
        if self._gen is None:
            self.open()
        assert self._gen is not None
        n = max(0, int(max_records))
        if self.count is not None:
            n = min(n, self.count - self._gen.next_index)
        if n > 0 and self.rate is not None:
            deadline = time.monotonic() + max(0.0, timeout_s)
            due = self._due()
            while due <= 0:
                wait = self._t0 + self._emitted / self.rate - time.monotonic()
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                time.sleep(max(0.0, min(wait, left)))
                due = self._due()
            n = min(n, max(0, due))
        if n <= 0:
            return RawBatch.empty(self.kind)
        start = self._gen.next_index
        payloads = self._gen.payloads(n)
        self._emitted += n
        return RawBatch(
            self.kind,
            payloads,
            np.zeros(n, dtype=np.int32),
            np.arange(start, start + n, dtype=np.int64),
        )

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self._next >= self.count

    def position(self) -> dict[str, Any]:
        return {"next": self._next}

    def progress(self) -> Progress:
        return Progress(consumed=self._next, total=self.count)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "count": self.count, "seed": self.seed}


class LinearSource(_CourseSource):
    """The course's linear stream: ``y = x1 + x10 + 0.1 U(0, 1)``, ``x ~ N(0, I)``.

    Parameters
    ----------
    count
        Number of messages (``None``: unbounded).
    seed
        The legacy NumPy seed.
    rate
        Records per second (``None``: as fast as possible).
    """

    kind = "linear"


class NonLinearSource(_CourseSource):
    """The course's nonlinear stream: ``y = sin x1 + |x2 x3| + log x10 + 0.25 U``, ``x ~ U(0,1)``.

    Parameters are those of :class:`LinearSource`.
    """

    kind = "nonlinear"
