"""Each compiled learner alone: records/s of ``test_then_train`` on 10 numeric features.

One core, 1,000,000 records in batches of 1,000 (the learner alone: no
decoding), after a warm-up that compiles the kernels. The target is
>= 1,000,000 records/s per learner; ``auto`` runs all its members.

Usage: python benchmarks/learners.py [--count N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from streamlearn.learn.registry import build_learner

KINDS = {
    "classification": ["logreg", "pa", "nb", "knn", "hist", "auto"],
    "regression": ["rls", "sgd", "pa", "knn", "rff", "auto"],
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1_000_000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.count, 10))
    targets = {
        "classification": (X[:, :3].sum(axis=1) > 0).astype(np.int64) + (X[:, 3] > 1),
        "regression": X @ rng.normal(size=10) + 0.1 * rng.normal(size=args.count),
    }
    print(f"{args.count:,} records, 10 numeric features, batches of 1,000, one core")
    for task, kinds in KINDS.items():
        y = targets[task]
        for kind in kinds:
            warm = build_learner(kind, task)
            warm.test_then_train(X[:2000], y[:2000])
            model = build_learner(kind, task)
            started = time.perf_counter()
            for i in range(0, args.count, 1000):
                model.test_then_train(X[i : i + 1000], y[i : i + 1000])
            rate = args.count / (time.perf_counter() - started)
            flag = "" if rate >= 1_000_000 or kind == "auto" else "  (below 1M)"
            print(f"{task:<15}{kind:<8}{rate:>14,.0f} records/s{flag}")
    end_to_end(X, targets["classification"])


def end_to_end(X: np.ndarray, y: np.ndarray) -> None:
    """``auto`` through a CSV file, decoding included (the target: >= 200,000 records/s)."""
    import tempfile
    from pathlib import Path

    from streamlearn import Pipeline, run

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ten.csv"
        with open(path, "w") as fh:
            fh.write(",".join(f"x{j}" for j in range(10)) + ",label\n")
            for row, label in zip(X.round(5).tolist(), y.tolist(), strict=True):
                fh.write(",".join(map(str, row)) + f",{label}\n")
        pipeline = Pipeline(str(path), task="classification", models=["auto"], batch_size=10_000)
        summary = run(pipeline)
        print(
            f"auto end to end through a CSV file: {summary['records_per_s']:,.0f} records/s "
            f"({summary['records_consumed']:,} records, accuracy "
            f"{100 * summary['models']['auto']['accuracy']:.2f} %)"
        )


if __name__ == "__main__":
    main()
