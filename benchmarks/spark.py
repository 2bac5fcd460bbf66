"""P4: P2's job on the Spark engine (local[2]), and its ratio to the local engine.

RLS(1.0) racing RLS(0.99) on the course's linear topic through the embedded
broker: the local engine first, then the Spark engine on the same topic with
the same batch size. Spark's start-up (the JVM and the session, once per
process) is reported apart; records/s cover the runs themselves. Both runs
must give the same counts and MSEs.

Usage: python benchmarks/spark.py [--count N] [--batch-size B] [--master local[2]]
"""

from __future__ import annotations

import argparse
import time

from _common import produce

from streamlearn import Pipeline, run
from streamlearn.kafka.broker import EmbeddedBroker
from streamlearn.sources.registry import parse_source

MODELS = ["rls", "rls:forgetting=0.99"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=2_000_000)
    ap.add_argument("--batch-size", type=int, default=20_000)
    ap.add_argument("--master", default="local[2]")
    args = ap.parse_args()

    started = time.perf_counter()
    from streamlearn.engines.spark.session import get_session

    get_session(args.master)
    startup = time.perf_counter() - started
    # warm numba's caches and Spark's Python workers: neither is measured
    warm = Pipeline("linear", task="regression", models=MODELS, until="count:2000")
    run(warm)
    run(warm, engine="spark", master=args.master)

    with EmbeddedBroker() as broker:
        made = produce(broker.bootstrap, "linear", "dataLinearModel", args.count)
        print(f"produced {made['records']:,} records in {made['seconds']:.1f} s")

        def pipeline() -> Pipeline:
            spec = parse_source("kafka:dataLinearModel", bootstrap=broker.bootstrap)
            return Pipeline(spec, task="regression", models=MODELS, batch_size=args.batch_size)

        t0 = time.perf_counter()
        local = run(pipeline())
        local_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        spark = run(pipeline(), engine="spark", master=args.master)
        spark_s = time.perf_counter() - t0

    assert spark["records_predicted"] == local["records_predicted"] == args.count
    assert spark["batches"] == local["batches"]
    for m in MODELS:
        a, b = local["models"][m]["mse"], spark["models"][m]["mse"]
        assert abs(a - b) <= 1e-9 * abs(a), (m, a, b)
    l_rate, s_rate = args.count / local_s, args.count / spark_s
    print(f"Spark start-up (once per process): {startup:.1f} s")
    print(f"local engine: {l_rate:>12,.0f} records/s ({local_s:.1f} s, {local['batches']} batches)")
    print(
        f"spark engine: {s_rate:>12,.0f} records/s ({spark_s:.1f} s on {args.master}, "
        f"reader {spark['spark']['kafka_reader']}, records read by "
        f"{spark['spark']['records_read_by']})"
    )
    phases = spark["spark"]["batch_ms"]
    print("  ms per micro-batch: " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(phases.items())))
    print(f"ratio spark/local: {s_rate / l_rate:.3f}")
    for m in MODELS:
        print(
            f"  {m:<22} MSE {spark['models'][m]['mse']:.9g} (local {local['models'][m]['mse']:.9g})"
        )


if __name__ == "__main__":
    main()
