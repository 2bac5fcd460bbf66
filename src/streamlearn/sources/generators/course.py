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

Here NumPy's own ``RandomState`` draws the doubles in bulk: the nonlinear
stream is ``random_sample`` 11 at a time, and the linear one runs the legacy
Gaussian's polar loop (compiled) over bulk doubles. The text comes from
:func:`~streamlearn.codecs.literal_format.format_rows`: same bytes, hundreds
of times faster. :func:`reference_payloads` is the slow loop itself.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from streamlearn.codecs.literal_format import format_rows, reference_format
from streamlearn.errors import ConfigError
from streamlearn.records.batch import RawBatch
from streamlearn.records.schema import literal_schema
from streamlearn.sources.base import Progress, Source
from streamlearn.sources.pacing import Pacer
from streamlearn.sources.registry import SourceSpec

__all__ = [
    "KINDS",
    "SEED",
    "CourseGenerator",
    "LinearSource",
    "NonLinearSource",
    "course_payloads",
    "course_rows",
    "from_spec",
    "reference_payloads",
    "reference_rows",
]

#: The seed of the course producers.
SEED = 2452020515
KINDS = ("linear", "nonlinear")
N_FEATURES = 10
_CHUNK = 1 << 16  # records drawn and formatted at a time
#: doubles one linear record takes on average: 5 accepted polar pairs (acceptance pi/4) and a uniform
_LINEAR_DOUBLES = 10 * 4 / math.pi + 1


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ConfigError(f"unknown course generator {kind!r} (expected one of {', '.join(KINDS)})")
    return kind


@njit(cache=True)
def _linear_rows(u: np.ndarray, first: int, out: np.ndarray) -> tuple[int, int]:
    """Linear records from the doubles ``u``, as ``legacy_gauss`` and ``rand`` draw them.

    Each record takes ten Gaussians (five polar pairs, the second of each pair
    cached and returned next, so no Gaussian is left over between records)
    and one uniform. Returns the records completed and the doubles they used.
    """
    m = u.shape[0]
    used = 0
    for r in range(out.shape[0]):
        p = used
        for j in range(2, 12, 2):
            while True:
                if p + 2 > m:
                    return r, used
                x1 = 2.0 * u[p] - 1.0
                x2 = 2.0 * u[p + 1] - 1.0
                p += 2
                r2 = x1 * x1 + x2 * x2
                if r2 < 1.0 and r2 != 0.0:
                    break
            f = math.sqrt(-2.0 * math.log(r2) / r2)
            out[r, j] = f * x2
            out[r, j + 1] = f * x1
        if p >= m:
            return r, used
        out[r, 0] = first + r
        # x.dot(beta) adds exact products by 1 and 0: it equals x1 + x10 exactly
        out[r, 1] = (out[r, 2] + out[r, 11]) + 0.1 * u[p]
        used = p + 1
    return out.shape[0], used


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
    line_width
        NumPy's ``max_line_width``: 75 as the course's Kafka producers (long
        messages wrap), 1000 as its socket producer (one line each).
    """

    def __init__(self, kind: str, seed: int = SEED, start: int = 0, line_width: int = 75) -> None:
        self.kind = _check_kind(kind)
        self.seed = int(seed)
        self.line_width = int(line_width)
        self._rs = np.random.RandomState(self.seed)
        self._spare = np.zeros(0)  # doubles drawn and not used yet (linear)
        self.next_index = 0
        self.skip(start)

    def skip(self, n: int) -> None:
        """Advance past ``n`` messages."""
        if n < 0:
            raise ValueError("cannot skip backwards")
        while n > 0:
            k = min(n, _CHUNK)
            self.rows(k)
            n -= k

    def rows(self, n: int) -> np.ndarray:
        """The next ``n`` records as an ``(n, 12)`` array ``[i, y, x1..x10]``."""
        out = np.empty((n, 2 + N_FEATURES), dtype=np.float64)
        if self.kind == "linear":
            done = 0
            while done < n:
                need = int((n - done) * _LINEAR_DOUBLES * 1.02) + 64
                u = np.concatenate((self._spare, self._rs.random_sample(need)))
                k, used = _linear_rows(u, self.next_index + done, out[done:])
                self._spare = u[used:]
                done += k
        else:
            u = self._rs.random_sample((n, N_FEATURES + 1))
            out[:, 0] = np.arange(self.next_index, self.next_index + n)
            out[:, 2:] = u[:, :N_FEATURES]
            # NumPy's sin and log, on contiguous arrays like the reference's scalars
            x0, x1, x2, x9 = (np.ascontiguousarray(u[:, c]) for c in (0, 1, 2, 9))
            y = np.sin(x0) + np.abs(x1 * x2)
            y += np.log(np.abs(x9))
            y += 0.25 * u[:, N_FEATURES]
            out[:, 1] = y
        self.next_index += n
        return out

    def payloads(self, n: int) -> list[bytes]:
        """The next ``n`` messages as the course sends them."""
        if n <= _CHUNK:
            return format_rows(self.rows(n), self.line_width)
        out: list[bytes] = []
        for s in range(0, n, _CHUNK):  # bounded memory for big reads
            out.extend(format_rows(self.rows(min(_CHUNK, n - s)), self.line_width))
        return out


def course_rows(kind: str, start: int = 0, count: int = 1, seed: int = SEED) -> np.ndarray:
    """Records ``start .. start+count-1`` of a course stream, ``(count, 12)``."""
    return CourseGenerator(kind, seed, start).rows(count)


def course_payloads(
    kind: str, start: int = 0, count: int = 1, seed: int = SEED, line_width: int = 75
) -> list[bytes]:
    """Messages ``start .. start+count-1`` of a course stream, as bytes."""
    return CourseGenerator(kind, seed, start, line_width).payloads(count)


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


def reference_payloads(
    kind: str, start: int = 0, count: int = 1, seed: int = SEED, line_width: int = 75
) -> list[bytes]:
    """The course producer's messages, formatted by ``np.array2string`` (slow)."""
    rows = reference_rows(kind, start, count, seed)
    return [reference_format(r, line_width).encode("utf-8") for r in rows]


class _CourseSource(Source):
    """A course generator as a source: offsets are message indices."""

    format = "literal"
    replay = "index"
    schema = literal_schema(N_FEATURES)

    def __init__(
        self,
        count: int | None = None,
        seed: int = SEED,
        rate: float | None = None,
        line_width: int = 75,
    ) -> None:
        if count is not None and count < 0:
            raise ConfigError(f"--count must be >= 0, not {count}")
        if line_width < 10:
            raise ConfigError(f"--line-width must be at least 10, not {line_width}")
        self.line_width = int(line_width)
        self.pacer = Pacer(rate)
        self.count = None if count is None else int(count)
        self.seed = int(seed)
        self.rate = self.pacer.rate
        self._gen: CourseGenerator | None = None

    @property
    def _next(self) -> int:
        return 0 if self._gen is None else self._gen.next_index

    def open(self, snapshot: dict[str, Any] | None = None) -> None:
        start = 0
        if snapshot is not None:
            try:
                start = int(snapshot["next"])
            except (KeyError, TypeError, ValueError):
                raise ConfigError(f"{self.kind}: cannot resume from {snapshot!r}") from None
            if start < 0:
                raise ConfigError(f"{self.kind}: cannot resume at a negative index ({start})")
        if self._gen is None or self._gen.next_index > start:
            self._gen = CourseGenerator(self.kind, self.seed, line_width=self.line_width)
        self._gen.skip(start - self._gen.next_index)
        self.pacer.start()

    def read(self, max_records: int, timeout_s: float = 1.0) -> RawBatch:
        if self._gen is None:
            self.open()
        assert self._gen is not None
        n = max(0, int(max_records))
        if self.count is not None:
            n = min(n, self.count - self._gen.next_index)
        n = self.pacer.allow(n, timeout_s)
        if n <= 0:
            return RawBatch.empty(self.kind)
        start = self._gen.next_index
        payloads = self._gen.payloads(n)
        self.pacer.took(n)
        return RawBatch(
            self.kind,
            payloads,
            np.zeros(n, dtype=np.int32),
            np.arange(start, start + n, dtype=np.int64),
        )

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self._next >= self.count

    def snapshot(self) -> dict[str, Any]:
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
    line_width
        75: messages as the course's Kafka producers write them; 1000: one
        line each, as its socket producer.
    """

    kind = "linear"


class NonLinearSource(_CourseSource):
    """The course's nonlinear stream: ``y = sin x1 + |x2 x3| + log x10 + 0.25 U``, ``x ~ U(0,1)``.

    Parameters are those of :class:`LinearSource`.
    """

    kind = "nonlinear"


def from_spec(spec: SourceSpec) -> _CourseSource:
    """The ``linear`` and ``nonlinear`` sources."""
    cls = LinearSource if spec.kind == "linear" else NonLinearSource
    seed = SEED if spec.seed is None else spec.seed
    return cls(count=spec.count, seed=seed, rate=spec.rate, line_width=spec.line_width)
