"""P2: Kafka to the end of a race, regression.

RLS(1.0) racing RLS(0.99) on 2,000,000 records of the course's linear topic
through the embedded broker, end to end (consume, decode, race, metrics),
against the same race fed by the in-process generator in the same run.

Usage: python benchmarks/kafka_e2e.py [--count N] [--batch-size B]
"""

from __future__ import annotations

import argparse
import time

from _common import produce

from streamlearn import Pipeline, run
from streamlearn.kafka.broker import EmbeddedBroker
from streamlearn.sources.registry import parse_source

TARGET = 450_000  # DESIGN.md, P2


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=2_000_000)
    ap.add_argument("--batch-size", type=int, default=20_000)
    args = ap.parse_args()
    models = ["rls", "rls:forgetting=0.99"]
    # warm numba's caches so compile time is not measured
    run(Pipeline("linear", task="regression", models=models, until="count:2000"))

    with EmbeddedBroker() as broker:
        made = produce(broker.bootstrap, "linear", "dataLinearModel", args.count)
        print(
            f"produced {made['records']:,} records in {made['seconds']:.1f} s "
            f"({made['records_per_s']:,.0f} records/s)"
        )
        spec = parse_source("kafka:dataLinearModel", bootstrap=broker.bootstrap)
        started = time.perf_counter()
        kafka = run(Pipeline(spec, task="regression", models=models, batch_size=args.batch_size))
        kafka_s = time.perf_counter() - started

    started = time.perf_counter()
    local = run(
        Pipeline(
            parse_source("linear", count=args.count),
            task="regression",
            models=models,
            batch_size=args.batch_size,
        )
    )
    local_s = time.perf_counter() - started

    assert kafka["records_predicted"] == local["records_predicted"] == args.count
    for m in models:
        assert (
            abs(kafka["models"][m]["mse"] - local["models"][m]["mse"])
            <= 1e-12 * local["models"][m]["mse"]
        )
    k_rate, l_rate = args.count / kafka_s, args.count / local_s
    print(f"kafka -> race:     {k_rate:>12,.0f} records/s ({kafka_s:.1f} s)")
    print(f"generator -> race: {l_rate:>12,.0f} records/s ({local_s:.1f} s)")
    print(f"ratio kafka/generator: {k_rate / l_rate:.2f}")
    for m in models:
        print(f"  {m:<22} MSE {kafka['models'][m]['mse']:.6g}")
    print(f"P2 target >= {TARGET:,} records/s: {'PASS' if k_rate >= TARGET else 'FAIL'}")


if __name__ == "__main__":
    main()
