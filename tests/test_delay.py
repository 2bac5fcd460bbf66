"""Delayed labels on one stream (``--delay N``): predict on arrival, learn and score N records later."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import uninterrupted_and_resumed
from streamlearn import Pipeline, run
from streamlearn.errors import ConfigError
from streamlearn.learn.registry import build_models
from streamlearn.sources.generators.course import course_payloads
from streamlearn.testing import ListSink


def _offline(spec: str, rows: np.ndarray, delay: int) -> tuple[np.ndarray, float, int]:
    """Delayed-label prequential evaluation written out: predict on arrival; the label of
    record i arrives right after record i + delay is predicted."""
    (model,) = build_models([spec], "regression").values()
    preds = np.empty(len(rows))
    for i, row in enumerate(rows):
        preds[i] = model.predict_one(row[2:])
        j = i - delay
        if j >= 0:
            model.learn_one(rows[j, 2:], rows[j, 1])
    labelled = max(0, len(rows) - delay)
    mse = float(np.mean((preds[:labelled] - rows[:labelled, 1]) ** 2))
    return preds, mse, labelled


@pytest.mark.parametrize("spec", ["rls:forgetting=0.99", "mean", "sgd", "knn"])
@pytest.mark.parametrize("delay", [1, 37, 1000])
def test_delayed_metrics_equal_an_offline_computation(spec: str, delay: int) -> None:
    n = 3000
    # the rows as the messages print them (8 decimals), as the run decodes them
    rows = np.array([ast.literal_eval(m.decode()) for m in course_payloads("linear", 0, n)])
    sink = ListSink()
    summary = run(
        Pipeline(
            "linear",
            task="regression",
            models=[spec],
            until=f"count:{n}",
            batch_size=250,
            delay=delay,
        ),
        sinks=[sink],
    )
    preds, mse, labelled = _offline(spec, rows, delay)
    got = np.concatenate([r.predictions[spec] for r in sink.results])
    assert np.allclose(got, preds, rtol=0, atol=1e-9)
    m = summary["models"][spec]
    assert m["mse"] == pytest.approx(mse, rel=1e-9)
    labels = summary["labels"]
    assert labels["delay"] == delay
    assert labels["labelled"] == labelled == m["predicted"]
    assert summary["records_predicted"] == n == labels["labelled"] + labels["pending"]


@settings(max_examples=15, deadline=None)
@given(batch=st.integers(1, 400), delay=st.integers(0, 300))
def test_how_the_stream_is_batched_does_not_change_delayed_results(batch: int, delay: int) -> None:
    def go(b: int) -> dict[str, float]:
        s = run(
            Pipeline(
                "linear",
                task="regression",
                models=["rls", "mean"],
                until="count:700",
                batch_size=b,
                delay=delay,
            )
        )
        return {k: v["mse"] for k, v in s["models"].items()}

    # the running sums add per batch: equal up to the last bits of rounding
    assert go(batch) == pytest.approx(go(250), rel=1e-12)


def test_delay_0_equals_the_plain_run() -> None:
    plain = run(
        Pipeline(
            "activity", task="classification", models=["logreg", "majority"], until="count:5000"
        )
    )
    zero = run(
        Pipeline(
            "activity",
            task="classification",
            models=["logreg", "majority"],
            until="count:5000",
            delay=0,
        )
    )
    assert {k: v["accuracy"] for k, v in plain["models"].items()} == {
        k: v["accuracy"] for k, v in zero["models"].items()
    }


def test_a_longer_delay_costs_accuracy_on_activity_rows() -> None:
    acc = {}
    for delay in (0, 2000):
        s = run(
            Pipeline(
                "activity",
                task="classification",
                models=["logreg"],
                until="count:20000",
                delay=delay,
            )
        )
        acc[delay] = s["models"]["logreg"]["accuracy"]
    assert acc[2000] <= acc[0]


def test_a_negative_delay_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="delay"):
        Pipeline("linear", task="regression", models=["rls"], delay=-1)


def test_the_pending_store_is_bounded_by_the_delay() -> None:
    s = run(
        Pipeline(
            "linear",
            task="regression",
            models=["rls"],
            until="count:20000",
            delay=500,
            batch_size=1000,
        )
    )
    assert s["labels"]["pending"] == 500
    assert s["labels"]["max_pending"] == 500


@pytest.mark.faults
def test_sigkill_three_times_then_resume_equals_the_uninterrupted_run(tmp_path: Path) -> None:
    args = [
        "run",
        "--source",
        "linear",
        "--count",
        "150000",
        "--task",
        "regression",
        "--model",
        "rls",
        "--model",
        "sgd",
        "--delay",
        "777",
        "--batch-size",
        "1000",
        "--quiet",
    ]
    rng = np.random.default_rng(int.from_bytes(os.urandom(4), "little"))
    a, b = uninterrupted_and_resumed(args, tmp_path, rng.uniform(2.0, 4.0, size=3).tolist())
    assert b["labels"] == a["labels"]
    assert {k: v["mse"] for k, v in b["models"].items()} == {
        k: v["mse"] for k, v in a["models"].items()
    }


def test_the_members_of_auto_are_scored_on_their_predictions_at_arrival() -> None:
    s = run(Pipeline("linear", task="regression", models=["auto"], until="count:3000", delay=200))
    labelled = s["labels"]["labelled"]
    members = {k: m for k, m in s["models"].items() if k.startswith("auto/")}
    assert len(members) >= 7 and labelled == 2800
    assert all(m["predicted"] == labelled for m in members.values())
    # the mean's MSE, scored at arrival, is far worse than RLS's on a linear stream
    assert members["auto/mean"]["mse"] > 10 * members["auto/rls"]["mse"]
