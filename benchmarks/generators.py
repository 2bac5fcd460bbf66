"""Course generators: the fast path against the course's own per-message loop.

Prints messages/s for the compiled generators (draws + ``array2string``-identical
text) and for the course producer's loop (``RandomState`` calls and
``np.array2string`` per message), measured in the same run, and their ratio:

    .venv/bin/python benchmarks/generators.py                  # 1,000,000 fast, 5,000 reference
    .venv/bin/python benchmarks/generators.py --count 200000 --kind linear

Target: well over 500,000 messages/s on one core for the fast path (Kafka
needs >= 300,000/s). CPU seconds are printed too: on a shared machine they
say more than the wall clock. The decode rate of the literal codec is shown
for reference.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from streamlearn.codecs.literal import LiteralCodec
from streamlearn.records.batch import RawBatch
from streamlearn.sources.generators.course import CourseGenerator, reference_payloads

CHUNK = 100_000


def timed(fn: Callable[[], int]) -> tuple[int, float, float]:
    """Messages, wall seconds and CPU seconds."""
    w0, c0 = time.perf_counter(), time.process_time()
    n = fn()
    return n, time.perf_counter() - w0, time.process_time() - c0


def fast(kind: str, count: int) -> Callable[[], int]:
    def run() -> int:
        gen = CourseGenerator(kind)
        done = 0
        while done < count:
            done += len(gen.payloads(min(CHUNK, count - done)))
        return done

    return run


def reference(kind: str, count: int) -> Callable[[], int]:
    return lambda: len(reference_payloads(kind, 0, count))


def decode(kind: str, count: int) -> Callable[[], int]:
    payloads = CourseGenerator(kind).payloads(min(count, CHUNK))
    codec = LiteralCodec()

    def run() -> int:
        done = 0
        while done < count:
            n = min(len(payloads), count - done)
            raw = RawBatch(kind, payloads[:n], np.zeros(n, np.int32), np.arange(n, dtype=np.int64))
            batch, _ = codec.decode(raw)
            done += len(batch)
        return done

    return run


def line(label: str, n: int, wall: float, cpu: float) -> float:
    rate = n / wall
    print(f"  {label:<26} {n:>10,} msgs {rate:>14,.0f} msg/s  ({n / cpu:>12,.0f} msg/s of CPU)")
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--count", type=int, default=1_000_000, help="messages for the fast path")
    ap.add_argument("--ref-count", type=int, default=5_000, help="messages for the reference loop")
    ap.add_argument("--kind", choices=["linear", "nonlinear", "both"], default="both")
    args = ap.parse_args()
    kinds = ["linear", "nonlinear"] if args.kind == "both" else [args.kind]
    for kind in kinds:
        fast(kind, 1000)()  # compile (or load the numba cache) outside the timings
        decode(kind, 1000)()
        print(f"{kind}:")
        f = line("fast (numba)", *timed(fast(kind, args.count)))
        r = line("reference (course loop)", *timed(reference(kind, args.ref_count)))
        line("decode (LiteralCodec)", *timed(decode(kind, args.count)))
        print(f"  ratio fast / reference: {f / r:,.0f}x")


if __name__ == "__main__":
    main()
