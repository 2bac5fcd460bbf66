"""``--workers``: the lab's ML race (random forest, linear, gradient boosting) on 1 and 2 threads.

Runs the same race on the course's nonlinear stream with ``workers=1`` and
``workers=2`` in this process, checks the results are equal, and prints the
wall time of each and the speed-up. This machine has 2 cores.
"""

from __future__ import annotations

import argparse
import os
import time

from streamlearn import Pipeline, run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--models", default="course-ml", help="a preset or a comma-separated list")
    args = ap.parse_args()
    models = args.models.split(",")
    print(f"{args.records:,} nonlinear records, models {models}, {os.cpu_count()} CPUs")
    # warm-up: numba's compiled kernels load (or compile) once, outside the timings
    run(Pipeline("nonlinear", task="regression", models=models, until="count:2000"))
    results = {}
    for workers in (1, 2):
        t = time.perf_counter()
        s = run(
            Pipeline(
                "nonlinear",
                task="regression",
                models=models,
                until=f"count:{args.records}",
                batch_size=1000,
                workers=workers,
            )
        )
        wall = time.perf_counter() - t
        results[workers] = (wall, {k: v["mse"] for k, v in s["models"].items()})
        print(f"workers={workers}: {wall:6.1f} s  {args.records / wall:>9,.0f} records/s")
    same = results[1][1] == results[2][1]
    print(f"speed-up {results[1][0] / results[2][0]:.2f}x; results equal: {same}")


if __name__ == "__main__":
    main()
