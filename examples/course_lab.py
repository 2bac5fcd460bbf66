"""The streaming-analytics course lab, step by step, on streamlearn.

Each section names the lab step it reproduces. Run it against the embedded
broker (``python examples/course_lab.py``) or against your own Kafka
(``--bootstrap HOST:PORT`` with the topics already produced).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from streamlearn import Pipeline, run
from streamlearn.sources.registry import parse_source
from streamlearn.steps import CounterText, FeatureSummary, KeyedState, KeyedStats, SaveBatches

FEATURES = [f"x{i}" for i in range(1, 11)]


def first_value(values, state):
    """updateStateByKey: keep the first value ever seen."""
    return state if state is not None else values[0]


def running_abs_sum(values, state):
    """updateStateByKey: running sum of |x|."""
    return (state or 0.0) + sum(abs(v) for v in values)


def bounded_stack(values, state, size: int = 5):
    """updateStateByKey: stack the rows, keeping the last ``size`` (the course's grows forever)."""
    return ((state or []) + list(values))[-size:]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--bootstrap", default=None, help="an existing Kafka; default: an embedded broker"
    )
    ap.add_argument("--count", type=int, default=20_000)
    ap.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="course-lab-")))
    args = ap.parse_args()

    if args.bootstrap is None:
        from streamlearn.kafka.broker import EmbeddedBroker
        from streamlearn.kafka.produce import produce

        broker = EmbeddedBroker().start()
        bootstrap = broker.bootstrap
        for kind, topic in (("linear", "dataLinearModel"), ("nonlinear", "dataNonLinearModel")):
            produce(kind, bootstrap, topic, count=args.count)
    else:
        broker, bootstrap = None, args.bootstrap

    def topic(name: str):
        return parse_source(f"kafka:{name}", bootstrap=bootstrap)

    # 1-2. stateless: parse, max and mean of x, a text line per record, save each batch to disk
    p = Pipeline(topic("dataLinearModel"), batch_size=1000)
    p.then(FeatureSummary(FEATURES)).then(CounterText()).then(SaveBatches(args.out / "batches"))
    run(p)
    print(
        f"saved {len(list((args.out / 'batches').iterdir()))} batch files under {args.out / 'batches'}"
    )

    # 3. updateStateByKey: first value, running |x| sum, bounded stack (one global key here)
    steps = [
        KeyedState(first_value, key=None, column="x1"),
        KeyedState(running_abs_sum, key=None, column="x1"),
        KeyedState(bounded_stack, key=None, column="x1"),
    ]
    p = Pipeline(topic("dataLinearModel"), batch_size=1000, steps=list(steps))
    run(p)
    for s in steps:
        print(f"{s.step_id}: {s.describe()}")

    # 4. sequential mean and variance (Welford, equal to the course's recurrence)
    stats = KeyedStats(["mean", "var"], columns=["y", "x1"])
    run(Pipeline(topic("dataLinearModel"), batch_size=1000, steps=[stats]))
    print(f"mean and variance: {stats.describe()['keys']['*']}")

    # 5-6. RLS, and two RLS models racing (forgetting 1.0 against 0.99)
    summary = run(Pipeline(topic("dataLinearModel"), task="regression", models=["course-rls"]))
    print(
        f"RLS race: champion {summary['champion']}, "
        + ", ".join(f"{k} MSE {v['mse']:.6f}" for k, v in summary["models"].items())
    )

    # 7. ML racing: random forest, linear and gradient boosting on the 50 latest records
    summary = run(
        Pipeline(
            topic("dataNonLinearModel"),
            task="regression",
            models=["course-ml"],
            until=f"count:{min(args.count, 3000)}",
        )
    )
    print(
        f"ML race: champion {summary['champion']}, "
        + ", ".join(f"{k} MSE {v['mse']:.4f}" for k, v in summary["models"].items())
    )

    if broker is not None:
        broker.stop()


if __name__ == "__main__":
    main()
