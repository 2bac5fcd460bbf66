"""Delayed labels: records/s and peak memory with 1M records and 100,000 pending.

Each configuration runs in its own process (so peak RSS is its own):
``--delay 0`` (plain prequential) against ``--delay 100000`` on the course's
linear stream, RLS and SGD racing, and prints records/s, peak RSS and the
ratio of the delayed run to the plain one.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = """
import json, resource, sys, time
from streamlearn import Pipeline, run
n, delay = int(sys.argv[1]), int(sys.argv[2])
t = time.perf_counter()
s = run(Pipeline("linear", task="regression", models=["rls", "sgd"], until=f"count:{n}",
                 batch_size=10_000, delay=delay))
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "labels": s["labels"], "mse": {k: v["mse"] for k, v in s["models"].items()}}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--delay", type=int, default=100_000)
    args = ap.parse_args()
    results = {}
    for delay in (0, args.delay):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(args.records), str(delay)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        results[delay] = r
        print(
            f"delay {delay:>7,}: {args.records / r['wall']:>10,.0f} records/s  "
            f"peak RSS {r['rss_mb']:6.0f} MB  labels {r['labels']}  MSE {r['mse']}"
        )
    plain, late = results[0], results[args.delay]
    print(
        f"delayed / plain: speed {plain['wall'] / late['wall']:.2f}x, "
        f"memory {late['rss_mb'] / plain['rss_mb']:.2f}x"
    )


if __name__ == "__main__":
    main()
