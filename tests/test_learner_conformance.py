"""The learner contract, checked for every registered kind with the public suite.

A registered kind gets these tests for free: parametrisation iterates the
registry for both tasks and runs every check of
:mod:`streamlearn.learn.checks` (what :func:`streamlearn.testing.check_learner`
runs on users' own learners). Kinds that are slow at their defaults are
built with small parameters (:data:`SMALL`); the bounded-state check uses
fewer records for River learners (5k vs 20k instead of 10k vs 100k) and is
marked ``slow`` for the slowest ones.
"""

from __future__ import annotations

import numpy as np
import pytest

from streamlearn.learn import Learner, build_learner, known_kinds
from streamlearn.learn.checks import CHECKS, Check, check_bounded_state, fresh_copies
from streamlearn.learn.registry import kind_summaries
from streamlearn.testing import check_learner

TASKS = ("regression", "classification")

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
PYTHON_SPEED = {"hoeffding", "hat", "arf", "river-logreg", "river-nb", "river-sgd", "river-pa"}
#: Kinds too slow even for 20k records in the fast suite.
SLOW = {"arf", "hat"}

CASES = [(kind, task) for task in TASKS for kind in known_kinds(task)]


def _learner(kind: str, task: str, specs: dict[str, str] = SMALL) -> Learner:
    return build_learner(specs.get(kind, kind), task)


@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
@pytest.mark.parametrize(("kind", "task"), CASES, ids=[f"{k}-{t[:3]}" for k, t in CASES])
def test_every_kind_passes_every_check(kind: str, task: str, check: Check) -> None:
    learner = _learner(kind, task)
    assert learner.task == task
    check.run(fresh_copies(learner))


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
    check_bounded_state(fresh_copies(_learner(kind, task, {**SMALL, **BOUNDED})), small, large)


def test_every_kind_is_described() -> None:
    assert all(kind_summaries().values())


class Forgetful(Learner):
    """A learner with two faults: it learns while predicting, and forgets to count."""

    task = "regression"

    def __init__(self) -> None:
        super().__init__()
        self._params: dict[str, object] = {}
        self.total = 0.0

    def learn_one(self, x: np.ndarray, y: object) -> None:
        self.total += float(y)  # type: ignore[arg-type]  # no n_learned += 1

    def predict_one(self, x: np.ndarray) -> float:
        self.total *= 0.5  # predicting changes the state
        return self.total


def test_check_learner_names_what_is_wrong() -> None:
    with pytest.raises(AssertionError) as caught:
        check_learner(Forgetful())
    message = str(caught.value)
    assert message.startswith("Forgetful fails")
    assert "n_learned: n_learned is 0 after 51 records" in message
    assert "snapshot_mid_stream: restored n_learned is 0" in message


def test_check_learner_passes_a_correct_learner() -> None:
    from streamlearn.learn.baselines import Mean

    check_learner(Mean(), bounded=True)


def test_every_typed_spec_parameter_rejects_a_wrong_value_in_one_line() -> None:
    """Name the parameter, the value and the expected type, for every kind."""
    import inspect
    import typing

    from streamlearn.errors import ConfigError
    from streamlearn.learn.registry import _KINDS, build_learner

    checked = 0
    for kind, entry in sorted(_KINDS.items()):
        factory = entry.load()
        target = factory.__init__ if inspect.isclass(factory) else factory
        hints = typing.get_type_hints(target)
        for name, hint in hints.items():
            if name in ("return", "task") or hint is typing.Any:
                continue
            allowed = set(typing.get_args(hint)) or {hint}
            if allowed & {str}:
                continue
            task = sorted(entry.tasks)[0]
            with pytest.raises(ConfigError) as caught:
                build_learner(f"{kind}:{name}=notanumber", task)
            text = str(caught.value)
            assert name in text and "'notanumber'" in text and "expected" in text, text
            assert "\n" not in text
            checked += 1
    assert checked >= 20
