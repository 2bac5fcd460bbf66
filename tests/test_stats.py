"""Streaming statistics: Welford against the course recurrence and numpy, merges, batches."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from streamlearn.stats import ColumnExtrema, ColumnSums, Moments, course_variance

EPS = np.finfo(float).eps


def one_by_one(xs: np.ndarray) -> Moments:
    stat = Moments()
    for x in xs:
        stat.update([x])
    return stat


def data(offset: float, n: int, seed: int = 0) -> np.ndarray:
    return offset + np.random.RandomState(seed).randn(n)


@pytest.mark.parametrize("offset", [0.0, 1e3, 1e6])
@pytest.mark.parametrize("n", [2, 10, 1000, 100_000])
def test_welford_equals_numpy(offset: float, n: int) -> None:
    x = data(offset, n, seed=n)
    exact = np.var(x - offset)  # x - offset is exact here: no cancellation in the reference
    assert one_by_one(x[:5000]).var()[0] == pytest.approx(np.var(x[:5000] - offset), rel=1e-9)
    assert np.var(x) == pytest.approx(exact, rel=1e-9)
    batched = Moments()
    batched.update_many(x)
    assert batched.var()[0] == pytest.approx(exact, rel=1e-9)
    assert batched.var(ddof=1)[0] == pytest.approx(np.var(x - offset, ddof=1), rel=1e-9)


@pytest.mark.parametrize("offset", [0.0, 1e3])
@pytest.mark.parametrize("n", [1, 10, 1000, 20_000])
def test_course_recurrence_equals_welford(offset: float, n: int) -> None:
    x = data(offset, n, seed=n)
    assert course_variance(x) == pytest.approx(one_by_one(x).var()[0], rel=1e-9, abs=1e-300)
    assert course_variance(x) == pytest.approx(np.var(x), rel=1e-9, abs=1e-300)


def test_course_recurrence_loses_digits_on_large_offsets() -> None:
    """The course's ``mu_N - mu_{N-1}`` subtracts two nearly equal means.

    At an offset of 1e6 it is still right to about 1e-7, while Welford keeps
    1e-9: the recurrence is fine for teaching, Moments is for production.
    """
    x = data(1e6, 100_000, seed=5)
    exact = np.var(x - 1e6)
    assert course_variance(x) == pytest.approx(exact, rel=1e-6)
    stat = Moments()
    stat.update_many(x)
    assert stat.var()[0] == pytest.approx(exact, rel=1e-9)


def test_course_variance_small_cases() -> None:
    assert course_variance([1.0, 2.0, 6.0]) == pytest.approx(14.0 / 3.0)
    assert course_variance([5.0]) == 0.0
    assert np.isnan(course_variance([]))


def test_empty_and_ddof() -> None:
    m = Moments(ddof=1)
    assert m.n == 0 and m.n_columns == 0
    m.update([3.0])
    assert np.isnan(m.var()[0])
    m.update([5.0])
    assert m.var()[0] == 2.0 and m.std()[0] == pytest.approx(np.sqrt(2.0))


def test_moments_and_columns_match_numpy() -> None:
    rs = np.random.RandomState(4)
    X = rs.randn(3000, 5) * [1.0, 10.0, 1e-3, 1.0, 5.0] + [0.0, 1e6, 3.0, -1e3, 0.0]
    m, sums, ext = Moments(ddof=1), ColumnSums(), ColumnExtrema()
    for part in np.array_split(X, 7):
        m.update_many(part)
        sums.update_many(part)
        ext.update_many(part)
    one = Moments()
    for row in X:
        one.update(row)
    np.testing.assert_allclose(m.mean, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(m.get()["var"], X.var(axis=0, ddof=1), rtol=1e-9)
    np.testing.assert_allclose(one.var(), X.var(axis=0), rtol=1e-9)
    np.testing.assert_allclose(one.mean, m.mean, rtol=1e-12)
    np.testing.assert_allclose(sums.total, X.sum(axis=0), rtol=1e-9)
    np.testing.assert_allclose(sums.abs_total, np.abs(X).sum(axis=0), rtol=1e-12)
    assert np.array_equal(ext.low, X.min(axis=0)) and np.array_equal(ext.high, X.max(axis=0))
    assert m.n == sums.n == ext.n == one.n == len(X)
    with pytest.raises(ValueError, match="columns"):
        m.update_many(np.zeros((2, 4)))
    single = Moments()
    single.update_many(X[:, 0])  # 1-D: one column
    assert single.n_columns == 1 and single.mean[0] == pytest.approx(X[:, 0].mean())


# -- merges: the statistic of the concatenation --------------------------------

values = st.lists(
    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, allow_subnormal=False),
    min_size=0,
    max_size=60,
)
offsets = st.sampled_from([0.0, 1.0, 1e3, 1e6])


@settings(max_examples=200, deadline=None)
@given(xs=values, ys=values, offset=offsets, cut=st.floats(0.0, 1.0))
def test_merge_equals_stats_of_concatenation(
    xs: list[float], ys: list[float], offset: float, cut: float
) -> None:
    n = min(len(xs), len(ys))
    X = (
        offset + np.column_stack([np.asarray(xs[:n]), np.asarray(ys[:n])])
        if n
        else np.zeros((0, 2))
    )
    k = int(cut * n)
    scale = float(np.abs(X).max()) if n else 0.0
    for cls in (Moments, ColumnSums, ColumnExtrema):
        a, b, whole = cls(), cls(), cls()
        a.update_many(X[:k])
        for row in X[k:]:  # mixed: one side in a batch, the other record by record
            b.update(row)
        whole.update_many(X)
        merged = a.merge(b)
        assert merged.n == whole.n == n
        if not n:
            continue
        if cls is Moments:
            np.testing.assert_allclose(merged.mean, whole.mean, rtol=0, atol=1e-13 * scale + 1e-300)
            np.testing.assert_allclose(
                merged.m2, whole.m2, rtol=1e-9, atol=64 * EPS * scale * scale * n
            )
        elif cls is ColumnSums:
            np.testing.assert_allclose(
                merged.total, whole.total, rtol=1e-12, atol=1e-12 * scale * n
            )
            np.testing.assert_allclose(merged.abs_total, whole.abs_total, rtol=1e-12)
        else:
            assert np.array_equal(merged.low, whole.low) and np.array_equal(merged.high, whole.high)
        assert a.n == k  # merge did not mutate


def test_pickle_round_trip() -> None:
    X = np.random.RandomState(6).randn(50, 3)
    for stat in (Moments(ddof=1), ColumnSums(), ColumnExtrema()):
        stat.update_many(X)
        twin = pickle.loads(pickle.dumps(stat))
        assert twin.get().keys() == stat.get().keys()
        for key, value in stat.get().items():
            assert np.array_equal(twin.get()[key], value)
        twin.update(X[0])
        assert twin.n == stat.n + 1


def test_merge_refuses_mismatched_statistics() -> None:
    with pytest.raises(TypeError):
        Moments().merge(ColumnSums())  # type: ignore[arg-type]


# -- many keys: statistics in arrays, updated a batch at a time -------------------------------
@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 15), st.floats(-1e3, 1e3)), min_size=1, max_size=40),
        min_size=1,
        max_size=8,
    ),
    st.integers(1, 10),
    st.integers(0, 4),
)
def test_stats_table_equals_statistics_per_key_and_lru_eviction(
    batches: list[list[tuple[int, float]]], max_keys: int, stack_size: int
) -> None:
    from streamlearn.steps.stats_table import StatsTable
    from streamlearn.steps.store import LruStore

    # a batch with more keys than fit is kept whole until its end by the table only
    assume(all(len({k for k, _ in batch}) <= max_keys for batch in batches))
    table = StatsTable(max_keys, stack_size)
    lru = LruStore(max_keys)  # the reference: per key, in order of first appearance
    for batch in batches:
        keys = np.array([f"k{k}" for k, _ in batch], dtype=object)
        X = np.array([[x, -2 * x] for _, x in batch])
        table.update(keys, X)
        firsts = list(dict.fromkeys(keys.tolist()))
        lru.touch(firsts)
        for key in firsts:
            rows = X[keys == key]
            held = lru.peek(key)
            lru.put(key, rows if held is None else np.vstack([held, rows]))
    assert table.keys() == lru.keys()
    assert table.evicted == lru.evicted
    for key, rows in lru.items():
        got = table.peek(key)
        assert got is not None and got.n == len(rows)
        np.testing.assert_allclose(got.mean, rows.mean(axis=0), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(got.var(), rows.var(axis=0), rtol=1e-7, atol=1e-6)
        np.testing.assert_array_equal(got.low, rows.min(axis=0))
        np.testing.assert_array_equal(got.high, rows.max(axis=0))
        np.testing.assert_allclose(got.total, rows.sum(axis=0), rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(got.first, rows[0])
        np.testing.assert_array_equal(got.stack, rows[len(rows) - min(stack_size, len(rows)) :])


def test_stats_table_moves_keys_in_and_out_as_the_spark_engine_does() -> None:
    from streamlearn.steps.stats_table import StatsTable

    table = StatsTable(100, 3)
    table.update(np.array(["a", "b", "a", "a"], dtype=object), np.arange(8.0).reshape(4, 2))
    state = table.pop("a")
    assert state is not None and "a" not in table
    other = StatsTable(100, 3)
    other.put("a", state)
    again = other.peek("a")
    assert again is not None
    for field in ("n", "mean", "m2", "low", "high", "first", "stack"):
        np.testing.assert_array_equal(getattr(again, field), getattr(state, field))
