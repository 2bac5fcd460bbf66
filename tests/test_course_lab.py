"""The course lab, step by step: streamlearn against the lab's own code on the same stream.

The lab's functions are in ``tests/lab_code.py``, as the lab writes them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

import lab_code as lab
from streamlearn import Pipeline, run
from streamlearn.errors import UserCodeError
from streamlearn.learn.registry import build_models
from streamlearn.learn.rls import RLS
from streamlearn.sources.generators.course import course_rows, reference_rows
from streamlearn.steps import FeatureSummary, KeyedState
from streamlearn.testing import MemorySource

COLUMNS = ("counter", "y", *(f"x{i}" for i in range(1, 11)))


@pytest.fixture(scope="module")
def linear() -> np.ndarray:
    return course_rows("linear", 0, 50_000)


@pytest.fixture(scope="module")
def nonlinear() -> np.ndarray:
    return course_rows("nonlinear", 0, 2_000)


# -- RLS, both forms -----------------------------------------------------------------------------
@pytest.mark.parametrize("nu", [1.0, 0.99])
@pytest.mark.parametrize("form", ["course", "textbook"])
def test_rls_equals_the_labs_loop(linear: np.ndarray, nu: float, form: str) -> None:
    step = lab.RLSstep if form == "course" else lab.textbook_RLSstep
    expected = lab.rls_predictions(linear, nu, step)
    model = RLS(forgetting=nu, form=form)  # type: ignore[arg-type]
    got = model.test_then_train(linear[:, 2:], linear[:, 1])
    assert np.max(np.abs(got - expected)) <= 1e-9
    # and record by record
    one = RLS(forgetting=nu, form=form)  # type: ignore[arg-type]
    loop = []
    for row in linear[:2000]:
        loop.append(one.predict_one(row[2:]))
        one.learn_one(row[2:], row[1])
    assert np.array_equal(np.array(loop), got[:2000])


def test_the_two_forms_differ_only_with_forgetting(linear: np.ndarray) -> None:
    rows = linear[:200]
    course = lab.rls_predictions(rows, 0.99, lab.RLSstep)
    textbook = lab.rls_predictions(rows, 0.99, lab.textbook_RLSstep)
    assert np.max(np.abs(course - textbook)) > 1e-3  # the divergence the course saw
    assert np.allclose(
        lab.rls_predictions(rows, 1.0, lab.RLSstep),
        lab.rls_predictions(rows, 1.0, lab.textbook_RLSstep),
        atol=1e-12,
    )


def test_course_rls_races_the_labs_two_models() -> None:
    learners = build_models(["course-rls"], "regression")
    assert len(learners) == 2
    assert {m.form for m in learners.values()} == {"course"}  # type: ignore[attr-defined]
    assert sorted(m.forgetting for m in learners.values()) == [0.99, 1.0]  # type: ignore[attr-defined]


def test_learn_many_of_the_course_form_equals_its_loop(linear: np.ndarray) -> None:
    a, b = RLS(forgetting=0.99, form="course"), RLS(forgetting=0.99, form="course")
    a.learn_many(linear[:3000, 2:], linear[:3000, 1])
    b.test_then_train(linear[:3000, 2:], linear[:3000, 1])
    assert np.array_equal(a.coef_, b.coef_)


# -- the ML race ---------------------------------------------------------------------------------
EXACT_RECORDS = int(os.environ.get("STREAMLEARN_LAB_ML_RECORDS", "300"))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["LR", "GB", "RF"])
def test_course_ml_exact_predicts_as_the_labs_race(nonlinear: np.ndarray, name: str) -> None:
    """``course-ml:exact=1`` against the lab's race on every record (first 2,000 records with
    STREAMLEARN_LAB_ML_RECORDS=2000; fewer by default, to keep CI short)."""
    rows = nonlinear[:EXACT_RECORDS]
    expected = lab.ml_race_predictions(rows, name)
    learners = build_models(["course-ml:exact=1"], "regression")
    kind = {"RF": "window-rf", "LR": "window-linear", "GB": "window-gb"}[name]
    (model,) = [m for n, m in learners.items() if n.startswith(kind)]
    got = model.test_then_train(rows[:, 2:], rows[:, 1])
    assert np.max(np.abs(got - expected)) <= 1e-9


def test_window_models_are_configurable_like_the_lab() -> None:
    learners = dict(
        build_models(
            ["window-linear:size=10,refit=3,train=newest-half,start=zeros,scale=false"],
            "regression",
        )
    )
    (model,) = learners.values()
    rows = course_rows("linear", 0, 40)
    got = model.test_then_train(rows[:, 2:], rows[:, 1])
    assert got[0] == 0.0  # a model fitted on a window of zeros
    # refit every 3 records, on the newest 5 of the 10 latest
    from sklearn.linear_model import LinearRegression

    X, y = np.zeros((10, 10)), np.zeros(10)
    model_now = LinearRegression().fit(X[:5], y[:5])
    expected = []
    for i, row in enumerate(rows):
        expected.append(model_now.predict(row[2:].reshape(1, -1))[0])
        X, y = np.vstack([row[2:], X])[:10], np.concatenate([[row[1]], y])[:10]
        if (i + 1) % 3 == 0:
            model_now = LinearRegression().fit(X[:5], y[:5])
    assert np.max(np.abs(got - np.array(expected))) <= 1e-9


def test_refit_and_train_values_are_checked() -> None:
    from streamlearn.errors import ConfigError

    with pytest.raises(ConfigError, match="refit"):
        build_models(["window-rf:refit=0"], "regression")
    with pytest.raises(ConfigError, match="train"):
        build_models(["window-rf:train=oldest"], "regression")


# -- updateStateByKey functions, verbatim ----------------------------------------------------
def _lab_loop(update, batches: list[list[Any]], initial: Any) -> Any:
    state = initial
    for values in batches:
        if values:
            state = update(values, state)
    return state


def _course_source(n: int) -> MemorySource:
    rows = course_rows("linear", 0, n)
    return MemorySource([dict(zip(COLUMNS, r.tolist(), strict=True)) for r in rows])


CASES = {
    "first value": (lab.updateFunction_first, "x1", lambda: None),
    "sum of |x|": (lab.updateFunction_abssum, "x1", lambda: 0.0),
    "stacking": (lab.updateFunction_stack, COLUMNS, lambda: np.zeros((0, 12))),
    "sequential mean": (lab.updateFunction_mean, "x1", lambda: (0, 0.0)),
    "mean and variance": (lab.updateFunction_meanvar, "y", lambda: (0, 0.0, 0.0)),
}


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and not isinstance(a, np.ndarray):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (np.ndarray, float)) or isinstance(b, np.ndarray):
        return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=1e-12))
    return bool(a == b)


@pytest.mark.parametrize("case", list(CASES))
def test_the_labs_update_functions_run_unchanged(engine: str, case: str) -> None:
    update, column, initial = CASES[case]
    n, batch = 600, 100
    step = KeyedState(update, key=None, column=column, initial_state={"*": initial()})
    run(Pipeline(_course_source(n), batch_size=batch, steps=[step]), engine=engine)
    rows = course_rows("linear", 0, n)
    index = [COLUMNS.index(c) for c in ((column,) if isinstance(column, str) else column)]
    values = [r[index[0]] if len(index) == 1 else tuple(r[i] for i in index) for r in rows.tolist()]
    expected = _lab_loop(update, [values[i : i + batch] for i in range(0, n, batch)], initial())
    assert _equal(step.describe()["*"], expected)


def test_rls_per_key_runs_the_labs_function(engine: str) -> None:
    n, batch = 900, 150
    rows = course_rows("linear", 0, n)
    records = [
        {"sensor": f"s{i % 3}", **dict(zip(COLUMNS, r.tolist(), strict=True))}
        for i, r in enumerate(rows)
    ]
    step = KeyedState(
        lab.updateFunction_RLS,
        key="sensor",
        column=COLUMNS,
        initial_state=lambda key: lab.initial_rls_state(1.0),
    )
    run(Pipeline(MemorySource(records), batch_size=batch, steps=[step]), engine=engine)
    got = step.describe()
    for k in ("s0", "s1", "s2"):
        values = [tuple(r[c] for c in COLUMNS) for r in records if r["sensor"] == k]
        batches = [
            [tuple(r[c] for c in COLUMNS) for r in records[i : i + batch] if r["sensor"] == k]
            for i in range(0, n, batch)
        ]
        expected = _lab_loop(lab.updateFunction_RLS, batches, lab.initial_rls_state(1.0))
        assert len(values) == len(expected["errors"]) == len(got[k]["errors"])
        assert np.allclose(got[k]["beta"], expected["beta"], atol=1e-12)
        assert np.allclose(got[k]["errors"], expected["errors"], atol=1e-12)


def test_the_two_rls_race_is_keyed_by_model_name(engine: str) -> None:
    n, batch = 800, 200
    initial = {"RLS_1": lab.initial_rls_state(1.0), "RLS_099": lab.initial_rls_state(0.99)}
    step = KeyedState(
        lab.updateFunction_RLS,
        key=None,
        column=COLUMNS,
        fan_out=list(initial),
        initial_state=initial,
    )
    run(Pipeline(_course_source(n), batch_size=batch, steps=[step]), engine=engine)
    rows = [tuple(r) for r in course_rows("linear", 0, n).tolist()]
    got = step.describe()
    for name in initial:
        fresh = lab.initial_rls_state(initial[name]["nu"])
        expected = _lab_loop(
            lab.updateFunction_RLS, [rows[i : i + batch] for i in range(0, n, batch)], fresh
        )
        assert np.allclose(got[name]["errors"], expected["errors"], atol=1e-12)
    # the user's initial states were not changed in place
    assert initial["RLS_1"]["errors"] == [] and initial["RLS_099"]["errors"] == []


def test_the_ml_race_is_keyed_by_model(engine: str) -> None:
    n, batch = 120, 40
    rows = [tuple(r) for r in course_rows("nonlinear", 0, n).tolist()]
    names = ["RF", "LR", "GB"]
    step = KeyedState(
        lab.updateFunction_ML,
        key=None,
        column=COLUMNS,
        fan_out=names,
        initial_state=lambda name: lab.initial_ml_state(name),
    )
    run(
        Pipeline(
            MemorySource([dict(zip(COLUMNS, r, strict=True)) for r in rows]),
            batch_size=batch,
            steps=[step],
        ),
        engine=engine,
    )
    got = step.describe()
    for name in names:
        expected = _lab_loop(
            lab.updateFunction_ML,
            [rows[i : i + batch] for i in range(0, n, batch)],
            lab.initial_ml_state(name),
        )
        assert np.allclose(got[name]["predictions"], expected["predictions"], atol=1e-9)


def test_a_state_that_grows_with_the_stream_is_warned_once() -> None:
    step = KeyedState(
        lab.updateFunction_stack,
        key=None,
        column=COLUMNS,
        initial_state={"*": np.zeros((0, 12))},
        warn_size=1200,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(Pipeline(_course_source(500), batch_size=50, steps=[step]))
    grows = [w for w in caught if "grows" in str(w.message)]
    assert len(grows) == 1
    text = str(grows[0].message)
    assert "'*'" in text and "1,800 values" in text and step.step_id in text


# -- the debugging section --------------------------------------------------------------------
def test_the_wrong_update_function_names_step_batch_key_record(engine: str) -> None:
    step = KeyedState(
        lab.WRONGupdateFunction,
        key=None,
        column=COLUMNS,
        initial_state={"*": lab.initial_rls_state(1.0)},
    )
    with pytest.raises(UserCodeError) as info:
        run(Pipeline(_course_source(62), batch_size=31, steps=[step]), engine=engine)
    err = info.value
    text = str(err)
    assert "WRONGupdateFunction" in text and "batch 1" in text and "'*'" in text
    assert "\n" not in text
    tb = err.user_traceback
    assert "yhat = x * beta" in tb
    assert tb.rstrip().endswith(
        "ValueError: operands could not be broadcast together with shapes (1,372) (1,11)"
    )
    assert "py4j" not in tb and "org.apache" not in tb
    assert "streamlearn/steps" not in tb and "streamlearn/engines" not in tb


# -- FeatureSummary --------------------------------------------------------------------------------
def test_feature_summary_can_include_the_target_as_the_lab() -> None:
    rows = course_rows("linear", 0, 50)
    from streamlearn.records.batch import RecordBatch

    batch = RecordBatch(
        {c: rows[:, i] for i, c in enumerate(COLUMNS)},
        "linear",
        np.zeros(len(rows), dtype=np.int32),
        np.arange(len(rows), dtype=np.int64),
    )
    features = [f"x{i}" for i in range(1, 11)]
    lab_style = FeatureSummary(features, include_target="y").apply(batch)
    default = FeatureSummary(features).apply(batch)
    assert np.array_equal(lab_style.column("x_max"), np.max(rows[:, 1:], axis=1))
    assert np.array_equal(lab_style.column("x_mean"), np.mean(rows[:, 1:], axis=1))
    assert np.array_equal(default.column("x_max"), np.max(rows[:, 2:], axis=1))


# -- the course's current version: a socket ----------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lab_socket_lines(count: int) -> list[bytes]:
    return [
        np.array2string(r, separator=",", max_line_width=1000).encode() + b"\n"
        for r in reference_rows("linear", 0, count)
    ]


def test_the_socket_producer_sends_the_labs_bytes() -> None:
    from streamlearn.sources.generators.course import course_payloads
    from streamlearn.sources.socket_serve import LineServer

    count = 500
    with LineServer(0, accept_timeout=10) as server:
        got: list[bytes] = []

        def client() -> None:
            with socket.create_connection(("127.0.0.1", server.port)) as c:
                buf = b""
                while chunk := c.recv(65536):
                    buf += chunk
                got.extend(line + b"\n" for line in buf.split(b"\n")[:-1])

        t = threading.Thread(target=client)
        t.start()
        server.write(course_payloads("linear", 0, count, line_width=1000))
        server.close()
        t.join(10)
    assert got == _lab_socket_lines(count)
    assert all(line.count(b"\n") == 1 for line in got)


def test_a_socket_round_trip_reconciles(tmp_path: Path) -> None:
    port, count = _free_port(), 20_000
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    producer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlearn",
            "produce",
            "linear",
            "--socket",
            str(port),
            "--count",
            str(count),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        metrics = tmp_path / "m.json"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "streamlearn",
                "run",
                "--source",
                f"socket:127.0.0.1:{port}",
                "--task",
                "regression",
                "--model",
                "course-rls",
                "--until",
                "end",
                "--quiet",
                "--metrics-json",
                str(metrics),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        _out, err = producer.communicate(timeout=60)
    finally:
        producer.kill()
    assert producer.returncode == 0, err
    summary = orjson.loads(metrics.read_bytes())
    assert summary["records_consumed"] == count
    assert summary["dead_letters"] == 0
    for m in summary["models"].values():
        assert m["predicted"] == count
    # the same stream through a plain generator gives the same figures
    same = run(Pipeline("linear", task="regression", models=["course-rls"], until=f"count:{count}"))
    assert {k: v["mse"] for k, v in same["models"].items()} == {
        k: v["mse"] for k, v in summary["models"].items()
    }


def test_a_socket_with_nobody_listening_is_one_line_and_exit_4() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "streamlearn",
            "run",
            "--source",
            f"socket:127.0.0.1:{_free_port()}",
            "--task",
            "regression",
            "--model",
            "rls",
            "--broker-timeout",
            "1",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 4
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "nothing answers on 127.0.0.1" in lines[0]
