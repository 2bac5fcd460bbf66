"""Property tests of the prequential guarantees, over random batchings and both granularities."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from streamlearn import Pipeline, run
from streamlearn.records.schema import Field, Schema
from streamlearn.testing import ListSink, MemorySource, SpyLearner


def _stream(n: int, bad: set[int]) -> tuple[list[bytes], list[int]]:
    payloads, good = [], []
    for i in range(n):
        if i in bad:
            payloads.append(b"{not json" if i % 2 else b'{"id": 1, "x": "oops", "y": 2}')
        else:
            payloads.append(orjson.dumps({"id": float(i), "x": float(i % 5), "y": float(i % 3)}))
            good.append(i)
    return payloads, good


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 300),
    batch_size=st.integers(1, 64),
    granularity=st.sampled_from(["record", "batch"]),
    budget=st.one_of(st.none(), st.integers(0, 300)),
    bad_fraction=st.floats(0, 0.3),
    data=st.data(),
)
def test_each_record_predicted_once_never_after_learning(
    n, batch_size, granularity, budget, bad_fraction, data
):
    bad = set(data.draw(st.sets(st.integers(0, n - 1), max_size=int(n * bad_fraction))))
    payloads, good = _stream(n, bad)
    spies = [SpyLearner(), SpyLearner()]
    sink = ListSink()
    summary = run(
        Pipeline(
            MemorySource(payloads),
            format="json",
            schema=Schema((Field("id"), Field("x"), Field("y"))),
            task="regression",
            target="y",
            features=["id", "x"],
            models=spies,
            granularity=granularity,
            train_budget=budget,
            batch_size=batch_size,
        ),
        sinks=[sink],
    )
    expected = good
    for spy in spies:
        # every accepted record predicted exactly once, in stream order
        assert spy.predicted == expected
        # learned only what was already predicted (the spy raises otherwise), within budget
        assert spy.learned == expected[: len(spy.learned)]
        if budget is not None:
            assert len(spy.learned) == min(budget, len(expected))
        else:
            assert len(spy.learned) == len(expected)
    assert summary["records_consumed"] == n
    assert summary["records_consumed"] == summary["records_predicted"] + summary["dead_letters"]
    assert summary["dead_letters"] == len(bad)
    for m in summary["models"].values():
        assert m["predicted"] == len(expected)
    assert sorted(d.offset for d in sink.dead_letters) == sorted(bad)
