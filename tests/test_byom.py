"""Bring your own model: River, scikit-learn and plain objects in a race, as they are."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from helpers import uninterrupted_and_resumed
from streamlearn import Pipeline, run
from streamlearn.errors import ConfigError
from streamlearn.testing import ListSink, MemorySource

ROOT = Path(__file__).resolve().parent.parent


def _predictions(sink: ListSink, name: str) -> np.ndarray:
    return np.concatenate([r.predictions[name] for r in sink.results])


def test_a_river_tree_object_equals_the_built_in_kind_row_for_row() -> None:
    from river import tree

    sink = ListSink()
    summary = run(
        Pipeline(
            "activity",
            task="classification",
            models=["hoeffding", ("mine", tree.HoeffdingTreeClassifier())],
            until="count:5000",
        ),
        sinks=[sink],
    )
    assert summary["models"]["mine"]["predicted"] == 5000
    assert np.array_equal(_predictions(sink, "mine"), _predictions(sink, "hoeffding"))
    assert summary["models"]["mine"]["accuracy"] == summary["models"]["hoeffding"]["accuracy"]


def test_a_river_pipeline_object_runs_and_is_named_from_its_repr() -> None:
    from river import linear_model, preprocessing

    model = preprocessing.StandardScaler() | linear_model.LogisticRegression()
    summary = run(Pipeline("river:phishing", task="classification", models=[model, "majority"]))
    entry = summary["models"]["StandardScaler | LogisticRegression"]
    assert entry["predicted"] == 1250
    assert entry["accuracy"] > summary["models"]["majority"]["accuracy"] + 0.2


def test_models_given_as_a_dict_take_their_names() -> None:
    from river import linear_model

    summary = run(
        Pipeline(
            "linear",
            task="regression",
            models={"lr": linear_model.LinearRegression(), "base": "mean"},
            until="count:2000",
        )
    )
    assert set(summary["models"]) == {"lr", "base"}
    assert summary["models"]["lr"]["mse"] < summary["models"]["base"]["mse"] / 10


def _labelled(n: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(3)
    rows = []
    for i in range(n):
        x = rng.normal(size=3)
        label = ["a", "b", "c"][i % 3] if i < 3 else ["a", "b", "c"][int(np.argmax(x))]
        rows.append({"x0": x[0], "x1": x[1], "x2": x[2], "label": label})
    return rows


def test_sgd_partial_fit_under_record_equals_a_manual_loop() -> None:
    from sklearn.linear_model import SGDClassifier

    from streamlearn.learn import adapt

    rows = _labelled(600)
    sink = ListSink()
    model = SGDClassifier(loss="log_loss", random_state=0)
    learner, _ = adapt(model, "classification", classes=3)
    run(
        Pipeline(
            MemorySource(rows),
            task="classification",
            target="label",
            models=[("sgd", learner)],
            batch_size=100,
        ),
        sinks=[sink],
    )
    got = _predictions(sink, "sgd")
    # the manual loop: labels coded in order of first appearance (a=0, b=1, c=2)
    code = {"a": 0, "b": 1, "c": 2}
    manual, expected = SGDClassifier(loss="log_loss", random_state=0), []
    fitted = False
    for r in rows:
        x = np.array([[r["x0"], r["x1"], r["x2"]]])
        expected.append(int(manual.predict(x)[0]) if fitted else -1)
        manual.partial_fit(x, [code[r["label"]]], classes=np.arange(3))
        fitted = True
    labels = ["a", "b", "c"]
    assert list(got) == [labels[e] if e >= 0 else None for e in expected]


def test_sgd_partial_fit_runs_under_batch_granularity() -> None:
    from sklearn.linear_model import SGDClassifier

    summary = run(
        Pipeline(
            MemorySource(_labelled(3000)),
            task="classification",
            target="label",
            models=[SGDClassifier(loss="log_loss", random_state=0), "majority"],
            granularity="batch",
            batch_size=200,
        )
    )
    name = "SGDClassifier(loss='log_loss', random_state=0)"
    assert summary["models"][name]["predicted"] == 3000
    assert summary["models"][name]["accuracy"] > summary["models"]["majority"]["accuracy"] + 0.2


def test_a_random_forest_without_partial_fit_runs_as_a_window_model() -> None:
    from sklearn.ensemble import RandomForestRegressor

    from streamlearn.learn import adapt

    learner, name = adapt(
        RandomForestRegressor(n_estimators=10, random_state=0), "regression", window=100, refit=100
    )
    summary = run(
        Pipeline(
            "nonlinear", task="regression", models=[(name, learner), "mean"], until="count:1000"
        )
    )
    assert summary["models"][name]["mse"] < summary["models"]["mean"]["mse"]
    assert learner.n_learned == 1000  # a learner given as such races itself: every record learned


class Running:
    """A plain object: predicts the running mean of y, whatever x."""

    def __init__(self) -> None:
        self.n, self.total = 0, 0.0

    def predict_one(self, x: dict[str, float]) -> float:
        assert isinstance(x, dict) and "x1" in x
        return self.total / self.n if self.n else 0.0

    def learn_one(self, x: dict[str, float], y: float) -> None:
        self.n += 1
        self.total += y


def test_a_plain_object_runs_and_equals_the_mean_baseline() -> None:
    summary = run(
        Pipeline("linear", task="regression", models=[Running(), "mean"], until="count:1000")
    )
    assert summary["models"]["Running"]["mse"] == pytest.approx(summary["models"]["mean"]["mse"])


def test_an_object_that_is_not_a_learner_is_one_line() -> None:
    with pytest.raises(ConfigError, match="is not a learner") as info:
        run(Pipeline("linear", task="regression", models=[object()], until="count:10"))
    assert "\n" not in str(info.value)


def test_a_classifier_for_a_regression_task_is_refused() -> None:
    from river import tree

    with pytest.raises(ConfigError, match="is a classification model, but the task is regression"):
        run(
            Pipeline(
                "linear",
                task="regression",
                models=[tree.HoeffdingTreeClassifier()],
                until="count:10",
            )
        )


def test_a_learner_that_raises_shows_the_users_traceback_and_the_record() -> None:
    class Boom(Running):
        def learn_one(self, x: dict[str, float], y: float) -> None:
            if self.n == 99:
                raise ZeroDivisionError("my model broke")
            super().learn_one(x, y)

    summary = run(Pipeline("linear", task="regression", models=[Boom(), "mean"], until="count:500"))
    failed = summary["models"]["Boom"]
    assert failed["failed"]["record"] == 100
    assert "my model broke" in failed["failed"]["error"]
    assert summary["models"]["mean"]["predicted"] == 500


# -- the CLI -------------------------------------------------------------------------------------
def _cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streamlearn", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    ("spec", "task", "source"),
    [
        ("river:tree.HoeffdingTreeClassifier(grace_period=100)", "classification", "activity"),
        (
            "sklearn:linear_model.SGDClassifier(loss='log_loss', random_state=0)",
            "classification",
            "activity",
        ),
        ("sklearn:linear_model.SGDRegressor(random_state=0)", "regression", "linear"),
    ],
)
def test_cli_specs_run(tmp_path: Path, spec: str, task: str, source: str) -> None:
    done = _cli(
        "run",
        "--source",
        source,
        "--count",
        "3000",
        "--task",
        task,
        "--model",
        spec,
        "--quiet",
        "--metrics-json",
        "m.json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    summary = orjson.loads((tmp_path / "m.json").read_bytes())
    assert summary["models"][spec]["predicted"] == 3000


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        (
            "river:tree.HoeffdingTreeClassifier(__import__('os').system('touch pwned'))",
            "arguments must be Python literals",
        ),
        ("river:os.system", "cannot import river.os"),
        ("sklearn:linear_model.SGDClassifier(loss=open('x'))", "arguments must be Python literals"),
        ("river:tree.__class__", "not a dotted name of public names"),
        ("river:tree.NoSuchTree", "has no NoSuchTree"),
    ],
)
def test_specs_that_try_code_are_refused_before_anything_runs(
    tmp_path: Path, spec: str, says: str
) -> None:
    done = _cli(
        "run",
        "--source",
        "activity",
        "--count",
        "100",
        "--task",
        "classification",
        "--model",
        spec,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], done.stderr
    assert not (tmp_path / "pwned").exists()


# -- exact restart after SIGKILL ---------------------------------------------------------------
FACTORY = """
class Running:
    def __init__(self):
        self.n, self.total = 0, 0.0
    def predict_one(self, x):
        return self.total / self.n if self.n else 0.0
    def learn_one(self, x, y):
        self.n += 1
        self.total += y

def make():
    return Running()
"""


@pytest.mark.faults
@pytest.mark.parametrize(
    "spec",
    [
        "river:linear_model.LinearRegression()",
        "sklearn:linear_model.SGDRegressor(random_state=0)",
        "py:my_models:make",
    ],
)
def test_user_models_survive_sigkill_and_resume_exactly(tmp_path: Path, spec: str) -> None:
    (tmp_path / "my_models.py").write_text(FACTORY)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    args = [
        "run",
        "--source",
        "linear",
        "--count",
        "60000",
        "--task",
        "regression",
        "--model",
        spec,
        "--model",
        "rls",
        "--batch-size",
        "500",
        "--quiet",
    ]
    a, b = uninterrupted_and_resumed(args, tmp_path, [2.5, 4.0], env)
    for name in (spec, "rls"):
        assert b["models"][name]["predicted"] == 60000
        assert b["models"][name]["mse"] == a["models"][name]["mse"]


@pytest.mark.kafka
def test_the_race_your_river_models_example_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "river_models_on_kafka.py"), "--count", "4000"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "champion:" in done.stdout
    assert "HoeffdingTreeClassifier" in done.stdout
