"""P3: Job 1 at the reference size, through the embedded broker.

6,240,991 HHAR-shaped activity rows are produced into a topic, then classified
prequentially (record level) with the default model, auto, 100,000
offsets per trigger as in the reference run. Reports wall time, peak RSS and
RSS at 25, 50, 75 and 100% of the stream.

Usage: python benchmarks/job1.py [--count N] [--model SPEC]
"""

from __future__ import annotations

import argparse
import time

from _common import RssProbe, peak_rss_mb, produce, rss_mb

from streamlearn import Pipeline, run
from streamlearn.kafka.broker import EmbeddedBroker
from streamlearn.sources.registry import parse_source

REFERENCE_ROWS = 6_240_991


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=REFERENCE_ROWS)
    ap.add_argument("--model", default="auto")
    ap.add_argument("--batch-size", type=int, default=100_000)
    args = ap.parse_args()
    # warm numba's caches so compile time is not measured
    run(Pipeline("activity", task="classification", models=[args.model], until="count:5000"))
    print(f"RSS before the run: {rss_mb():.0f} MB")

    with EmbeddedBroker() as broker:
        made = produce(broker.bootstrap, "activity", "activity", args.count)
        print(
            f"produced {made['records']:,} rows in {made['seconds']:.1f} s "
            f"({made['records_per_s']:,.0f} records/s)"
        )
        probe = RssProbe(args.count)
        spec = parse_source("kafka:activity", bootstrap=broker.bootstrap)
        started = time.perf_counter()
        summary = run(
            Pipeline(
                spec,
                task="classification",
                format="csv",
                models=[args.model],
                batch_size=args.batch_size,
            ),
            observer=probe,
        )
        took = time.perf_counter() - started

    m = summary["models"][args.model]
    print(
        f"rows predicted: {summary['records_predicted']:,} in {summary['batches']} batches "
        f"(dead letters {summary['dead_letters']}, cold start {summary['cold_start']})"
    )
    print(f"prequential accuracy ({args.model}): {100 * m['accuracy']:.2f} %")
    print(f"wall time: {took:.1f} s ({summary['records_per_s']:,.0f} records/s); reference: 48 min")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    s = probe.samples
    print(
        "RSS at 25/50/75/100%: "
        + ", ".join(f"{s.get(k, float('nan')):.0f} MB" for k in (0.25, 0.5, 0.75, 1.0))
    )
    flat = s.get(1.0, 0) <= 1.1 * s.get(0.25, float("inf"))
    print(
        f"P3 wall <= 180 s: {'PASS' if took <= 180 else 'FAIL'}; peak RSS <= 1500 MB: "
        f"{'PASS' if peak_rss_mb() <= 1500 else 'FAIL'}; flat (100% <= 1.1 x 25%): {'PASS' if flat else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
