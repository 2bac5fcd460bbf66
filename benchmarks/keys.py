"""Many keys: keyed statistics and keyed state with 100,000 distinct keys vs 10.

The same records (a CSV file of ``--count`` rows: a key and three numbers)
are run per step with keys drawn from 10 values and from 100,000, in this
process, best of ``--repeat`` runs each. The target is a ratio of at most 3x.
Reported: wall time of each run (the final per-key summary included), the
ratio, keys held and evicted, and peak RSS.

Usage: python benchmarks/keys.py [--count N] [--batch-size B] [--max-keys K]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import peak_rss_mb

from streamlearn import Pipeline, run
from streamlearn.steps import KeyedState, KeyedStats


def write_rows(path: Path, count: int, keys: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    key = rng.integers(0, keys, count)
    X = rng.normal(size=(count, 3)).round(6)
    with open(path, "w") as fh:
        fh.write("key,x1,x2,x3\n")
        step = 100_000
        for lo in range(0, count, step):
            part = slice(lo, lo + step)
            lines = [
                f"k{k},{a},{b},{c}\n"
                for k, (a, b, c) in zip(key[part], X[part].tolist(), strict=True)
            ]
            fh.write("".join(lines))


def running_abs_sum(values: list[float], state: float | None) -> float:
    """The course's keyed state: a running sum of |x| per key."""
    return (state or 0.0) + sum(abs(v) for v in values)


def timed(path: Path, step: object, batch_size: int) -> tuple[float, object]:
    started = time.perf_counter()
    run(Pipeline(str(path), steps=[step], batch_size=batch_size))  # type: ignore[list-item]
    return time.perf_counter() - started, step


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--batch-size", type=int, default=1000, help="the stats command's default")
    ap.add_argument("--max-keys", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs each")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for keys in (10, 100_000):
            files[keys] = Path(tmp) / f"keys{keys}.csv"
            write_rows(files[keys], args.count, keys)
        # warm caches (imports, codecs) outside the timings
        timed(files[10], KeyedStats(["mean"], key="key"), args.batch_size)
        print(f"{args.count:,} records, batches of {args.batch_size:,}, max_keys {args.max_keys:,}")
        for label, make in (
            (
                "stats (count,mean,var,min,max,sum)",
                lambda: KeyedStats(
                    ["count", "mean", "var", "min", "max", "sum"],
                    key="key",
                    columns=["x1", "x2", "x3"],
                    max_keys=args.max_keys,
                ),
            ),
            (
                "keyed state (running |x| sum)",
                lambda: KeyedState(running_abs_sum, key="key", column="x1", max_keys=args.max_keys),
            ),
        ):
            few_s = min(timed(files[10], make(), args.batch_size)[0] for _ in range(args.repeat))
            runs = [timed(files[100_000], make(), args.batch_size) for _ in range(args.repeat)]
            many_s, step = min(runs, key=lambda r: r[0])
            store = step.store  # type: ignore[attr-defined]
            print(
                f"{label}: 10 keys {few_s:.2f} s, 100,000 keys {many_s:.2f} s, "
                f"ratio {many_s / few_s:.2f}x (target <= 3x); keys held {len(store):,}, "
                f"evicted {store.evicted:,}"
            )
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
