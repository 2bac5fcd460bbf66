"""Activity rows as HHAR CSV text, compiled: a few tens of nanoseconds per row.

Integers are written two digits per division, accelerations (micro-units) as
the shortest decimal of six places at most, and the text columns as one
pre-built suffix per (user, device, label).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from streamlearn.codecs.digits import put_int
from streamlearn.sources.generators.activity_sessions import DEVICES, LABELS, MODELS, USERS

__all__ = ["csv_lines"]


@njit(cache=True, nogil=True)
def _put_micro(out: np.ndarray, pos: int, v: int) -> int:
    """Micro-units as a short decimal: ``-5.958191``, ``6.52``, ``0.0``."""
    if v < 0:
        out[pos] = 45
        pos += 1
        v = -v
    pos = put_int(out, pos, v // 1_000_000)
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
    index: np.ndarray,
    arrival: np.ndarray,
    creation: np.ndarray,
    micro: np.ndarray,
    combo: np.ndarray,
    suffix: np.ndarray,
    suffix_len: np.ndarray,
    out: np.ndarray,
) -> int:
    pos = 0
    for i in range(index.shape[0]):
        pos = put_int(out, pos, index[i])
        out[pos] = 44  # ","
        pos = put_int(out, pos + 1, arrival[i])
        out[pos] = 44
        pos = put_int(out, pos + 1, creation[i])
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
        for u in USERS
        for d in range(len(DEVICES))
        for lab in LABELS
    ]
    table = np.zeros((len(texts), max(map(len, texts))), dtype=np.uint8)
    for i, t in enumerate(texts):
        table[i, : len(t)] = np.frombuffer(t, dtype=np.uint8)
    return table, np.array([len(t) for t in texts], dtype=np.int64)


_SUFFIX, _SUFFIX_LEN = _suffix_table()


def csv_lines(g: dict[str, np.ndarray]) -> list[bytes]:
    """The rows of raw columns ``g`` as CSV lines, without line breaks."""
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
