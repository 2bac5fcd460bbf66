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

import bisect
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from streamlearn.errors import ConfigError
from streamlearn.records.batch import RawBatch
from streamlearn.records.schema import HHAR_COLUMNS, HHAR_SCHEMA
from streamlearn.sources.base import Progress, Source

__all__ = [
    "DEVICES",
    "HHAR_HEADER",
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
# Posture: where gravity points in the phone's frame, per activity (null: mixed).
_POSTURE = np.array([
    [0.05, 0.99, 0.08], [0.35, 0.55, 0.76], [0.12, 0.95, 0.28], [0.25, 0.70, 0.67],
    [0.10, 0.85, 0.52], [0.02, 0.96, -0.25], [0.0, 0.0, 0.0],
])
_AMP = np.array([0.25, 0.12, 2.6, 1.3, 1.9, 3.8, 0.0])  # rhythm strength, m/s^2
_FREQ = np.array([0.30, 0.25, 1.9, 1.25, 1.55, 2.15, 0.0])  # rhythm frequency, Hz
_HARM = np.array([0.1, 0.1, 0.35, 0.15, 0.45, 0.30, 0.3])  # second harmonic share
_FORE = np.array([0.3, 0.3, 0.6, 1.0, 0.8, 0.7, 0.5])  # fore-aft share
_G = 9.81
_EPOCH_NS = 1_424_696_633_908 * 1_000_000  # HHAR's recording days (Feb 2015)
_VISITS = 64  # user visits (each a few sessions) per parameter block
_CHUNK = 65536  # rows formatted at a time, to bound memory
#: the HHAR header line, for writing files
HHAR_HEADER = ",".join(HHAR_COLUMNS).encode()


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


class _Sessions:
    """Session parameters for one seed, in blocks made on demand.

    Only block boundaries (first row, start time) are kept for good, plus a
    few recent blocks, so memory stays flat on an endless stream.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        rng = np.random.default_rng([seed, 1])
        nu, nd = len(USERS), len(DEVICES)
        self.user_amp = rng.uniform(0.85, 1.15, nu)
        self.user_pace = rng.uniform(0.9, 1.12, nu)
        self.user_lean = rng.normal(0.0, 0.04, (nu, 3))
        self.dev_lean = rng.normal(0.0, 0.04, (nd, 3))  # where each phone sits
        self.dev_bias = rng.normal(0.0, 0.25, (nd, 3))
        self.dev_gain = 1.0 + rng.normal(0.0, 0.03, (nd, 3))
        self.dev_noise = _NOISE[np.arange(nd) // 2] * rng.uniform(0.8, 1.2, nd)
        self.dev_clock = rng.integers(-2_000_000_000, 2_000_000_000, nd)
        self.first_rows, self.first_ns = [0], [_EPOCH_NS]
        self.blocks: dict[int, dict[str, np.ndarray]] = {}
        self.lock = threading.Lock()  # sources in several threads may share a seed

    def span(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Sessions of the blocks that hold rows ``start`` to ``stop - 1``."""
        with self.lock:
            while self.first_rows[-1] < stop:
                block = self._block(len(self.first_rows) - 1)
                self.first_rows.append(int(block["end_row"][0]))
                self.first_ns.append(int(block["end_ns"][0]))
            lo = bisect.bisect_right(self.first_rows, start) - 1
            hi = bisect.bisect_left(self.first_rows, stop)
            parts = [self._block(b) for b in range(lo, max(hi, lo + 1))]
        if len(parts) == 1:
            return parts[0]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    def _block(self, b: int) -> dict[str, np.ndarray]:
        if b not in self.blocks:
            if len(self.blocks) >= 4:
                self.blocks.pop(next(iter(self.blocks)))
            self.blocks[b] = self._make(b, self.first_rows[b], self.first_ns[b])
        return self.blocks[b]

    def _make(self, b: int, row0: int, ns0: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng([self.seed, 2, b])
        users, labels = [], []
        for _ in range(_VISITS):  # a user does the six activities in some order
            seq = [v for a in rng.permutation(6) for v in ((a, 6) if rng.random() < 0.4 else (a,))]
            users += [rng.integers(0, len(USERS))] * len(seq)
            labels += seq
        user, label = np.array(users, dtype=np.int64), np.array(labels, dtype=np.int64)
        k, nd, null = len(label), len(DEVICES), label == 6
        length = np.exp(rng.uniform(np.log(200), np.log(2500), k)).astype(np.int64)
        length = np.where(null, length // 3, length)  # transitions are short
        worn = rng.random((k, nd)) < 0.5  # the phones recording this session
        worn[np.arange(k), rng.integers(0, nd, k)] = True
        hz = worn * _RATE_HZ[np.arange(nd) // 2]
        pick = np.cumsum(hz, axis=1) / hz.sum(axis=1, keepdims=True)
        period = np.rint(1e9 / (hz.sum(axis=1) * rng.uniform(0.97, 1.03, k))).astype(np.int64)
        gap = rng.integers(1_000_000_000, 20_000_000_000, k)
        # null: a blend of two postures, the phone handled (big lean), any rhythm
        mix = rng.uniform(0, 1, (k, 1))
        blend = mix * _POSTURE[rng.integers(0, 6, k)] + (1 - mix) * _POSTURE[rng.integers(0, 6, k)]
        posture = np.where(null[:, None], blend, _POSTURE[label])
        lean = np.where(null, 0.35, 0.03)[:, None] * rng.normal(0.0, 1.0, (k, 3))
        posture = posture + self.user_lean[user] + lean
        amp = np.where(null, rng.uniform(0.1, 3.0, k), _AMP[label])
        freq = np.where(null, rng.uniform(0.4, 2.8, k), _FREQ[label])
        ends = np.cumsum(length * period + gap)
        return {
            "start": row0 + np.cumsum(length) - length,
            "t0": ns0 + ends - length * period - gap,
            "user": user, "label": label, "period": period, "pick": pick, "posture": posture,
            "amp": amp * self.user_amp[user] * rng.uniform(0.85, 1.15, k),
            "freq": freq * self.user_pace[user] * rng.uniform(0.92, 1.08, k),
            "bounce": _unit(_unit(posture) + rng.normal(0.0, 0.15, (k, 3))),
            "fore": _unit(np.array([0.2, 0.0, 1.0]) + rng.normal(0.0, 0.3, (k, 3))),
            "phase": rng.uniform(0.0, 2 * np.pi, (k, 2)),
            "end_row": np.array([row0 + int(length.sum())]),
            "end_ns": np.array([ns0 + int(ends[-1])]),
        }


_TABLES: dict[int, _Sessions] = {}


def _sessions(seed: int) -> _Sessions:
    table = _TABLES.get(seed)
    if table is None:
        if len(_TABLES) >= 8:  # a few seeds at most; forget the oldest
            _TABLES.pop(next(iter(_TABLES)), None)
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
    c = table.span(start, start + count)
    out = {k: np.empty(count, np.int64) for k in ("arrival", "creation", "user", "device", "label")}
    out["index"] = np.arange(start, start + count, dtype=np.int64)
    out["micro"] = np.empty((count, 3), np.int64)
    _signal(
        start, _noise(seed, start, count), c["start"], c["t0"], c["period"], c["user"],
        c["label"], c["pick"], c["posture"], c["amp"], c["freq"], c["bounce"], c["fore"],
        c["phase"], table.dev_lean, table.dev_gain, table.dev_bias, table.dev_noise,
        table.dev_clock, out["arrival"], out["creation"], out["micro"], out["user"],
        out["device"], out["label"],
    )
    return out


_A = np.ndarray  # the compiled kernel takes many arrays


@njit(cache=True, nogil=True)
def _signal(
    start: int, u: _A, s_start: _A, t0: _A, period: _A, user: _A, label: _A, pick: _A,
    posture: _A, amp: _A, freq: _A, bounce: _A, fore: _A, phase: _A, dev_lean: _A,
    dev_gain: _A, dev_bias: _A, dev_noise: _A, dev_clock: _A, arrival: _A, creation: _A,
    micro: _A, users: _A, devices: _A, labels: _A,
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
    xyz = np.ascontiguousarray(g["micro"].T) / 1e6  # exactly the double nearest to the six-decimal text
    return {
        "Index": g["index"], "Arrival_Time": g["arrival"], "Creation_Time": g["creation"],
        "x": xyz[0], "y": xyz[1], "z": xyz[2],
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
    """Digits of ``v >= 0`` at ``out[pos:]``; returns the end."""
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
    # a bound on the line length, from the widest values of this chunk
    width = sum(len(str(int(g[k].max(initial=0)))) for k in ("index", "arrival", "creation"))
    width += 3 * (len(str(int(np.abs(g["micro"]).max(initial=0)))) + 3) + _SUFFIX.shape[1] + 8
    out = np.empty(len(combo) * width, dtype=np.uint8)
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
        self.next, self._sent, self._t0 = 0, 0, time.monotonic()

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
        start, payloads = self.next, activity_payloads(self.next, n, self.seed)
        self.next += n
        self._sent += n
        offsets = np.arange(start, start + n, dtype=np.int64)
        return RawBatch("activity", payloads, np.zeros(n, dtype=np.int32), offsets)

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


_DAMAGE = {  # how write_hhar_csv breaks a line (its fields split on commas)
    "too-few-fields": lambda p: p[:7],
    "non-numeric-x": lambda p: [*p[:3], b"abc", *p[4:]],
    "empty-y": lambda p: [*p[:4], b"", *p[5:]],
    "bad-utf8": lambda p: [*p[:6], b"\xff\xfe", *p[7:]],
    "blank": lambda p: [],
}


def write_hhar_csv(
    path: str | os.PathLike[str], count: int, seed: int = 0,
    malformed: int | Mapping[int, str] = 0, *, crlf: bool = False,
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
