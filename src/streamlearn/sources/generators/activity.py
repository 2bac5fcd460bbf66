"""The activity generator: HHAR-shaped accelerometer rows as CSV lines.

Rows come in sessions: one user, one device, one activity for a few hundred to
a few thousand samples at the model's rate (50 to 200 Hz). The signal is
gravity, turned by the activity's posture (sit, stand and bike hold the phone
differently), plus a gait rhythm whose frequency and strength depend on the
activity (walk, stairs up and down, pedalling), a per-user style, a per-device
bias and gain, and noise. ``null`` sessions mix postures and rhythms.

Everything is a function of the row index: session parameters are drawn in
seeded blocks and the noise comes from a counter-based generator (Philox)
advanced to the first row, so any chunking of reads yields the same bytes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit

from streamlearn.errors import ConfigError
from streamlearn.records.batch import RawBatch
from streamlearn.records.schema import HHAR_COLUMNS, HHAR_SCHEMA
from streamlearn.sources.base import Progress, Source

__all__ = [
    "DEVICES",
    "LABELS",
    "MODELS",
    "USERS",
    "ActivitySource",
    "activity_payloads",
    "activity_rows",
    "write_hhar_csv",
]

USERS = tuple("abcdefghi")
MODELS = ("nexus4", "s3", "s3mini", "samsungold")
DEVICES = tuple(f"{m}_{k}" for m in MODELS for k in (1, 2))
LABELS = ("stand", "sit", "walk", "bike", "stairsup", "stairsdown", "null")

_RATE_HZ = np.array([200.0, 150.0, 100.0, 50.0])  # per model, as in HHAR
_NOISE = np.array([0.04, 0.07, 0.10, 0.16])  # per model, m/s^2
_LABEL_P = np.array([0.15, 0.14, 0.17, 0.15, 0.14, 0.13, 0.12])
# Posture: where gravity points in the phone's frame, per activity (null: mixed).
_POSTURE = np.array([
    [0.05, 0.99, 0.10], [0.40, 0.50, 0.77], [0.10, 0.97, 0.22], [0.22, 0.78, 0.58],
    [0.14, 0.92, 0.37], [0.02, 0.98, 0.02], [0.0, 0.0, 0.0],
])
_AMP = np.array([0.25, 0.12, 2.6, 1.4, 2.2, 3.4, 0.0])  # rhythm strength, m/s^2
_FREQ = np.array([0.30, 0.25, 1.9, 1.25, 1.55, 2.15, 0.0])  # rhythm frequency, Hz
_HARM = np.array([0.1, 0.1, 0.35, 0.15, 0.45, 0.30, 0.3])  # second harmonic share
_FORE = np.array([0.3, 0.3, 0.6, 1.0, 0.8, 0.7, 0.5])  # fore-aft share
_G = 9.81
_EPOCH_NS = 1_424_696_633_908 * 1_000_000  # HHAR's recording days (Feb 2015)
_BLOCK = 1024  # sessions per parameter block
_CHUNK = 65536  # rows formatted at a time, to bound memory
_HEADER = ",".join(HHAR_COLUMNS).encode()


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


class _Sessions:
    """Session parameters for one seed, grown block by block as rows are asked for."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        rng = np.random.default_rng([seed, 1])
        self.user_amp = rng.uniform(0.8, 1.25, len(USERS))
        self.user_pace = rng.uniform(0.9, 1.12, len(USERS))
        self.user_lean = rng.normal(0.0, 0.12, (len(USERS), 3))
        self.dev_bias = rng.normal(0.0, 0.25, (len(DEVICES), 3))
        self.dev_gain = 1.0 + rng.normal(0.0, 0.03, (len(DEVICES), 3))
        self.dev_noise = _NOISE[np.arange(len(DEVICES)) // 2] * rng.uniform(0.8, 1.2, len(DEVICES))
        self.dev_clock = rng.integers(-2_000_000_000, 2_000_000_000, len(DEVICES))
        self.cols: dict[str, np.ndarray] = {}
        self.rows = 0  # rows covered by the blocks made so far
        self.t_ns = _EPOCH_NS  # time at the end of the last session made

    def cover(self, stop: int) -> None:
        while self.rows < stop:
            self._grow(len(self.cols.get("start", ())) // _BLOCK)

    def _grow(self, block: int) -> None:
        rng = np.random.default_rng([self.seed, 2, block])
        k = _BLOCK
        user = rng.integers(0, len(USERS), k)
        device = rng.integers(0, len(DEVICES), k)
        label = rng.choice(len(LABELS), k, p=_LABEL_P)
        length = np.exp(rng.uniform(np.log(300), np.log(3000), k)).astype(np.int64)
        hz = _RATE_HZ[device // 2] * rng.uniform(0.97, 1.03, k)
        period = np.rint(1e9 / hz).astype(np.int64)
        gap = rng.integers(1_000_000_000, 20_000_000_000, k)
        # null: a blend of two postures and a random rhythm
        mix = rng.uniform(0, 1, (k, 1))
        one, two = rng.integers(0, 6, k), rng.integers(0, 6, k)
        posture = np.where(
            (label == 6)[:, None], mix * _POSTURE[one] + (1 - mix) * _POSTURE[two], _POSTURE[label]
        )
        posture = posture + self.user_lean[user] + rng.normal(0.0, 0.10, (k, 3))
        gravity = _G * _unit(posture)
        amp = np.where(label == 6, rng.uniform(0.1, 3.0, k), _AMP[label])
        amp = amp * self.user_amp[user] * rng.uniform(0.75, 1.3, k)
        freq = np.where(label == 6, rng.uniform(0.4, 2.8, k), _FREQ[label])
        freq = freq * self.user_pace[user] * rng.uniform(0.92, 1.08, k)
        bounce = _unit(gravity / _G + rng.normal(0.0, 0.15, (k, 3)))
        fore = _unit(np.array([0.2, 0.0, 1.0]) + rng.normal(0.0, 0.3, (k, 3)))
        ends = np.cumsum(length * period + gap)
        new = {
            "start": self.rows + np.cumsum(length) - length,
            "t0": self.t_ns + ends - length * period - gap,
            "user": user, "device": device, "label": label, "period": period,
            "gravity": gravity, "amp": amp, "freq": freq, "bounce": bounce, "fore": fore,
            "phase": rng.uniform(0.0, 2 * np.pi, (k, 2)),
        }
        for name, v in new.items():
            self.cols[name] = np.concatenate([self.cols[name], v]) if name in self.cols else v
        self.rows += int(length.sum())
        self.t_ns += int(ends[-1])


_TABLES: dict[int, _Sessions] = {}


def _sessions(seed: int) -> _Sessions:
    table = _TABLES.get(seed)
    if table is None:
        if len(_TABLES) >= 8:  # a few seeds at most; forget the oldest
            _TABLES.pop(next(iter(_TABLES)))
        table = _TABLES[seed] = _Sessions(seed)
    return table


def _noise(seed: int, start: int, count: int) -> np.ndarray:
    """Eight uniforms in [0, 1) per row, a pure function of (seed, row)."""
    key = np.array([seed & 0xFFFFFFFFFFFFFFFF, 0xAC71417], dtype=np.uint64)
    bits = np.random.Philox(key=key)
    bits.advance(start)  # one Philox counter step = 4 x 64 bits = one row
    raw = bits.random_raw(4 * count).view(np.uint32).reshape(count, 8)
    return raw * (1.0 / 2**32)


def _generate(start: int, count: int, seed: int) -> dict[str, np.ndarray]:
    """Raw columns: ints, accelerations in micro-units and the category ids."""
    table = _sessions(seed)
    table.cover(start + count)
    c = table.cols
    rows = np.arange(start, start + count, dtype=np.int64)
    s = np.searchsorted(c["start"], rows, side="right") - 1
    k = rows - c["start"][s]
    device, period, label = c["device"][s], c["period"][s], c["label"][s]
    phase0, phase1 = c["phase"][s].T
    u = _noise(seed, start, count)
    phase = (2 * np.pi * 1e-9) * c["freq"][s] * (k * period) + phase0
    wave = np.sin(phase)
    gait = wave + _HARM[label] * np.sin(2 * phase + phase1)
    gait += 0.6 * (np.maximum(wave, 0.0) ** 4 - 0.3)  # heel strikes
    sway = _FORE[label] * np.cos(phase + phase1)
    amp = c["amp"][s]
    acc = c["gravity"][s] + c["bounce"][s] * (amp * gait)[:, None]
    acc += c["fore"][s] * (amp * sway)[:, None]
    acc *= table.dev_gain[device]
    acc += table.dev_bias[device]
    # triangular noise (sum of two uniforms), scaled to unit variance
    acc += (table.dev_noise[device] * np.sqrt(6.0))[:, None] * (u[:, 0:3] + u[:, 3:6] - 1.0)
    sample_ns = c["t0"][s] + k * period
    latency = 2_000_000 + (u[:, 6] * 6_000_000).astype(np.int64)
    return {
        "index": rows,
        "arrival": (sample_ns + latency) // 1_000_000,
        "creation": sample_ns + table.dev_clock[device],
        "micro": np.rint(acc * 1e6).astype(np.int64),
        "user": c["user"][s],
        "device": device,
        "label": label,
    }


def activity_rows(start: int, count: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Rows ``start`` to ``start + count - 1`` as HHAR columns.

    Ints are ``int64``, x, y, z ``float64`` (six decimals, exactly what the
    CSV text holds) and text columns ``object`` arrays of ``str``.
    """
    g = _generate(int(start), int(count), int(seed))
    xyz = g["micro"] / 1e6
    return {
        "Index": g["index"],
        "Arrival_Time": g["arrival"],
        "Creation_Time": g["creation"],
        "x": xyz[:, 0].copy(),
        "y": xyz[:, 1].copy(),
        "z": xyz[:, 2].copy(),
        "User": np.array(USERS, dtype=object)[g["user"]],
        "Model": np.array(MODELS, dtype=object)[g["device"] // 2],
        "Device": np.array(DEVICES, dtype=object)[g["device"]],
        "gt": np.array(LABELS, dtype=object)[g["label"]],
    }


# -- fast CSV text, compiled: a few tens of nanoseconds per row ---------------------
_POW10 = np.array([10**k for k in range(19)], dtype=np.int64)
_PAIRS = np.frombuffer(b"".join(b"%02d" % i for i in range(100)), dtype=np.uint8)


@njit(cache=True, nogil=True)
def _put_int(out: np.ndarray, pos: int, v: int) -> int:
    if v < 0:
        out[pos] = 45  # "-"
        pos += 1
        v = -v
    n = 1
    while n < 19 and v >= _POW10[n]:
        n += 1
    j = pos + n
    while v >= 100:  # two digits per division
        q = v // 100
        r = 2 * (v - 100 * q)
        out[j - 1] = _PAIRS[r + 1]
        out[j - 2] = _PAIRS[r]
        j -= 2
        v = q
    if v >= 10:
        out[j - 1] = _PAIRS[2 * v + 1]
        out[j - 2] = _PAIRS[2 * v]
    else:
        out[j - 1] = 48 + v
    return pos + n


@njit(cache=True, nogil=True)
def _put_micro(out: np.ndarray, pos: int, v: int) -> int:
    """Micro-units as a short decimal: ``-5.958191``, ``6.52``, ``0.0``."""
    if v < 0:
        out[pos] = 45
        pos += 1
        v = -v
    pos = _put_int(out, pos, v // 1_000_000)
    out[pos] = 46  # "."
    frac, width = v % 1_000_000, 6
    if frac == 0:
        out[pos + 1] = 48
        return pos + 2
    while frac % 10 == 0:
        frac //= 10
        width -= 1
    for j in range(pos + width, pos, -1):
        out[j] = 48 + frac % 10
        frac //= 10
    return pos + width + 1


@njit(cache=True, nogil=True)
def _format(
    index: np.ndarray, arrival: np.ndarray, creation: np.ndarray, micro: np.ndarray,
    combo: np.ndarray, suffix: np.ndarray, suffix_len: np.ndarray, out: np.ndarray,
) -> int:
    pos = 0
    for i in range(index.shape[0]):
        pos = _put_int(out, pos, index[i])
        out[pos] = 44  # ","
        pos = _put_int(out, pos + 1, arrival[i])
        out[pos] = 44
        pos = _put_int(out, pos + 1, creation[i])
        for a in range(3):
            out[pos] = 44
            pos = _put_micro(out, pos + 1, micro[i, a])
        out[pos] = 44
        pos += 1
        c = combo[i]
        for j in range(suffix_len[c]):  # "User,Model,Device,gt\n"
            out[pos + j] = suffix[c, j]
        pos += suffix_len[c]
    return pos


def _suffix_table() -> tuple[np.ndarray, np.ndarray]:
    texts = [
        f"{u},{MODELS[d // 2]},{DEVICES[d]},{lab}\n".encode()
        for u in USERS for d in range(len(DEVICES)) for lab in LABELS
    ]
    table = np.zeros((len(texts), max(map(len, texts))), dtype=np.uint8)
    for i, t in enumerate(texts):
        table[i, : len(t)] = np.frombuffer(t, dtype=np.uint8)
    return table, np.array([len(t) for t in texts], dtype=np.int64)


_SUFFIX, _SUFFIX_LEN = _suffix_table()


def _lines(g: dict[str, np.ndarray]) -> list[bytes]:
    combo = (g["user"] * len(DEVICES) + g["device"]) * len(LABELS) + g["label"]
    # 3 ints of <= 20 chars, 3 decimals of <= 28, the suffix and separators
    out = np.empty(len(combo) * (64 + 90 + _SUFFIX.shape[1]), dtype=np.uint8)
    end = _format(
        g["index"], g["arrival"], g["creation"], g["micro"], combo, _SUFFIX, _SUFFIX_LEN, out
    )
    lines = out[:end].tobytes().split(b"\n")
    lines.pop()
    return lines


def activity_payloads(start: int, count: int, seed: int = 0) -> list[bytes]:
    """Rows ``start`` to ``start + count - 1`` as HHAR CSV lines (no header, no newline)."""
    out: list[bytes] = []
    for lo in range(int(start), int(start) + int(count), _CHUNK):
        out += _lines(_generate(lo, min(_CHUNK, int(start) + int(count) - lo), int(seed)))
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
    default_format = "csv"
    schema = HHAR_SCHEMA

    def __init__(self, count: int | None = None, seed: int = 0, rate: float | None = None) -> None:
        if count is not None and count < 0:
            raise ConfigError(f"--count must be >= 0, not {count}")
        if rate is not None and rate <= 0:
            raise ConfigError(f"--rate must be > 0, not {rate}")
        self.count, self.seed, self.rate = count, int(seed), rate
        self.next = 0
        self._t0 = time.monotonic()
        self._sent = 0

    def open(self, resume: dict[str, Any] | None = None) -> None:
        self.next = int(resume.get("next", 0)) if resume else 0
        if self.next < 0 or (self.count is not None and self.next > self.count):
            raise ConfigError(f"cannot resume the activity source at row {self.next}")
        self._t0, self._sent = time.monotonic(), 0

    def read(self, max_records: int, timeout_s: float = 1.0) -> RawBatch:
        n = max_records if self.count is None else min(max_records, self.count - self.next)
        if n > 0 and self.rate is not None:
            n = min(n, self._due(timeout_s))
        if n <= 0:
            return RawBatch.empty("activity")
        start = self.next
        payloads = activity_payloads(start, n, self.seed)
        self.next += n
        self._sent += n
        return RawBatch(
            "activity",
            payloads,
            np.zeros(n, dtype=np.int32),
            np.arange(start, start + n, dtype=np.int64),
        )

    def _due(self, timeout_s: float) -> int:
        """Records due by now at ``rate``, sleeping (up to the timeout) for the next one."""
        assert self.rate is not None
        elapsed = time.monotonic() - self._t0
        due = int(elapsed * self.rate) - self._sent
        if due < 1:
            wait = (self._sent + 1) / self.rate - elapsed
            if wait > timeout_s:
                time.sleep(max(timeout_s, 0.0))
                return 0
            time.sleep(max(wait, 0.0))
            due = max(1, int((time.monotonic() - self._t0) * self.rate) - self._sent)
        return due

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.next >= self.count

    def position(self) -> dict[str, Any]:
        return {"next": self.next}

    def progress(self) -> Progress:
        return Progress(consumed=self.next, total=self.count)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "seed": self.seed, "count": self.count, "rate": self.rate}


_BREAKERS = {
    "too-few-fields": lambda p: p[:7],
    "non-numeric-x": lambda p: [*p[:3], b"abc", *p[4:]],
    "empty-y": lambda p: [*p[:4], b"", *p[5:]],
    "nonfinite-z": lambda p: [*p[:5], b"inf", *p[6:]],
    "bad-utf8": lambda p: [*p[:6], b"\xff\xfe", *p[7:]],
    "blank": lambda p: [],
}


def write_hhar_csv(
    path: str | Path,
    count: int,
    seed: int = 0,
    malformed: Mapping[int, str] | None = None,
    *,
    header: bool = True,
    crlf: bool = False,
) -> Path:
    """Write ``count`` activity rows as an HHAR CSV file (for tests and demos).

    Parameters
    ----------
    malformed
        1-based physical line number to damage -> how: ``too-few-fields``,
        ``non-numeric-x``, ``empty-y``, ``nonfinite-z``, ``bad-utf8`` or
        ``blank``. The line keeps its number (line 1 is the header).
    crlf
        End lines with ``\\r\\n`` instead of ``\\n``.
    """
    damage = dict(malformed or {})
    unknown = sorted(set(damage.values()) - set(_BREAKERS))
    if unknown:
        raise ConfigError(f"unknown damage {unknown[0]!r}; use one of: {', '.join(_BREAKERS)}")
    eol = b"\r\n" if crlf else b"\n"
    first = 2 if header else 1  # line number of row 0
    path = Path(path)
    with path.open("wb") as f:
        if header:
            f.write(_HEADER + eol)
        for lo in range(0, count, _CHUNK):
            lines = activity_payloads(lo, min(_CHUNK, count - lo), seed)
            for line_no, how in damage.items():
                i = line_no - first - lo
                if 0 <= i < len(lines):
                    lines[i] = b",".join(_BREAKERS[how](lines[i].split(b",")))
            f.write(eol.join(lines) + eol)
    return path
