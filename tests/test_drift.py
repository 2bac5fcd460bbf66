"""Drift: alarms on every model's errors, and ``auto`` choosing again after one."""

from __future__ import annotations

import numpy as np
import pytest

from streamlearn import Pipeline, run
from streamlearn.learn.auto import Auto
from streamlearn.learn.drift import PageHinkley
from streamlearn.testing import MemorySource

FLIP = 6000


def _flipping_rows(n: int, flip: int, seed: int = 5) -> list[bytes]:
    """``label = x1 > 0`` until record ``flip``, then ``x1 <= 0``: the rule flips."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    rows = [b"x1,x2,x3,label"]
    for i, (a, b, c) in enumerate(X.tolist()):
        label = int(a > 0) if i < flip else int(a <= 0)
        rows.append(f"{a:.5f},{b:.5f},{c:.5f},{label}".encode())
    return rows


@pytest.mark.parametrize("seed", [5, 6])
def test_a_flipped_rule_raises_an_alarm_soon_after_the_flip(seed: int) -> None:
    summary = run(
        Pipeline(
            MemorySource(_flipping_rows(12_000, FLIP, seed)),
            format="csv",
            task="classification",
            models=["logreg", "knn", "majority"],
            batch_size=500,
        )
    )
    champion = summary["champion"]
    assert champion in ("logreg", "knn")
    for name in ("logreg", "knn", champion):
        alarms = summary["models"][name]["drift"]["records"]
        after = [r for r in alarms if r > FLIP]
        assert after, (name, alarms)
        # data row i is record i + 1: the first alarm comes within 500 records of the flip
        assert FLIP < after[0] <= FLIP + 500, (name, alarms)
        assert not [r for r in alarms if r <= FLIP], (name, alarms)  # no false alarm before


def test_auto_chooses_its_leader_again_after_a_drift() -> None:
    rows = _flipping_rows(12_000, FLIP)
    X = np.array([[float(v) for v in r.split(b",")[:3]] for r in rows[1:]])
    y = np.array([int(r.split(b",")[3]) for r in rows[1:]])
    model = Auto("classification")
    preds = model.test_then_train(X, y)
    resets = model.diagnostics()["drift_resets"]
    assert any(FLIP < r <= FLIP + 500 for r in resets), resets
    # a thousand records after the flip auto is right again most of the time
    assert np.mean(preds[FLIP + 1000 : FLIP + 3000] == y[FLIP + 1000 : FLIP + 3000]) > 0.9


def test_page_hinkley_stays_quiet_on_a_stationary_stream() -> None:
    rng = np.random.default_rng(0)
    errors = (rng.random(200_000) < 0.2).astype(float)  # a steady 20% error rate
    assert len(PageHinkley().update(errors)) == 0
    squared = rng.normal(size=200_000) ** 2
    assert len(PageHinkley().update(squared)) == 0
