"""Who does what, with which phones, for how long: the activity generator's sessions.

As in HHAR, a user performs every activity in turn, with ``null``
transitions in between, while several phones record at once. Session
parameters come in seeded blocks made on demand, so any row's session is a
pure function of (seed, row index).
"""

from __future__ import annotations

import bisect
import threading

import numpy as np

__all__ = ["DEVICES", "LABELS", "MODELS", "USERS", "Sessions", "sessions"]

USERS = tuple("abcdefghi")
MODELS = ("nexus4", "s3", "s3mini", "samsungold")
DEVICES = tuple(f"{m}_{k}" for m in MODELS for k in (1, 2))
LABELS = ("stand", "sit", "walk", "bike", "stairsup", "stairsdown", "null")

_RATE_HZ = np.array([200.0, 150.0, 100.0, 50.0])  # per model, as in HHAR
_NOISE = np.array([0.04, 0.07, 0.10, 0.16])  # per model, m/s^2
# Posture: where gravity points in the phone's frame, per activity (null: mixed).
_POSTURE = np.array(
    [
        [0.05, 0.99, 0.08],
        [0.35, 0.55, 0.76],
        [0.12, 0.95, 0.28],
        [0.25, 0.70, 0.67],
        [0.10, 0.85, 0.52],
        [0.02, 0.96, -0.25],
        [0.0, 0.0, 0.0],
    ]
)
_AMP = np.array([0.25, 0.12, 2.6, 1.3, 1.9, 3.8, 0.0])  # rhythm strength, m/s^2
_FREQ = np.array([0.30, 0.25, 1.9, 1.25, 1.55, 2.15, 0.0])  # rhythm frequency, Hz
_EPOCH_NS = 1_424_696_633_908 * 1_000_000  # HHAR's recording days (Feb 2015)
_VISITS = 64  # user visits (each a few sessions) per parameter block


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


class Sessions:
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
            "user": user,
            "label": label,
            "period": period,
            "pick": pick,
            "posture": posture,
            "amp": amp * self.user_amp[user] * rng.uniform(0.85, 1.15, k),
            "freq": freq * self.user_pace[user] * rng.uniform(0.92, 1.08, k),
            "bounce": _unit(_unit(posture) + rng.normal(0.0, 0.15, (k, 3))),
            "fore": _unit(np.array([0.2, 0.0, 1.0]) + rng.normal(0.0, 0.3, (k, 3))),
            "phase": rng.uniform(0.0, 2 * np.pi, (k, 2)),
            "end_row": np.array([row0 + int(length.sum())]),
            "end_ns": np.array([ns0 + int(ends[-1])]),
        }


_TABLES: dict[int, Sessions] = {}


def sessions(seed: int) -> Sessions:
    """The session table of ``seed``, shared by every reader of that seed."""
    table = _TABLES.get(seed)
    if table is None:
        if len(_TABLES) >= 8:  # a few seeds at most; forget the oldest
            _TABLES.pop(next(iter(_TABLES)), None)
        table = _TABLES[seed] = Sessions(seed)
    return table
