"""The activity generator: HHAR-shaped accelerometer rows as CSV lines.

As in HHAR, a user performs every activity in turn (stand, sit, walk, bike,
stairs up and down, with ``null`` transitions in between), each for a few
hundred to a few thousand rows, while several phones (50 to 200 Hz) record at
once, their rows interleaved. The signal is gravity turned by the activity's
posture, a gait rhythm whose frequency and strength depend on the activity, a
per-user style, a per-phone placement, bias, gain and noise.

Every row is a pure function of (seed, row index): session parameters come in
seeded blocks and the noise from a counter-based generator (Philox) advanced to
the row, so any chunking of reads, or a resume, yields the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from streamlearn.errors import ConfigError
from streamlearn.records.batch import RawBatch
from streamlearn.records.schema import HHAR_COLUMNS, HHAR_SCHEMA
from streamlearn.sources.base import Progress, Source
from streamlearn.sources.generators.activity_sessions import (
    DEVICES,
    LABELS,
    MODELS,
    USERS,
    sessions,
)
from streamlearn.sources.generators.activity_text import csv_lines
from streamlearn.sources.pacing import Pacer
from streamlearn.sources.registry import SourceSpec

__all__ = [
    "DEVICES",
    "HHAR_HEADER",
    "LABELS",
    "MODELS",
    "USERS",
    "ActivitySource",
    "activity_payloads",
    "activity_rows",
    "from_spec",
    "write_hhar_csv",
]

# rhythm shape per activity, for the kernel (strength and frequency: activity_sessions)
_HARM = np.array([0.1, 0.1, 0.35, 0.15, 0.45, 0.30, 0.3])  # second harmonic share
_FORE = np.array([0.3, 0.3, 0.6, 1.0, 0.8, 0.7, 0.5])  # fore-aft share
_G = 9.81
_CHUNK = 65536  # rows formatted at a time, to bound memory
#: the HHAR header line, for writing files
HHAR_HEADER = ",".join(HHAR_COLUMNS).encode()


def _noise(seed: int, start: int, count: int) -> np.ndarray:
    """Eight uniforms in [0, 1) per row, a pure function of (seed, row)."""
    key = np.array([seed & 0xFFFFFFFFFFFFFFFF, 0xAC71417], dtype=np.uint64)
    bits = np.random.Philox(key=key)
    bits.advance(start)  # one Philox counter step = 4 x 64 bits = one row
    raw = bits.random_raw(4 * count).view(np.uint32).reshape(count, 8)
    return raw * (1.0 / 2**32)


def _generate(start: int, count: int, seed: int) -> dict[str, np.ndarray]:
    """Raw columns: ints, accelerations in micro-units and the category ids."""
    table = sessions(seed)
    c = table.span(start, start + count)
    out = {k: np.empty(count, np.int64) for k in ("arrival", "creation", "user", "device", "label")}
    out["index"] = np.arange(start, start + count, dtype=np.int64)
    out["micro"] = np.empty((count, 3), np.int64)
    _signal(
        start,
        _noise(seed, start, count),
        c["start"],
        c["t0"],
        c["period"],
        c["user"],
        c["label"],
        c["pick"],
        c["posture"],
        c["amp"],
        c["freq"],
        c["bounce"],
        c["fore"],
        c["phase"],
        table.dev_lean,
        table.dev_gain,
        table.dev_bias,
        table.dev_noise,
        table.dev_clock,
        out["arrival"],
        out["creation"],
        out["micro"],
        out["user"],
        out["device"],
        out["label"],
    )
    return out


_A = np.ndarray  # the compiled kernel takes many arrays


@njit(cache=True, nogil=True)
def _signal(
    start: int,
    u: _A,
    s_start: _A,
    t0: _A,
    period: _A,
    user: _A,
    label: _A,
    pick: _A,
    posture: _A,
    amp: _A,
    freq: _A,
    bounce: _A,
    fore: _A,
    phase: _A,
    dev_lean: _A,
    dev_gain: _A,
    dev_bias: _A,
    dev_noise: _A,
    dev_clock: _A,
    arrival: _A,
    creation: _A,
    micro: _A,
    users: _A,
    devices: _A,
    labels: _A,
) -> None:
    """The per-row model, compiled: one pass over the rows, no temporaries."""
    s = np.searchsorted(s_start, start, side="right") - 1
    for i in range(u.shape[0]):
        row = start + i
        while s + 1 < s_start.shape[0] and s_start[s + 1] <= row:
            s += 1
        k, lab = row - s_start[s], label[s]
        d = 0  # which phone, weighted by its rate
        while d < pick.shape[1] - 1 and pick[s, d] <= u[i, 7]:
            d += 1
        gx = posture[s, 0] + dev_lean[d, 0]
        gy = posture[s, 1] + dev_lean[d, 1]
        gz = posture[s, 2] + dev_lean[d, 2]
        scale = _G / np.sqrt(gx * gx + gy * gy + gz * gz)
        ph = (2 * np.pi * 1e-9) * freq[s] * (k * period[s]) + phase[s, 0]
        wave = np.sin(ph)
        gait = wave + _HARM[lab] * np.sin(2 * ph + phase[s, 1])
        gait += 0.6 * (max(wave, 0.0) ** 4 - 0.3)  # heel strikes
        sway = _FORE[lab] * np.cos(ph + phase[s, 1])
        for a in range(3):
            v = (gx if a == 0 else gy if a == 1 else gz) * scale
            v += amp[s] * (bounce[s, a] * gait + fore[s, a] * sway)
            # triangular noise (sum of two uniforms), scaled to unit variance
            v = v * dev_gain[d, a] + dev_bias[d, a]
            v += dev_noise[d] * 2.449489742783178 * (u[i, a] + u[i, 3 + a] - 1.0)
            micro[i, a] = np.int64(np.rint(v * 1e6))
        sample_ns = t0[s] + k * period[s]
        arrival[i] = (sample_ns + 2_000_000 + np.int64(u[i, 6] * 6_000_000)) // 1_000_000
        creation[i] = sample_ns + dev_clock[d]
        users[i], devices[i], labels[i] = user[s], d, lab


def activity_rows(start: int, count: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Rows ``start`` to ``start + count - 1`` as HHAR columns.

    Ints are ``int64``, x, y, z ``float64`` (six decimals, exactly what the
    CSV text holds) and text columns ``object`` arrays of ``str``.
    """
    g = _generate(int(start), int(count), int(seed))
    xyz = (
        np.ascontiguousarray(g["micro"].T) / 1e6
    )  # exactly the double nearest to the six-decimal text
    return {
        "Index": g["index"],
        "Arrival_Time": g["arrival"],
        "Creation_Time": g["creation"],
        "x": xyz[0],
        "y": xyz[1],
        "z": xyz[2],
        "User": np.array(USERS, dtype=object)[g["user"]],
        "Model": np.array(MODELS, dtype=object)[g["device"] // 2],
        "Device": np.array(DEVICES, dtype=object)[g["device"]],
        "gt": np.array(LABELS, dtype=object)[g["label"]],
    }


def activity_payloads(start: int, count: int, seed: int = 0) -> list[bytes]:
    """Rows ``start`` to ``start + count - 1`` as HHAR CSV lines (no header, no newline)."""
    out: list[bytes] = []
    for lo in range(int(start), int(start) + int(count), _CHUNK):
        out += csv_lines(_generate(lo, min(_CHUNK, int(start) + int(count) - lo), int(seed)))
    return out


class ActivitySource(Source):
    """HHAR-shaped activity rows as CSV payloads (see the module docstring).

    Parameters
    ----------
    count
        Rows in all; ``None`` for an endless stream.
    seed
        Same seed, same rows.
    rate
        Records per second; ``None`` for as fast as possible.

    Examples
    --------
    >>> src = ActivitySource(count=3)
    >>> src.open()
    >>> len(src.read(10)), src.exhausted
    (3, True)
    """

    kind = "activity"
    format = "csv"
    replay = "index"
    schema = HHAR_SCHEMA

    def __init__(self, count: int | None = None, seed: int = 0, rate: float | None = None) -> None:
        if count is not None and count < 0:
            raise ConfigError(f"--count must be >= 0, not {count}")
        self.pacer = Pacer(rate)
        self.count, self.seed, self.rate = count, int(seed), rate
        self.next = 0

    def open(self, snapshot: dict[str, Any] | None = None) -> None:
        self.next = int(snapshot.get("next", 0)) if snapshot else 0
        if self.next < 0 or (self.count is not None and self.next > self.count):
            raise ConfigError(f"cannot resume the activity source at row {self.next}")
        self.pacer.start()

    def read(self, max_records: int, timeout_s: float = 1.0) -> RawBatch:
        n = max_records if self.count is None else min(max_records, self.count - self.next)
        n = self.pacer.allow(n, timeout_s)
        if n <= 0:
            return RawBatch.empty("activity")
        start, payloads = self.next, activity_payloads(self.next, n, self.seed)
        self.next += n
        self.pacer.took(n)
        offsets = np.arange(start, start + n, dtype=np.int64)
        return RawBatch("activity", payloads, np.zeros(n, dtype=np.int32), offsets)

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.next >= self.count

    def snapshot(self) -> dict[str, Any]:
        return {"next": self.next}

    def progress(self) -> Progress:
        return Progress(consumed=self.next, total=self.count)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "seed": self.seed, "count": self.count, "rate": self.rate}


def from_spec(spec: SourceSpec) -> ActivitySource:
    """The ``activity`` source."""
    return ActivitySource(count=spec.count, seed=spec.seed or 0, rate=spec.rate)


_DAMAGE = {  # how write_hhar_csv breaks a line (its fields split on commas)
    "too-few-fields": lambda p: p[:7],
    "non-numeric-x": lambda p: [*p[:3], b"abc", *p[4:]],
    "empty-y": lambda p: [*p[:4], b"", *p[5:]],
    "bad-utf8": lambda p: [*p[:6], b"\xff\xfe", *p[7:]],
    "blank": lambda p: [],
}


def write_hhar_csv(
    path: str | os.PathLike[str],
    count: int,
    seed: int = 0,
    malformed: int | Mapping[int, str] = 0,
    *,
    crlf: bool = False,
) -> list[int]:
    """Write ``count`` activity rows, with a header, as an HHAR CSV file.

    ``malformed`` is a number of lines to break (too few fields, a
    non-numeric x, an empty y, in turn, at seeded places) or a mapping from
    1-based line number (the header is line 1) to one of ``too-few-fields``,
    ``non-numeric-x``, ``empty-y``, ``bad-utf8``, ``blank``. Returns the
    broken line numbers, sorted.
    """
    if isinstance(malformed, int):
        rng = np.random.default_rng([seed, 3])
        lines = sorted(int(i) + 2 for i in rng.choice(count, min(malformed, count), replace=False))
        kinds = ("too-few-fields", "non-numeric-x", "empty-y")
        malformed = {n: kinds[i % 3] for i, n in enumerate(lines)}
    if set(malformed.values()) - set(_DAMAGE):
        raise ConfigError(f"unknown damage; use one of: {', '.join(_DAMAGE)}")
    eol = b"\r\n" if crlf else b"\n"
    with open(path, "wb") as f:
        f.write(HHAR_HEADER + eol)
        for lo in range(0, count, _CHUNK):
            rows = activity_payloads(lo, min(_CHUNK, count - lo), seed)
            for n, how in malformed.items():
                if 0 <= n - 2 - lo < len(rows):
                    rows[n - 2 - lo] = b",".join(_DAMAGE[how](rows[n - 2 - lo].split(b",")))
            f.write(eol.join(rows) + eol)
    return sorted(malformed)
