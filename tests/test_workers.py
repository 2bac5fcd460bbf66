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
