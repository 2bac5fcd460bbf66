"""``--workers N``: a race's models stepped on threads give the sequential results."""

from __future__ import annotations

import pickle

import pytest

from streamlearn import Pipeline, run
from streamlearn.errors import ConfigError
from streamlearn.evaluate.race import Race
from streamlearn.learn.registry import build_models


@pytest.mark.parametrize("models", [["course-ml"], ["rls", "sgd", "knn", "pa", "mean"]])
def test_workers_equal_the_sequential_race(models: list[str]) -> None:
    def go(workers: int) -> dict[str, float]:
        s = run(
            Pipeline(
                "nonlinear",
                task="regression",
                models=models,
                until="count:1500",
                batch_size=300,
                workers=workers,
            )
        )
        return {k: v["mse"] for k, v in s["models"].items()}

    assert go(2) == go(1)


def test_a_race_with_workers_pickles_without_its_threads() -> None:
    race = Race(build_models(["rls", "mean"], "regression"), "regression", workers=2)
    import numpy as np

    X, y = np.random.default_rng(0).normal(size=(50, 3)), np.arange(50.0)
    race.step(X, y)
    again = pickle.loads(pickle.dumps(race))
    assert again._pool is None
    assert again.step(X, y).keys() == race.step(X, y).keys()


def test_workers_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="workers"):
        Pipeline("linear", task="regression", models=["rls"], workers=0)


def _sklearn_race(workers: int) -> Race:
    import numpy as np

    race = Race(
        build_models(["window-linear:size=100", "window-rf:size=100,n_estimators=10", "rls"],
                     "regression"),
        "regression",
        workers=workers,
    )  # fmt: skip
    race.set_features(("a", "b", "c"), np.zeros(3, dtype=bool))
    return race


def test_learners_that_keep_the_gil_learn_in_processes_and_give_the_same_results() -> None:
    import os

    import numpy as np

    from streamlearn.learn.remote import RemoteLearner

    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 3))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    one, two = _sklearn_race(1), _sklearn_race(2)
    for lo in range(0, 600, 150):
        a, b = (
            one.step(X[lo : lo + 150], y[lo : lo + 150]),
            two.step(X[lo : lo + 150], y[lo : lo + 150]),
        )
        assert a.keys() == b.keys()
        for name in a:
            assert np.array_equal(a[name], b[name]), name
    remote = {n: m for n, m in two.models.items() if isinstance(m, RemoteLearner)}
    assert set(remote) == {"window-linear:size=100", "window-rf:size=100,n_estimators=10"}
    assert all(m._process.pid != os.getpid() and m._process.is_alive() for m in remote.values())
    assert two.metrics() == one.metrics()
    # a checkpoint holds the learners themselves; a restored race starts new workers
    again = pickle.loads(pickle.dumps(two))
    assert not any(isinstance(m, RemoteLearner) and m._process for m in again.models.values())
    X2, y2 = X[:100] + 1, y[:100]
    assert all(np.array_equal(p, q) for p, q in zip(
        again.step(X2, y2).values(), one.step(X2, y2).values(), strict=True))  # fmt: skip
    for m in remote.values():
        m.close()
        assert m._process is None


class _Breaks:
    """A plain model that fails on its 120th record."""

    def __init__(self) -> None:
        self.seen = 0

    def learn_one(self, x: dict, y: float) -> None:
        self.seen += 1
        if self.seen == 120:
            raise ValueError("the sensor sent a NaN")

    def predict_one(self, x: dict) -> float:
        return 0.0


def test_a_learner_failing_in_its_worker_is_marked_failed_with_its_own_traceback() -> None:
    s = run(
        Pipeline(
            "linear",
            task="regression",
            models=[("breaks", _Breaks()), "rls"],
            until="count:600",
            batch_size=100,
            workers=2,
        )
    )
    failed = s["models"]["breaks"]["failed"]
    assert failed["record"] == 120 and "the sensor sent a NaN" in failed["error"]
    assert "learn_one" in failed["traceback"] and "ValueError" in failed["traceback"]
    assert s["champion"] == "rls" and s["models"]["rls"]["predicted"] == 600
