"""The learner contract, checked for every registered kind (as River's estimator checks).

A kind registered in the catalogue gets these tests for free: parametrisation
iterates the registry for both tasks. Kinds that are slow at their defaults
are built with small parameters (:data:`SMALL`); the bounded-state check uses
fewer records for River learners (5k vs 20k instead of 10k vs 100k) and is
marked ``slow`` for the slowest ones.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from streamlearn.learn import Learner, build_learner, known_kinds

TASKS = ("regression", "classification")
NAMES = ("a", "b", "c", "group")
CATEGORICAL = np.array([False, False, False, True])

#: Specs that keep slow kinds quick: few trees, small windows.
SMALL = {
    "window-rf": "window-rf:size=20,n_estimators=5",
    "window-gb": "window-gb:size=20,n_estimators=10",
    "window-hgb": "window-hgb:size=20,max_iter=10",
    "window-linear": "window-linear:size=20",
    "arf": "arf:n_models=3",
}
#: Specs for the bounded-state check: refits rare enough to cover 20k records.
BOUNDED = {
    "window-rf": "window-rf:size=50,every=40,n_estimators=5",
    "window-gb": "window-gb:size=50,every=40,n_estimators=10",
    "window-hgb": "window-hgb:size=50,every=40,max_iter=10",
    "window-linear": "window-linear:size=50,every=40",
    # trees grow until their size cap: a small cap, checked often, must hold
    "hoeffding": "hoeffding:max_size=0.05,memory_period=1000",
    "hat": "hat:max_size=0.05,memory_period=1000",
    "arf": "arf:n_models=3,max_size=0.05,memory_period=1000",
}
#: Kinds that learn record by record in Python (River): fewer records.
PYTHON_SPEED = {"hoeffding", "hat", "arf", "logreg", "nb", "sgd", "pa"}
#: Kinds too slow even for 20k records in the fast suite.
SLOW = {"arf", "hat"}


def _cases() -> list[tuple[str, str]]:
    return [(kind, task) for task in TASKS for kind in known_kinds(task)]


CASES = _cases()
IDS = [f"{kind}-{task[:3]}" for kind, task in CASES]


def _build(kind: str, task: str, specs: dict[str, str] = SMALL) -> Learner:
    learner = build_learner(specs.get(kind, kind), task)
    learner.set_features(NAMES, CATEGORICAL)
    return learner


def _data(task: str, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three numbers and one category; a target that depends on both."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    X[:, 3] = rng.integers(0, 4, n)
    signal = X[:, 0] + np.where(X[:, 1] > 0, 1.0, -1.0) + 0.5 * X[:, 3]
    if task == "regression":
        return X, signal + 0.1 * rng.normal(size=n)
    return X, np.digitize(signal, [-0.5, 1.5]).astype(np.int64)


def _assert_same(a: np.ndarray, b: np.ndarray, task: str) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


def _loop(learner: Learner, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = []
    for i in range(len(X)):
        out.append(learner.predict_one(X[i]))
        learner.learn_one(X[i], y[i])
    return np.asarray(out, dtype=learner._prediction_dtype())


N = 240  # records in most checks: a dozen refits of the small window models


@pytest.mark.parametrize(("kind", "task"), CASES, ids=IDS)
def test_kind_declares_its_task(kind: str, task: str) -> None:
    assert _build(kind, task).task == task


@pytest.mark.parametrize(("kind", "task"), CASES, ids=IDS)
def test_cold_predictions(kind: str, task: str) -> None:
    learner = _build(kind, task)
    X, _ = _data(task, 5)
    one = learner.predict_one(X[0])
    many = learner.predict_many(X)
    if task == "classification":
        assert one == -1 and list(many) == [-1] * 5
    else:
        assert math.isfinite(one) and np.all(np.isfinite(many))
    assert learner.n_learned == 0


@pytest.mark.parametrize(("kind", "task"), CASES, ids=IDS)
def test_test_then_train_equals_the_per_record_loop(kind: str, task: str) -> None:
    X, y = _data(task, N)
    _assert_same(_build(kind, task).test_then_train(X, y), _loop(_build(kind, task), X, y), task)


@pytest.mark.parametrize(("kind", "task"), CASES, ids=IDS)
def test_batching_does_not_change_test_then_train(kind: str, task: str) -> None:
    X, y = _data(task, N)
    whole = _build(kind, task).test_then_train(X, y)
    learner = _build(kind, task)
    cuts = [0, 1, 7, 50, 51, 130, N]
    parts = [learner.test_then_train(X[a:b], y[a:b]) for a, b in itertools.pairwise(cuts)]
    _assert_same(whole, np.concatenate(parts), task)


@pytest.mark.parametrize(("kind", "task"), CASES, ids=IDS)
def test_learn_many_then_predict_many_matches_the_loops(kind: str, task: str) -> None:
    X, y = _data(task, N)
    Xt, _ = _data(task, 60, seed=1)
    batch, single = _build(kind, task), _build(kind, task)
    batch.learn_many(X[:100], y[:100])
    batch.learn_many(X[100:], y[100:])
    for i in range(N):
        single.learn_one(X[i], y[i])
    loop = np.array([single.predict_one(x) for x in Xt], dtype=single._prediction_dtype())
    many = batch.predict_many(Xt)
    if task == "classification":
        np.testing.assert_array_equal(many, loop)
    else:  # block updates (RLS) and BLAS batch predictions round differently
        np.testing.assert_allclose(many, loop, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize(("kind", "task"), CASES, ids=IDS)
def test_clone_is_unfitted_with_the_same_params(kind: str, task: str) -> None:
    X, y = _data(task, N)
    learner = _build(kind, task)
    learner.test_then_train(X[:100], y[:100])
    fresh = learner.clone()
    assert type(fresh) is type(learner)
    assert fresh._params == learner._params
    assert fresh.n_learned == 0
    assert fresh.feature_names == learner.feature_names
    _assert_same(fresh.test_then_train(X, y), _build(kind, task).test_then_train(X, y), task)


@pytest.mark.parametrize(("kind", "task"), CASES, ids=IDS)
def test_snapshot_mid_stream_continues_identically(kind: str, task: str) -> None:
    X, y = _data(task, N)
    learner = _build(kind, task)
    learner.test_then_train(X[:110], y[:110])
    restored = Learner.restore(learner.snapshot())
    assert restored.n_learned == 110
    _assert_same(
        restored.test_then_train(X[110:], y[110:]), learner.test_then_train(X[110:], y[110:]), task
    )


@pytest.mark.parametrize(("kind", "task"), CASES, ids=IDS)
def test_two_fresh_instances_agree(kind: str, task: str) -> None:
    X, y = _data(task, N, seed=3)
    _assert_same(
        _build(kind, task).test_then_train(X, y), _build(kind, task).test_then_train(X, y), task
    )


@pytest.mark.parametrize(("kind", "task"), CASES, ids=IDS)
def test_n_learned_counts_every_path(kind: str, task: str) -> None:
    X, y = _data(task, 60)
    learner = _build(kind, task)
    learner.test_then_train(X[:30], y[:30])
    learner.learn_many(X[30:50], y[30:50])
    learner.learn_one(X[50], y[50])
    learner.predict_many(X[51:])
    learner.predict_one(X[51])
    assert learner.n_learned == 51


@pytest.mark.parametrize(("kind", "task"), CASES, ids=IDS)
def test_unknown_category_and_empty_batches(kind: str, task: str) -> None:
    X, y = _data(task, N)
    learner = _build(kind, task)
    learner.test_then_train(X, y)
    odd = X[:3].copy()
    odd[:, 3] = [4.0, 99.0, 10_000.0]  # codes never learned from
    preds = learner.predict_many(odd)
    assert len(preds) == 3
    if task == "regression":
        assert np.all(np.isfinite(preds))
    assert len(learner.test_then_train(X[:0], y[:0])) == 0
    assert len(learner.predict_many(X[:0])) == 0
    assert learner.n_learned == N


def _bounded_cases() -> list[object]:
    out = []
    for kind, task in CASES:
        marks = [pytest.mark.slow] if kind in SLOW else []
        out.append(pytest.param(kind, task, marks=marks, id=f"{kind}-{task[:3]}"))
    return out


@pytest.mark.parametrize(("kind", "task"), _bounded_cases())
def test_state_stays_bounded(kind: str, task: str) -> None:
    """Pickled state after many more records is at most 1.5x larger.

    Compiled learners see 10k then 100k records. River learners run at a few
    thousand records/s: they see 5k then 20k, and their trees get a small
    size cap (by default the cap is 32 MB, reached much later).
    """
    small, large = (5_000, 20_000) if kind in PYTHON_SPEED else (10_000, 100_000)
    X, y = _data(task, large, seed=5)
    learner = _build(kind, task, {**SMALL, **BOUNDED})
    sizes = []
    for lo, hi in ((0, small), (small, large)):
        for start in range(lo, hi, 5_000):
            stop = min(start + 5_000, hi)
            learner.test_then_train(X[start:stop], y[start:stop])
        sizes.append(learner.state_size())
    assert sizes[1] <= 1.5 * sizes[0], f"{sizes[0]} bytes after {small}, {sizes[1]} after {large}"
