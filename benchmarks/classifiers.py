"""Classifiers on the activity stream: prequential accuracy and speed.

Run: ``.venv/bin/python benchmarks/classifiers.py [--count 200000] [--model SPEC ...]``

Every learner sees the same HHAR-shaped rows from the activity generator
(features x, y, z and the categorical User, Model, Device; label ``gt``),
encoded once as the engine does, and runs ``test_then_train`` record-level
prequential over batches of ``--batch-size`` rows on one core. Only the
learner is timed (numba compile or cache load happens in a warm-up call).

Two reference points come with the table: ``majority`` (what ignoring the
features gives) and ``last-class`` (the label of the previous row). Activity
rows come in sessions of hundreds of rows, so ``last-class`` is nearly always
right: it measures the stream's autocorrelation, not learning from features.
``--shuffle`` removes that order, leaving only the features to learn from.

Target (DESIGN.md, P3): the default fast classifier at >= 200,000 records/s.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: the target is single-core throughput

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from streamlearn.learn import FeatureEncoder, LabelIndex, build_learner  # noqa: E402
from streamlearn.sources.generators.activity import activity_rows  # noqa: E402

DEFAULT_MODELS = ("fast", "hoeffding", "nb", "logreg", "majority", "last-class")
TARGET_RATE = 200_000


def activity_matrix(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, FeatureEncoder]:
    """The first ``count`` activity rows as the engine feeds them to learners."""
    cols = activity_rows(0, count, seed)
    encoder = FeatureEncoder(["x", "y", "z"], ["User", "Model", "Device"])
    return encoder.transform(cols, count), LabelIndex().encode(cols["gt"]), encoder


def measure(
    spec: str, X: np.ndarray, y: np.ndarray, enc: FeatureEncoder, batch: int
) -> dict[str, float]:
    """Prequential accuracy and learner throughput of one spec."""
    warm = build_learner(spec, "classification")
    warm.set_features(enc.names, enc.categorical_mask)
    warm.test_then_train(X[:50], y[:50])  # compile / load caches, import libraries
    model = build_learner(spec, "classification")
    model.set_features(enc.names, enc.categorical_mask)
    preds = np.empty(len(y), dtype=np.int64)
    started = time.perf_counter()
    for lo in range(0, len(y), batch):
        preds[lo : lo + batch] = model.test_then_train(X[lo : lo + batch], y[lo : lo + batch])
    took = time.perf_counter() - started
    half = len(y) // 2
    return {
        "accuracy": float(np.mean(preds == y)),
        "second_half": float(np.mean(preds[half:] == y[half:])),
        "records_per_s": len(y) / took,
        "seconds": took,
        "state_mb": model.state_size() / 1e6,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=200_000)
    ap.add_argument("--batch-size", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", action="append", help="spec to run (repeatable)")
    ap.add_argument(
        "--shuffle",
        action="store_true",
        help="shuffle the rows: no session order left, only the features to learn from",
    )
    args = ap.parse_args()
    specs = args.model or list(DEFAULT_MODELS)

    started = time.perf_counter()
    X, y, enc = activity_matrix(args.count, args.seed)
    if args.shuffle:
        order = np.random.default_rng(args.seed).permutation(len(y))
        X, y = X[order], y[order]
    print(
        f"{args.count:,} activity rows (seed {args.seed}{', shuffled' if args.shuffle else ''}), "
        f"{len(np.unique(y))} classes, generated and encoded in {time.perf_counter() - started:.1f} s"
    )
    w = max(14, *map(len, specs))
    print(
        f"{'model':<{w}} {'accuracy':>9} {'2nd half':>9} {'records/s':>12} {'seconds':>8} {'state MB':>9}"
    )
    results = {}
    for spec in specs:
        r = results[spec] = measure(spec, X, y, enc, args.batch_size)
        print(
            f"{spec:<{w}} {100 * r['accuracy']:>8.2f}% {100 * r['second_half']:>8.2f}% "
            f"{r['records_per_s']:>12,.0f} {r['seconds']:>8.2f} {r['state_mb']:>9.2f}",
            flush=True,
        )
    if "fast" in results:
        rate = results["fast"]["records_per_s"]
        print(
            f"fast: {rate:,.0f} records/s, target {TARGET_RATE:,}: "
            f"{'PASS' if rate >= TARGET_RATE else 'FAIL'}"
        )
        for other in ("hoeffding", "nb"):
            if other in results:
                ratio = rate / results[other]["records_per_s"]
                gain = 100 * (results["fast"]["accuracy"] - results[other]["accuracy"])
                print(f"fast vs {other}: {ratio:,.0f}x faster, {gain:+.2f} accuracy points")


if __name__ == "__main__":
    main()
