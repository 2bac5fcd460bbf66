"""Races, metrics, cold start and the train budget."""

from __future__ import annotations

import math

import numpy as np
import pytest

from streamlearn.errors import ConfigError
from streamlearn.evaluate.metrics import ModelScore
from streamlearn.evaluate.race import Race
from streamlearn.evaluate.significance import diebold_mariano, mcnemar
from streamlearn.learn.baselines import LastClass, Majority, Mean
from streamlearn.stats import Window


def test_loss_window_keeps_last_values_in_order():
    w = Window(4)
    w.push(np.array([1.0, 2.0, 3.0]))
    w.push(np.array([4.0, 5.0]))
    assert list(w.values()) == [2.0, 3.0, 4.0, 5.0]
    w.push(np.arange(10.0))
    assert list(w.values()) == [6.0, 7.0, 8.0, 9.0]
    assert w.mean() == 7.5


def test_regression_score_matches_numpy():
    rng = np.random.default_rng(0)
    preds, ys = rng.normal(size=500), rng.normal(size=500)
    s = ModelScore("regression", window=100, fading=0.9)
    for i in range(0, 500, 37):
        s.update(preds[i : i + 37], ys[i : i + 37])
    d = preds - ys
    assert s.cumulative == pytest.approx(np.mean(d**2), rel=1e-12)
    assert s.to_dict()["mae"] == pytest.approx(np.mean(np.abs(d)), rel=1e-12)
    assert s.windowed == pytest.approx(np.mean(d[-100:] ** 2), rel=1e-12)
    w = 0.9 ** np.arange(499, -1, -1)
    assert s.faded == pytest.approx(np.sum(w * d**2) / np.sum(w), rel=1e-9)


def test_classification_counts_and_cold_start_in_record_mode():
    race = Race({"last": LastClass(), "maj": Majority()}, "classification")
    y = np.array([0, 0, 1, 1, 1, 2], dtype=np.int64)
    preds = race.step(np.zeros((6, 1)), y)
    assert list(preds["last"]) == [-1, 0, 0, 1, 1, 1]
    assert list(preds["maj"]) == [-1, 0, 0, 0, 0, 1]  # ties keep the first leader
    m = race.metrics()
    assert m["last"]["cold_start"] == 1 and m["last"]["correct"] == 3
    assert m["maj"]["correct"] == 1 and m["maj"]["predicted"] == 6
    assert race.champion == "last"


def test_batch_granularity_predicts_whole_batch_with_old_model_and_counts_cold():
    race = Race({"mean": Mean()}, "regression", granularity="batch")
    first = race.step(np.zeros((3, 1)), np.array([3.0, 3.0, 3.0]))["mean"]
    second = race.step(np.zeros((2, 1)), np.array([5.0, 7.0]))["mean"]
    assert list(first) == [0.0, 0.0, 0.0]  # honest cold start: no labels of this batch
    assert list(second) == [3.0, 3.0]
    assert race.metrics()["mean"]["cold_start"] == 3


def test_train_budget_stops_learning_but_keeps_predicting():
    race = Race({"mean": Mean()}, "regression", train_budget=2)
    preds = race.step(np.zeros((4, 1)), np.array([2.0, 4.0, 100.0, 100.0]))["mean"]
    assert list(preds) == [0.0, 2.0, 3.0, 3.0]
    assert race.models["mean"].n_learned == 2
    race.step(np.zeros((1, 1)), np.array([1.0]))
    assert race.models["mean"].n_learned == 2


def test_zero_budget_means_every_prediction_is_cold():
    race = Race({"mean": Mean()}, "regression", train_budget=0)
    race.step(np.zeros((5, 1)), np.ones(5))
    assert race.metrics()["mean"]["cold_start"] == 5


def test_champion_uses_windowed_metric_and_significance_is_reported():
    race = Race({"mean": Mean(), "mean2": Mean()}, "regression", window=50)
    race.step(np.zeros((10, 1)), np.arange(10.0))
    sig = race.significance()
    assert sig is not None and sig["test"] == "diebold-mariano"
    assert sig["p_value"] == 1.0  # identical models
    assert race.champion == "mean"


def test_race_rejects_wrong_task_and_bad_granularity():
    with pytest.raises(ConfigError):
        Race({"m": Mean()}, "classification")
    with pytest.raises(ConfigError):
        Race({"m": Mean()}, "regression", granularity="epoch")


def test_mcnemar_and_dm_detect_a_real_difference():
    rng = np.random.default_rng(1)
    a = (rng.random(2000) < 0.2).astype(float)
    b = (rng.random(2000) < 0.4).astype(float)
    assert mcnemar(a, b) < 1e-6
    assert mcnemar(a, a) == 1.0
    assert diebold_mariano(rng.normal(1, 1, 500) ** 2, rng.normal(0, 1, 500) ** 2) < 1e-3
    assert math.isnan(diebold_mariano(np.ones(1), np.ones(1)))


@pytest.mark.parametrize("cls", [Mean, LastClass, Majority])
def test_baseline_fast_paths_equal_the_record_loop(cls):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 2))
    y = rng.integers(0, 4, 300) if cls is not Mean else rng.normal(size=300)
    fast, slow = cls(), cls()
    p1 = np.concatenate(
        [fast.test_then_train(X[i : i + 70], y[i : i + 70]) for i in range(0, 300, 70)]
    )
    p2 = []
    for x, t in zip(X, y, strict=True):
        p2.append(slow.predict_one(x))
        slow.learn_one(x, t)
    assert np.array_equal(p1, np.array(p2))
    assert fast.n_learned == slow.n_learned == 300
