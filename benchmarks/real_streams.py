"""Real streams: streamlearn's learners and ``auto`` against River's, row for row.

Data: every classification data set River ships inside its wheel (no
download), River's shipped regression sets, and the course's linear and
nonlinear streams. Each model sees the same rows in the same order and is
scored prequentially (predict, then learn). River's models:
HoeffdingTree, HoeffdingAdaptiveTree, LogisticRegression (one-vs-rest where
multiclass, after a StandardScaler as a River user would), GaussianNB,
ARF(n_models=10) and no-change; their regression counterparts for the
regression sets.

Printed per data set: accuracy (or MSE), records/s, and each one's
difference and speed ratio to ARF, measured in this process; then whether
``auto`` meets the acceptance (>= the best of HT, HAT, LR, GNB and
no-change; within 1 point of ARF or better; >= 10x ARF's records/s).

These sets are a development set: the defaults are not tuned to them.

Usage: python benchmarks/real_streams.py [--only NAME] [--course-rows N]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from streamlearn.learn.registry import build_learner

OURS = {
    "classification": [
        "auto", "logreg", "pa", "nb", "knn", "hist", "majority", "no-change",
    ],
    "regression": ["auto", "rls", "sgd", "pa", "knn", "rff", "mean", "no-change"],
}  # fmt: skip
BASELINES = ("HT", "HAT", "LR", "GNB", "no-change")


def river_sets() -> list[tuple[str, str, Any]]:
    from river import datasets

    return [
        ("Bananas", "classification", datasets.Bananas()),
        ("Phishing", "classification", datasets.Phishing()),
        ("ImageSegments", "classification", datasets.ImageSegments()),
        ("Shuttle", "classification", datasets.Shuttle()),
        ("TrumpApproval", "regression", datasets.TrumpApproval()),
        ("ChickWeights", "regression", datasets.ChickWeights()),
        ("WaterFlow", "regression", datasets.WaterFlow()),
    ]


def course_set(kind: str, n: int) -> list[tuple[dict[str, float], float]]:
    from streamlearn.sources.generators.course import course_rows

    rows = course_rows(kind, 0, n)
    return [({f"x{j}": float(v) for j, v in enumerate(r[2:], 1)}, float(r[1])) for r in rows]


def arrays(stream: Iterable[tuple[dict[str, Any], Any]], task: str) -> tuple[Any, ...]:
    """Rows as River yields them, and as streamlearn gets them (numbers; labels as codes)."""
    rows = list(stream)
    names = [k for k, v in rows[0][0].items() if isinstance(v, int | float)]  # numbers only
    rows = [({k: x[k] for k in names if k in x}, t) for x, t in rows]
    X = np.array([[float(x.get(k, np.nan)) for k in names] for x, _ in rows])
    if task == "classification":
        codes: dict[Any, int] = {}
        y = np.array([codes.setdefault(t, len(codes)) for _, t in rows], dtype=np.int64)
    else:
        y = np.array([float(t) for _, t in rows])
    return rows, names, X, y


def river_models(task: str) -> dict[str, Callable[[], Any]]:
    from river import dummy, ensemble, forest, linear_model, multiclass, naive_bayes, tree
    from river import preprocessing as pp

    if task == "classification":
        return {
            "HT": tree.HoeffdingTreeClassifier,
            "HAT": lambda: tree.HoeffdingAdaptiveTreeClassifier(seed=42),
            "LR": lambda: (
                pp.StandardScaler()
                | multiclass.OneVsRestClassifier(linear_model.LogisticRegression())
            ),
            "GNB": naive_bayes.GaussianNB,
            "ARF": lambda: forest.ARFClassifier(n_models=10, seed=42),
            "no-change": dummy.NoChangeClassifier,
        }
    _ = ensemble
    return {
        "HT": tree.HoeffdingTreeRegressor,
        "HAT": lambda: tree.HoeffdingAdaptiveTreeRegressor(seed=42),
        "LR": lambda: pp.StandardScaler() | linear_model.LinearRegression(),
        "ARF": lambda: forest.ARFRegressor(n_models=10, seed=42),
        "no-change": _NoChangeRegressor,
    }


class _NoChangeRegressor:
    """The previous target (River has no such regressor)."""

    def __init__(self) -> None:
        self.last = 0.0

    def predict_one(self, x: dict[str, Any]) -> float:
        return self.last

    def learn_one(self, x: dict[str, Any], y: float) -> None:
        self.last = float(y)


def score(task: str, preds: np.ndarray, y: np.ndarray) -> float:
    if task == "classification":
        return float(np.mean(preds == y))
    return float(np.mean((np.asarray(preds, dtype=float) - y) ** 2))


def run_river(make: Callable[[], Any], rows: list[Any], task: str) -> tuple[float, float]:
    model = make()
    hits, sq = 0, 0.0
    started = time.perf_counter()
    for x, t in rows:
        p = model.predict_one(x)
        if task == "classification":
            hits += p == t
        else:
            sq += (float(p if p is not None else 0.0) - t) ** 2
        model.learn_one(x, t)
    took = time.perf_counter() - started
    value = hits / len(rows) if task == "classification" else sq / len(rows)
    return value, len(rows) / took


def run_ours(spec: str, X: np.ndarray, y: np.ndarray, task: str) -> tuple[float, float, Any]:
    warm = build_learner(spec, task)  # numba compiles on first use: not measured
    warm.set_features([f"f{j}" for j in range(X.shape[1])], np.zeros(X.shape[1], dtype=bool))
    warm.test_then_train(X[:50], y[:50])
    model = build_learner(spec, task)
    model.set_features([f"f{j}" for j in range(X.shape[1])], np.zeros(X.shape[1], dtype=bool))
    started = time.perf_counter()
    preds = np.concatenate(
        [model.test_then_train(X[i : i + 1000], y[i : i + 1000]) for i in range(0, len(y), 1000)]
    )
    took = time.perf_counter() - started
    return score(task, preds, y), len(y) / took, model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default=None, help="one data set by name")
    ap.add_argument("--course-rows", type=int, default=50_000)
    args = ap.parse_args()
    sets = [
        *river_sets(),
        ("course linear", "regression", course_set("linear", args.course_rows)),
        ("course nonlinear", "regression", course_set("nonlinear", args.course_rows)),
    ]
    verdicts = []
    for name, task, stream in sets:
        if args.only and args.only != name:
            continue
        rows, names, X, y = arrays(stream, task)
        unit = "accuracy" if task == "classification" else "MSE"
        print(f"\n== {name}: {len(rows):,} rows, {len(names)} features, {task} ({unit})")
        results: dict[str, tuple[float, float]] = {}
        for label, make in river_models(task).items():
            results[f"river {label}"] = run_river(make, rows, task)
        leaders: dict[str, int] = {}
        for spec in OURS[task]:
            value, rate, model = run_ours(spec, X, y, task)
            results[spec] = (value, rate)
            if spec == "auto":
                leaders = model.diagnostics()["records_led"]
        arf_value, arf_rate = results["river ARF"]
        better = (lambda a, b: a >= b) if task == "classification" else (lambda a, b: a <= b)
        print(f"{'model':<18}{unit:>12}{'vs ARF':>12}{'records/s':>14}{'x ARF':>9}")
        ranked = sorted(
            results.items(), key=lambda kv: -kv[1][0] if task == "classification" else kv[1][0]
        )
        for label, (value, rate) in ranked:
            diff = (
                f"{100 * (value - arf_value):+.2f} pt"
                if task == "classification"
                else f"{value / arf_value:.2f}x"
            )
            shown = f"{100 * value:.2f}%" if task == "classification" else f"{value:.5g}"
            print(f"{label:<18}{shown:>12}{diff:>12}{rate:>14,.0f}{rate / arf_rate:>9.1f}")
        print(f"auto's leaders (records led): {leaders}")
        auto_value, auto_rate = results["auto"]
        base = [results[f"river {b}"][0] for b in BASELINES if f"river {b}" in results]
        best_base = max(base) if task == "classification" else min(base)
        ok_base = better(auto_value, best_base)
        if task == "classification":
            ok_arf = auto_value >= arf_value - 0.01
        else:
            ok_arf = auto_value <= arf_value * 1.01 or better(auto_value, arf_value)
        ok_speed = auto_rate >= 10 * arf_rate
        verdicts.append((name, ok_base, ok_arf, ok_speed))
        print(
            f"acceptance: >= best River baseline {'yes' if ok_base else 'NO'}, "
            f"within 1 pt of ARF {'yes' if ok_arf else 'NO'}, >= 10x ARF's speed "
            f"{'yes' if ok_speed else 'NO'}"
        )
    print("\nsummary")
    for name, a, b, c in verdicts:
        print(f"  {name:<18} baselines {'ok' if a else 'MISS'}  ARF {'ok' if b else 'MISS'}  "
              f"speed {'ok' if c else 'MISS'}")  # fmt: skip


if __name__ == "__main__":
    main()
