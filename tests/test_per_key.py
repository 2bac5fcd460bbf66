"""Per-key races (``--per-key COL``): one race per key, each key's models see only its records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from helpers import uninterrupted_and_resumed
from streamlearn import Pipeline, run
from streamlearn.errors import ConfigError
from streamlearn.testing import ListSink, MemorySource


def _sensors(n: int, keys: int = 3, seed: int = 5) -> list[dict[str, Any]]:
    """Each sensor has its own linear rule: one model for all of them cannot fit."""
    rng = np.random.default_rng(seed)
    coef = rng.normal(size=(keys, 3))
    rows = []
    for _ in range(n):
        k = int(rng.integers(keys))
        x = rng.normal(size=3)
        rows.append(
            {
                "sensor": f"s{k}",
                "x0": x[0],
                "x1": x[1],
                "x2": x[2],
                "y": float(x @ coef[k]) + 0.01 * rng.normal(),
            }
        )
    return rows


def test_each_keys_models_see_only_that_keys_records_in_order() -> None:
    rows = _sensors(3000)
    sink = ListSink()
    summary = run(
        Pipeline(
            MemorySource(rows),
            task="regression",
            target="y",
            models=["rls", "mean"],
            per_key="sensor",
            batch_size=256,
        ),
        sinks=[sink],
    )
    got = {
        name: np.concatenate([r.predictions[name] for r in sink.results])
        for name in ("rls", "mean")
    }
    for key in ("s0", "s1", "s2"):
        mine = [r for r in rows if r["sensor"] == key]
        alone = ListSink()
        s = run(
            Pipeline(
                MemorySource([{k: v for k, v in r.items() if k != "sensor"} for r in mine]),
                task="regression",
                target="y",
                models=["rls", "mean"],
                batch_size=256,
            ),
            sinks=[alone],
        )
        where = np.array([r["sensor"] == key for r in rows])
        for name in ("rls", "mean"):
            expected = np.concatenate([r.predictions[name] for r in alone.results])
            assert np.array_equal(got[name][where], expected)
            per_key = summary["per_key"]["keys"][key][name]
            assert per_key["predicted"] == len(mine)
            assert per_key["mse"] == pytest.approx(s["models"][name]["mse"], rel=1e-12)
    # overall: every record scored once; per-key RLS fits each sensor's rule
    assert summary["models"]["rls"]["predicted"] == 3000
    assert summary["models"]["rls"]["mse"] < 0.01
    shared = run(Pipeline(MemorySource(rows), task="regression", target="y", models=["rls"]))
    assert shared["models"]["rls"]["mse"] > 10 * summary["models"]["rls"]["mse"]


def test_per_key_results_are_the_same_on_both_engines(engine: str) -> None:
    summary = run(
        Pipeline(
            "activity",
            task="classification",
            models=["logreg", "majority"],
            per_key="User",
            until="count:6000",
            batch_size=1000,
        ),
        engine=engine,
    )
    reference = run(
        Pipeline(
            "activity",
            task="classification",
            models=["logreg", "majority"],
            per_key="User",
            until="count:6000",
            batch_size=1000,
        )
    )
    assert summary["per_key"] == reference["per_key"]
    assert summary["models"]["logreg"]["accuracy"] == reference["models"]["logreg"]["accuracy"]
    keys = summary["per_key"]["keys"]
    assert len(keys) >= 2  # the generator's users come in sessions
    assert sum(m["logreg"]["predicted"] for m in keys.values()) == 6000


def _rls_per_sensor(rows: list[dict[str, Any]], **options: Any) -> Pipeline:
    """An RLS per sensor, in batches of 100."""
    return Pipeline(
        MemorySource(rows),
        task="regression",
        target="y",
        features=["x0", "x1", "x2"],
        models=["rls"],
        per_key="sensor",
        batch_size=100,
        **options,
    )


def test_keys_are_bounded_and_evictions_counted(engine: str) -> None:
    """Past ``max_keys`` the key unseen for longest goes, from Spark's state store too: a key
    that comes back starts afresh on both engines."""
    rows = _sensors(2000, keys=10)

    def go(on: str) -> dict[str, Any]:
        return dict(run(_rls_per_sensor(rows, max_keys=4), engine=on))

    summary, reference = go(engine), go("local")
    report = summary["per_key"]
    assert report["keys_held"] == 4 and len(report["keys"]) == 4
    assert report["evicted_keys"] > 0
    assert summary["models"]["rls"]["predicted"] == 2000
    assert report == reference["per_key"] and summary["models"] == reference["models"]
    if engine == "spark":
        assert summary["spark"]["state_keys"] <= 4


def test_per_key_needs_the_column_and_refuses_a_bad_bound() -> None:
    with pytest.raises(ConfigError, match="max-keys"):
        Pipeline("activity", task="classification", models=["logreg"], per_key="User", max_keys=0)
    with pytest.raises(ConfigError, match="nope"):
        run(
            Pipeline(
                "activity",
                task="classification",
                models=["logreg"],
                per_key="nope",
                until="count:100",
            )
        )


@pytest.mark.faults
def test_per_key_sigkill_then_resume_equals_the_uninterrupted_run(tmp_path: Path) -> None:
    args = [
        "run",
        "--source",
        "activity",
        "--count",
        "300000",
        "--task",
        "classification",
        "--model",
        "logreg",
        "--model",
        "nb",
        "--per-key",
        "Device",
        "--batch-size",
        "5000",
        "--quiet",
    ]
    a, b = uninterrupted_and_resumed(args, tmp_path, [3.0, 4.5])
    assert b["per_key"] == a["per_key"]
    assert {k: v["accuracy"] for k, v in b["models"].items()} == {
        k: v["accuracy"] for k, v in a["models"].items()
    }


@pytest.mark.parametrize(
    ("task", "categorical"),
    [("regression", False), ("classification", False), ("classification", True)],
)
def test_per_key_races_run_on_the_executors(engine: str, task: str, categorical: bool) -> None:
    """Per-key races learn on Spark's executors and give the local engine's figures; with
    a categorical feature each key codes its categories its own way, on both engines."""
    rows = _sensors(3000, keys=5)
    colours = ["red", "green", "blue", "amber"]
    for i, r in enumerate(rows):
        r["label"] = "up" if r["y"] > 0 else "down"
        r["colour"] = colours[(i * 7 + int(r["sensor"][1:])) % len(colours)]
        if categorical and r["colour"] == "red":
            r["label"] = "alarm"
    models = ["rls", "mean"] if task == "regression" else ["hoeffding", "majority"]
    features = ["x0", "x1", "x2", "colour"] if categorical else ["x0", "x1", "x2"]

    def go(on: str) -> dict[str, Any]:
        return dict(
            run(
                Pipeline(
                    MemorySource(rows),
                    task=task,  # type: ignore[arg-type]
                    target="y" if task == "regression" else "label",
                    features=features,
                    categorical=["colour"] if categorical else None,
                    models=models,
                    per_key="sensor",
                    batch_size=500,
                ),
                engine=on,
            )
        )

    got, reference = go(engine), go("local")
    if engine == "spark":
        assert got["spark"]["per_key_races"] == "executors"
    assert got["per_key"] == reference["per_key"]
    assert got["models"] == reference["models"]
    assert set(got["per_key"]["keys"]) == {f"s{k}" for k in range(5)}
    if categorical:  # the alarms follow the colour: a tree that sees its codes finds them
        assert got["models"]["hoeffding"]["accuracy"] > got["models"]["majority"]["accuracy"] + 0.2
    metric = "mse" if task == "regression" else "accuracy"
    best = min if task == "regression" else max
    assert got["champion"] == best(models, key=lambda m: got["models"][m][metric])


@pytest.mark.spark
@pytest.mark.faults
def test_per_key_races_on_the_executors_resume_exactly_after_sigkill(tmp_path: Path) -> None:
    args = [
        "run", "--source", "activity", "--count", "80000", "--task", "classification",
        "--features", "x,y,z", "--model", "logreg", "--model", "nb", "--per-key", "Device",
        "--max-keys", "5", "--batch-size", "4000", "--engine", "spark", "--quiet",
    ]  # fmt: skip
    a, b = uninterrupted_and_resumed(args, tmp_path, [13.0, 17.0])
    assert a["spark"]["per_key_races"] == "executors"
    # keys evicted past --max-keys leave Spark's state store across the kills too
    assert a["per_key"]["evicted_keys"] > 0 and b["spark"]["state_keys"] <= 5
    assert b["per_key"] == a["per_key"]
    assert {k: v["accuracy"] for k, v in b["models"].items()} == {
        k: v["accuracy"] for k, v in a["models"].items()
    }


@pytest.mark.spark
def test_per_key_races_on_spark_leave_the_state_store_when_idle(spark_session: Any) -> None:
    """Sensors report in turns; on Spark a key idle past ``key_timeout_s`` is evicted from
    the state store (and counted), so the state stays bounded however many keys pass."""
    rows = _sensors(1600, keys=1)
    for i, r in enumerate(rows):
        r["sensor"] = f"s{i // 200}"  # eight sensors, one after another
    s = run(_rls_per_sensor(rows), engine="spark", key_timeout_s=0.3)
    assert s["spark"]["per_key_races"] == "executors"
    report = s["per_key"]
    assert report["evicted_keys"] >= 4 and report["keys_held"] <= 4
    assert report["keys_held"] + report["evicted_keys"] == 8
    assert s["models"]["rls"]["predicted"] == 1600
