"""Serving: a record whose label is null, empty or absent is predicted, never learned nor scored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from streamlearn import Pipeline, run
from streamlearn.testing import ListSink, MemorySource


def _rows(n: int, task: str, seed: int = 2) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = rng.normal(size=2)
        y = float(2 * x[0] - x[1]) if task == "regression" else ("up" if x[0] > x[1] else "down")
        out.append({"a": x[0], "b": x[1], "y": y})
    return out


@pytest.mark.parametrize(
    ("task", "models", "metric"),
    [
        ("regression", ["rls", "mean", "knn"], "mse"),
        ("classification", ["logreg", "majority", "nb"], "accuracy"),
    ],
)
@pytest.mark.parametrize("granularity", ["record", "batch"])
def test_unlabelled_records_are_served_and_change_nothing(
    task: str, models: list[str], metric: str, granularity: str
) -> None:
    rows = _rows(2000, task)
    rng = np.random.default_rng(9)
    served = set(rng.choice(2000, size=300, replace=False).tolist())
    mixed = [
        {**r, "y": None if i % 2 else ("" if task == "classification" else None)}
        if i in served
        else r
        for i, r in enumerate(rows)
    ]
    sink = ListSink()
    s = run(
        Pipeline(
            MemorySource(mixed),
            task=task,
            target="y",
            models=models,
            batch_size=128,
            granularity=granularity,
        ),
        sinks=[sink],
    )
    labelled_only = run(
        Pipeline(
            MemorySource([r for i, r in enumerate(rows) if i not in served]),
            task=task,
            target="y",
            models=models,
            batch_size=128,
            granularity=granularity,
        )
    )
    assert s["dead_letters"] == 0
    assert s["records_predicted"] == 2000
    assert s["labels"]["unlabelled"] == 300
    assert s["labels"]["labelled"] == 1700
    for name in models:
        assert s["models"][name]["predicted"] == 1700
        if granularity == "record":  # batches hold other records: only record-level is equal
            assert s["models"][name][metric] == pytest.approx(
                labelled_only["models"][name][metric], rel=1e-12
            )
        preds = np.concatenate([r.predictions[name] for r in sink.results])
        assert len(preds) == 2000
        served_preds = preds[sorted(served)]
        if task == "regression":
            assert np.isfinite(served_preds.astype(float)).all()


def test_a_csv_file_with_empty_labels_serves_them(tmp_path: Path) -> None:
    lines = ["x,z,label"]
    rng = np.random.default_rng(1)
    for i in range(400):
        x, z = rng.normal(size=2)
        label = "" if i % 10 == 9 else ("pos" if x + z > 0 else "neg")
        lines.append(f"{x:.6f},{z:.6f},{label}")
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(lines) + "\n")
    s = run(
        Pipeline(f"csv:{path}", task="classification", target="label", models=["logreg", "nb"]),
        predictions=str(tmp_path / "preds"),
    )
    assert s["dead_letters"] == 0
    assert s["labels"]["unlabelled"] == 40
    assert s["models"]["logreg"]["predicted"] == 360
    assert s["models"]["logreg"]["accuracy"] > 0.9
    # every record, served ones too, is in the predictions with the champion's marked
    import pandas as pd

    out = pd.concat(pd.read_csv(f) for f in sorted((tmp_path / "preds").glob("*.csv")))
    assert len(out) == 400 and out["label"].isna().sum() == 40
    assert set(out["champion"]) <= {"logreg", "nb"}
    for name in ("logreg", "nb"):
        mine = out["champion"] == name
        served = out.loc[mine, "prediction"].fillna("(cold)")
        assert (served == out.loc[mine, f"pred:{name}"].fillna("(cold)")).all()


def test_served_records_do_not_wait_for_a_delayed_label() -> None:
    rows = _rows(1000, "regression")
    mixed = [{**r, "y": None} if i % 4 == 0 else r for i, r in enumerate(rows)]
    s = run(
        Pipeline(
            MemorySource(mixed),
            task="regression",
            target="y",
            models=["rls"],
            delay=50,
            batch_size=100,
        )
    )
    labels = s["labels"]
    assert labels["unlabelled"] == 250
    assert labels["labelled"] + labels["pending"] == 750
    assert labels["pending"] == 50


def test_the_metrics_json_counts_served_records(tmp_path: Path) -> None:
    rows = [{"x": float(i), "y": None if i % 3 == 0 else float(i)} for i in range(90)]
    run(
        Pipeline(MemorySource(rows), task="regression", target="y", models=["rls"]),
        metrics_json=tmp_path / "m.json",
    )
    doc = orjson.loads((tmp_path / "m.json").read_bytes())
    assert doc["labels"]["unlabelled"] == 30 and doc["models"]["rls"]["predicted"] == 60
