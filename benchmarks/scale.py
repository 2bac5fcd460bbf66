"""Records/s against keys and cores: per-key RLS (regression) and per-key logistic regression.

Writes one CSV per key count (key ``k`` = record number mod K, its own linear
rule per key), then times ``--per-key k`` races in this process with
``workers=1`` and ``workers=2``, and on the Spark engine (local[1] and
local[2], a CLI process each; the session's start-up, which the run
reports as ``spark.startup_s``, is left out) and, with ``--cluster``, on a standalone cluster on
127.0.0.1 with one and two one-core workers. Prints records/s and ratios.
This machine has 2 cores.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from streamlearn import Pipeline, run


def write(path: Path, n: int, keys: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    coef = rng.normal(size=(keys, 5))
    k = np.arange(n) % keys
    X = rng.normal(size=(n, 5))
    y = np.einsum("ij,ij->i", X, coef[k]) + 0.01 * rng.normal(size=n)
    label = np.where(y > 0, "up", "down")
    with path.open("w") as f:
        f.write("k,x0,x1,x2,x3,x4,y,label\n")
        for i in range(n):
            f.write(f"k{k[i]},{','.join(f'{v:.6f}' for v in X[i])},{y[i]:.6f},{label[i]}\n")


def local(path: Path, task: str, workers: int) -> float:
    target, models = ("y", ["rls", "sgd"]) if task == "regression" else ("label", ["logreg", "nb"])
    features = ["x0", "x1", "x2", "x3", "x4"]
    t = time.perf_counter()
    s = run(
        Pipeline(
            f"csv:{path}",
            task=task,
            target=target,
            features=features,
            models=models,
            per_key="k",
            batch_size=10_000,
            workers=workers,
        )
    )
    return s["records_predicted"] / (time.perf_counter() - t)


def spark(path: Path, task: str, master: str) -> float:
    target, model = ("y", "rls") if task == "regression" else ("label", "logreg")
    with tempfile.TemporaryDirectory() as d:
        m = Path(d) / "m.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "streamlearn",
                "run",
                "--source",
                f"csv:{path}",
                "--task",
                task,
                "--target",
                target,
                "--features",
                "x0,x1,x2,x3,x4",
                "--model",
                model,
                "--per-key",
                "k",
                "--batch-size",
                "10000",
                "--engine",
                "spark",
                "--master",
                master,
                "--quiet",
                "--metrics-json",
                str(m),
            ],
            check=True,
            capture_output=True,
        )
        doc = json.loads(m.read_text())
    # elapsed_s counts the JVM's and the session's start-up too: leave it out
    return float(doc["records_predicted"] / (doc["elapsed_s"] - doc["spark"]["startup_s"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--keys", default="1,10,1000,100000")
    ap.add_argument("--spark", action="store_true", help="also time the Spark engine")
    ap.add_argument(
        "--cluster",
        action="store_true",
        help="also a standalone cluster on 127.0.0.1 with 1 and 2 one-core workers",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        warm = Path(d) / "warm.csv"  # compiled kernels load once, outside the timings
        write(warm, 2000, 10)
        for task in ("regression", "classification"):
            local(warm, task, 1)
        for keys in (int(k) for k in args.keys.split(",")):
            path = Path(d) / f"keys{keys}.csv"
            write(path, args.records, keys)
            for task in ("regression", "classification"):
                one, two = local(path, task, 1), local(path, task, 2)
                line = (
                    f"{keys:>7,} keys  {task:<14} local: {one:>9,.0f} rec/s, workers=2 "
                    f"{two:>9,.0f} ({two / one:.2f}x)"
                )
                if args.spark:
                    s1, s2 = spark(path, task, "local[1]"), spark(path, task, "local[2]")
                    line += f"  spark local[1] {s1:>8,.0f}, local[2] {s2:>8,.0f} ({s2 / one:.2f}x local)"
                print(line, flush=True)
    if args.cluster:
        cluster(args.records, [int(k) for k in args.keys.split(",")])


def cluster(records: int, key_counts: list[int]) -> None:
    """Per-key races on a standalone cluster of 1, then 2 one-core workers."""
    from streamlearn.engines.spark.standalone import local_cluster

    with tempfile.TemporaryDirectory() as d:
        paths = {}
        for keys in key_counts:
            paths[keys] = Path(d) / f"keys{keys}.csv"
            write(paths[keys], records, keys)
        figures: dict[tuple[int, str, int], float] = {}
        for workers in (1, 2):
            with local_cluster(workers=workers) as master:
                for keys, path in paths.items():
                    for task in ("regression", "classification"):
                        figures[keys, task, workers] = spark(path, task, master)
        for keys in key_counts:
            for task in ("regression", "classification"):
                w1, w2 = figures[keys, task, 1], figures[keys, task, 2]
                print(
                    f"{keys:>7,} keys  {task:<14} standalone cluster: 1 worker {w1:>8,.0f} rec/s, "
                    f"2 workers {w2:>8,.0f} ({w2 / w1:.2f}x)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
