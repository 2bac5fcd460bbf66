"""The learner contract as checks anyone can run on their own learner, as River's ``check_estimator``.

:func:`check_learner` runs every check on a learner and says which failed
and why; :data:`CHECKS` lists them, for test suites that want one test per
check. Each check gets a factory of fresh learners (copies of the one given,
before it learned anything) and synthetic records: three numbers and a
category whose codes the learner is told about through ``set_features``.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from streamlearn.learn.base import NO_CLASS, Learner
from streamlearn.types import TASKS

__all__ = [
    "CHECKS",
    "Check",
    "check_batching_does_not_change_predictions",
    "check_bounded_state",
    "check_clone_is_fresh",
    "check_cold_predictions",
    "check_deterministic",
    "check_learn_many_then_predict_many",
    "check_learner",
    "check_n_learned",
    "check_snapshot_mid_stream",
    "check_task",
    "check_test_then_train_equals_the_record_loop",
    "check_unknown_category_and_empty_batches",
    "fresh_copies",
    "learner_data",
]

NAMES = ("a", "b", "c", "group")
CATEGORICAL = np.array([False, False, False, True])
#: records in most checks: enough for a dozen refits of a small window model
N = 240

Make = Callable[[], Learner]


def learner_data(task: str, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three numbers and one category (codes 0 to 3); a target that depends on both."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    X[:, 3] = rng.integers(0, 4, n)
    signal = X[:, 0] + np.where(X[:, 1] > 0, 1.0, -1.0) + 0.5 * X[:, 3]
    if task == "regression":
        return X, signal + 0.1 * rng.normal(size=n)
    return X, np.digitize(signal, [-0.5, 1.5]).astype(np.int64)


def _same(a: np.ndarray, b: np.ndarray, what: str) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape, (
        f"{what}: {a.dtype}{a.shape} against {b.dtype}{b.shape}"
    )
    bad = np.flatnonzero(~((a == b) | ((a != a) & (b != b))))
    assert not len(bad), (
        f"{what}: {len(bad)} of {len(a)} differ, first at {bad[0]} ({a[bad[0]]!r} vs {b[bad[0]]!r})"
    )


def _loop(learner: Learner, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = []
    for i in range(len(X)):
        out.append(learner.predict_one(X[i]))
        learner.learn_one(X[i], y[i])
    return np.asarray(out, dtype=learner._prediction_dtype())


def check_task(make: Make) -> None:
    """The learner says which task it does."""
    assert make().task in TASKS, f"task must be one of {TASKS}, not {make().task!r}"


def check_cold_predictions(make: Make) -> None:
    """Before learning, classifiers predict "no class" (-1) and regressors a finite number."""
    learner = make()
    X, _ = learner_data(learner.task, 5)
    one, many = learner.predict_one(X[0]), learner.predict_many(X)
    if learner.task == "classification":
        assert one == NO_CLASS and list(many) == [NO_CLASS] * 5, (
            f"cold predictions {one!r}, {list(many)}"
        )
    else:
        assert math.isfinite(one) and np.all(np.isfinite(many)), (
            f"cold predictions {one!r}, {list(many)}"
        )
    assert learner.n_learned == 0, "predicting changed n_learned"


def check_test_then_train_equals_the_record_loop(make: Make) -> None:
    """``test_then_train`` gives exactly what predict_one then learn_one give, record by record."""
    learner = make()
    X, y = learner_data(learner.task, N)
    _same(learner.test_then_train(X, y), _loop(make(), X, y), "test_then_train against the loop")


def check_batching_does_not_change_predictions(make: Make) -> None:
    """Cutting the stream into other batches changes nothing."""
    learner = make()
    X, y = learner_data(learner.task, N)
    whole = learner.test_then_train(X, y)
    cut = make()
    parts = [
        cut.test_then_train(X[a:b], y[a:b])
        for a, b in itertools.pairwise([0, 1, 7, 50, 51, 130, N])
    ]
    _same(whole, np.concatenate(parts), "one batch against seven")


def check_learn_many_then_predict_many(make: Make) -> None:
    """``learn_many`` and ``predict_many`` agree with the per-record forms."""
    batch, single = make(), make()
    task = batch.task
    X, y = learner_data(task, N)
    Xt, _ = learner_data(task, 60, seed=1)
    batch.learn_many(X[:100], y[:100])
    batch.learn_many(X[100:], y[100:])
    for i in range(N):
        single.learn_one(X[i], y[i])
    loop: np.ndarray = np.array(
        [single.predict_one(x) for x in Xt], dtype=single._prediction_dtype()
    )
    many = batch.predict_many(Xt)
    if task == "classification":
        _same(many, loop, "predict_many after learn_many against the loops")
    else:  # block updates (RLS) and BLAS batch predictions round differently
        np.testing.assert_allclose(many, loop, rtol=1e-7, atol=1e-9)


def check_clone_is_fresh(make: Make) -> None:
    """``clone()`` has the same parameters and has learned nothing."""
    learner = make()
    X, y = learner_data(learner.task, N)
    learner.test_then_train(X[:100], y[:100])
    fresh = learner.clone()
    assert type(fresh) is type(learner), f"clone is a {type(fresh).__name__}"
    assert getattr(fresh, "_params", None) == getattr(learner, "_params", None), (
        "clone has other parameters"
    )
    assert fresh.n_learned == 0, f"clone has learned {fresh.n_learned} records"
    assert fresh.feature_names == learner.feature_names, "clone forgot the feature names"
    _same(
        fresh.test_then_train(X, y), make().test_then_train(X, y), "clone against a fresh learner"
    )


def check_snapshot_mid_stream(make: Make) -> None:
    """A snapshot restored mid-stream continues exactly as the original (restart after SIGKILL)."""
    learner = make()
    X, y = learner_data(learner.task, N)
    learner.test_then_train(X[:110], y[:110])
    restored = Learner.restore(learner.snapshot())
    assert restored.n_learned == 110, f"restored n_learned is {restored.n_learned}"
    _same(
        restored.test_then_train(X[110:], y[110:]),
        learner.test_then_train(X[110:], y[110:]),
        "restored against the original",
    )


def check_deterministic(make: Make) -> None:
    """Two fresh learners with the same parameters (and seeds) predict the same."""
    a = make()
    X, y = learner_data(a.task, N, seed=3)
    _same(a.test_then_train(X, y), make().test_then_train(X, y), "two fresh learners")


def check_n_learned(make: Make) -> None:
    """``n_learned`` counts records learned by every path, and only those."""
    learner = make()
    X, y = learner_data(learner.task, 60)
    learner.test_then_train(X[:30], y[:30])
    learner.learn_many(X[30:50], y[30:50])
    learner.learn_one(X[50], y[50])
    learner.predict_many(X[51:])
    learner.predict_one(X[51])
    assert learner.n_learned == 51, f"n_learned is {learner.n_learned} after 51 records"


def check_unknown_category_and_empty_batches(make: Make) -> None:
    """Codes never learned from are predicted without failing; empty batches are fine."""
    learner = make()
    X, y = learner_data(learner.task, N)
    learner.test_then_train(X, y)
    odd = X[:3].copy()
    odd[:, 3] = [4.0, 99.0, 10_000.0]
    preds = learner.predict_many(odd)
    assert len(preds) == 3, "one prediction per record"
    if learner.task == "regression":
        assert np.all(np.isfinite(preds)), f"predictions for unseen codes: {preds}"
    assert len(learner.test_then_train(X[:0], y[:0])) == 0, "an empty batch gives no predictions"
    assert len(learner.predict_many(X[:0])) == 0, "an empty batch gives no predictions"
    assert learner.n_learned == N, f"n_learned is {learner.n_learned} after {N} records"


def check_bounded_state(make: Make, small: int = 10_000, large: int = 100_000) -> None:
    """Pickled state after ``large`` records is at most 1.5 times that after ``small``."""
    learner = make()
    X, y = learner_data(learner.task, large, seed=5)
    sizes = []
    for lo, hi in ((0, small), (small, large)):
        for start in range(lo, hi, 5_000):
            stop = min(start + 5_000, hi)
            learner.test_then_train(X[start:stop], y[start:stop])
        sizes.append(learner.state_size())
    assert sizes[1] <= 1.5 * sizes[0], (
        f"{sizes[0]} bytes of state after {small} records, {sizes[1]} after {large}"
    )


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[Make], None]


#: the conformance suite, fast checks first
CHECKS: tuple[Check, ...] = tuple(
    Check(fn.__name__.removeprefix("check_"), fn)
    for fn in (
        check_task,
        check_cold_predictions,
        check_test_then_train_equals_the_record_loop,
        check_batching_does_not_change_predictions,
        check_learn_many_then_predict_many,
        check_clone_is_fresh,
        check_snapshot_mid_stream,
        check_deterministic,
        check_n_learned,
        check_unknown_category_and_empty_batches,
    )
)


def fresh_copies(learner: Learner) -> Make:
    """A factory of copies of ``learner`` as it is now, told the checks' features."""
    template = copy.deepcopy(learner)
    if not template.feature_names:
        template.set_features(NAMES, CATEGORICAL)

    def make() -> Learner:
        return copy.deepcopy(template)

    return make


def check_learner(learner: Learner, bounded: bool = False) -> None:
    """Run the conformance suite on ``learner``, which has learned nothing yet.

    Raises
    ------
    AssertionError
        Naming every check that failed and why.

    Examples
    --------
    >>> from streamlearn.learn.baselines import Majority
    >>> check_learner(Majority())
    """
    make = fresh_copies(learner)
    failures = []
    for check in CHECKS:
        try:
            check.run(make)
        except Exception as exc:
            failures.append(f"{check.name}: {exc}")
    if bounded:
        try:
            check_bounded_state(make)
        except Exception as exc:
            failures.append(f"bounded_state: {exc}")
    if failures:
        raise AssertionError(
            f"{type(learner).__name__} fails {len(failures)} of the learner checks:\n  "
            + "\n  ".join(failures)
        )
