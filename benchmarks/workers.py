"""``--workers``: the lab's ML race (random forest, linear, gradient boosting) on 1 and 2 threads.

Runs the same race on the course's nonlinear stream with ``workers=1`` and
``workers=2`` in this process, checks the results are equal, and prints the
wall time of each and the speed-up. This machine has 2 cores.

With ``--engine spark`` the race runs on Spark (``--master``, default
local[2]): ``workers=1`` learns on the driver, ``workers=2`` keeps each
model as a unit of state that the executors train at once. Spark's start-up
is outside the timings.
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
    ap.add_argument("--engine", default="local", choices=["local", "spark"])
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--batch-size", type=int, default=1000)
    args = ap.parse_args()
    models = args.models.split(",")
    options = {"master": args.master} if args.engine == "spark" else {}
    print(
        f"{args.records:,} nonlinear records, models {models}, {os.cpu_count()} CPUs, "
        f"engine {args.engine} {options.get('master', '')}"
    )
    # warm-up: numba's compiled kernels load (or compile) once, outside the timings
    for workers in (1, 2) if args.engine == "spark" else (1,):
        warm = Pipeline(
            "nonlinear", task="regression", models=models, until="count:2000", workers=workers
        )
        run(warm, engine=args.engine, **options)
    results = {}
    for workers in (1, 2):
        t = time.perf_counter()
        s = run(
            Pipeline(
                "nonlinear",
                task="regression",
                models=models,
                until=f"count:{args.records}",
                batch_size=args.batch_size,
                workers=workers,
            ),
            engine=args.engine,
            **options,
        )
        wall = time.perf_counter() - t
        results[workers] = (wall, {k: v["mse"] for k, v in s["models"].items()})
        where = s.get("spark", {}).get("race_models", "")
        print(f"workers={workers}: {wall:6.1f} s  {args.records / wall:>9,.0f} records/s  {where}")
    same = results[1][1] == results[2][1]
    print(f"speed-up {results[1][0] / results[2][0]:.2f}x; results equal: {same}")


if __name__ == "__main__":
    main()
