"""Delayed labels: records/s and peak memory with 1M records and 100,000 pending.

Each configuration runs in its own process (so peak RSS is its own):
``--delay 0`` (plain prequential) against ``--delay 100000`` on the course's
linear stream, RLS and SGD racing, and prints records/s, peak RSS and the
ratio of the delayed run to the plain one.

``--join`` adds labels on their own topic, end to end through the embedded
broker: 1M feature records stamped 1 ms apart and their labels stamped
100 s later (so 100,000 records wait), joined by ``--join-key id``; only
the run is timed, not writing the topics.
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


JOIN_CHILD = """
import json, resource, sys, time
from streamlearn import Pipeline, run
from streamlearn.sources.registry import parse_source
bootstrap = sys.argv[1]
names = [f"x{j}" for j in range(1, 11)]
t = time.perf_counter()
s = run(Pipeline(parse_source("kafka:features", bootstrap=bootstrap),
                 task="regression", target="y", features=names, models=["rls", "sgd"],
                 batch_size=10_000, labels="kafka:labels", join_key="id", max_pending=200_000))
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "labels": {k: v for k, v in s["labels"].items() if k != "delay_s"},
                  "mse": {k: v["mse"] for k, v in s["models"].items()}}))
"""


def write_topics(bootstrap: str, n: int, wait_ms: int) -> None:
    """Feature records 1 ms apart and their labels ``wait_ms`` later, keyed and stamped."""
    import numpy as np
    import orjson

    from streamlearn.kafka.producer import KafkaWriter

    rng = np.random.default_rng(0)
    names = [f"x{j}" for j in range(1, 11)]
    start = 1_700_000_000_000  # milliseconds: a fixed day, so runs compare
    with KafkaWriter(bootstrap, "features") as f, KafkaWriter(bootstrap, "labels") as lab:
        for lo in range(0, n, 100_000):
            hi = min(n, lo + 100_000)
            X = rng.normal(size=(hi - lo, 10))
            y = X @ np.linspace(-1, 1, 10) + 0.1 * rng.normal(size=hi - lo)
            keys = [str(i).encode() for i in range(lo, hi)]
            rows = [dict(zip(names, r, strict=True)) for r in X.tolist()]
            f.write_stamped(
                [orjson.dumps({"id": i, **r}) for i, r in zip(range(lo, hi), rows, strict=True)],
                keys,
                [start + i for i in range(lo, hi)],
            )
            lab.write_stamped(
                [
                    orjson.dumps({"id": i, "y": v})
                    for i, v in zip(range(lo, hi), y.tolist(), strict=True)
                ],
                keys,
                [start + i + wait_ms for i in range(lo, hi)],
            )


def join(records: int, wait: int) -> None:
    from streamlearn.kafka.broker import EmbeddedBroker

    with EmbeddedBroker() as broker:
        write_topics(broker.bootstrap, records, wait)
        out = subprocess.run(
            [sys.executable, "-c", JOIN_CHILD, broker.bootstrap],
            capture_output=True,
            text=True,
            check=True,
        )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"labels topic, {wait:,} ms later: {records / r['wall']:>10,.0f} records/s  "
        f"peak RSS {r['rss_mb']:6.0f} MB  labels {r['labels']}  MSE {r['mse']}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--delay", type=int, default=100_000)
    ap.add_argument("--join", action="store_true", help="also labels joined from a topic")
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
    if args.join:
        join(args.records, args.delay)


if __name__ == "__main__":
    main()
