"""Streaming statistics: Welford against the course recurrence and numpy, merges, batches."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamlearn.learn.stats import (
    AbsSum,
    ColumnExtrema,
    ColumnSums,
    Count,
    Cov,
    Max,
    Mean,
    Min,
    Moments,
    Statistic,
    Sum,
    Var,
    course_variance,
)

EPS = np.finfo(float).eps
SCALAR = [Count, Sum, AbsSum, Min, Max, Mean, Var]


def one_by_one(stat: Statistic, xs: np.ndarray) -> Statistic:
    for x in xs:
        stat.update(x)
    return stat


def data(offset: float, n: int, seed: int = 0) -> np.ndarray:
    return offset + np.random.RandomState(seed).randn(n)


@pytest.mark.parametrize("offset", [0.0, 1e3, 1e6])
@pytest.mark.parametrize("n", [2, 10, 1000, 100_000])
def test_welford_equals_numpy(offset: float, n: int) -> None:
    x = data(offset, n, seed=n)
    exact = np.var(x - offset)  # x - offset is exact here: no cancellation in the reference
    assert one_by_one(Var(), x).get() == pytest.approx(exact, rel=1e-9)
    assert np.var(x) == pytest.approx(exact, rel=1e-9)
    batched = Var()
    batched.update_many(x)
    assert batched.get() == pytest.approx(exact, rel=1e-9)
    assert one_by_one(Var(ddof=1), x).get() == pytest.approx(np.var(x - offset, ddof=1), rel=1e-9)


@pytest.mark.parametrize("offset", [0.0, 1e3])
@pytest.mark.parametrize("n", [1, 10, 1000, 100_000])
def test_course_recurrence_equals_welford(offset: float, n: int) -> None:
    x = data(offset, n, seed=n)
    assert course_variance(x) == pytest.approx(one_by_one(Var(), x).get(), rel=1e-9, abs=1e-300)
    assert course_variance(x) == pytest.approx(np.var(x), rel=1e-9, abs=1e-300)


def test_course_recurrence_loses_digits_on_large_offsets() -> None:
    """The course's ``mu_N - mu_{N-1}`` subtracts two nearly equal means.

    At an offset of 1e6 it is still right to about 1e-7, while Welford keeps
    1e-9 (above): the recurrence is fine for teaching, Var is for production.
    """
    x = data(1e6, 100_000, seed=5)
    exact = np.var(x - 1e6)
    assert course_variance(x) == pytest.approx(exact, rel=1e-6)
    assert one_by_one(Var(), x).get() == pytest.approx(exact, rel=1e-9)


def test_course_variance_small_cases() -> None:
    assert course_variance([1.0, 2.0, 6.0]) == pytest.approx(14.0 / 3.0)
    assert course_variance([5.0]) == 0.0
    assert np.isnan(course_variance([]))


def test_empty_and_ddof() -> None:
    assert Count().get() == 0 and Sum().get() == 0.0 and AbsSum().get() == 0.0
    for cls in (Min, Max, Mean, Var):
        assert np.isnan(cls().get())
    v = Var(ddof=1)
    v.update(3.0)
    assert np.isnan(v.get())
    v.update(5.0)
    assert v.get() == 2.0 and v.std == pytest.approx(np.sqrt(2.0))
    assert np.isnan(Cov().get())


@pytest.mark.parametrize("cls", SCALAR)
@pytest.mark.parametrize("scale", [1.0, 1e-3, 1e4])
def test_update_many_equals_repeated_update(cls: type[Statistic], scale: float) -> None:
    x = scale * data(0.5, 5000, seed=1)
    one = one_by_one(cls(), x)
    many = cls()
    for lo, hi in [(0, 1), (1, 2), (2, 700), (700, 700), (700, 5000)]:
        many.update_many(x[lo:hi])
    assert many.n == one.n == len(x)  # type: ignore[attr-defined]
    assert many.get() == pytest.approx(one.get(), rel=1e-12)


def test_update_many_on_a_large_offset_is_consistent_to_the_data_rounding() -> None:
    # Welford rounds its running mean to the ulp of 1e6 (~1e-10) at every step,
    # so per-record and batched forms agree to that, not to 1e-12 of the variance.
    x = data(1e6, 5000, seed=2)
    one, many = one_by_one(Var(), x), Var()
    many.update_many(x)
    assert many.get() == pytest.approx(one.get(), rel=1e-9)
    assert many.mean == pytest.approx(one.mean, rel=1e-14)


def test_cov_matches_numpy_and_its_own_batches() -> None:
    rs = np.random.RandomState(3)
    x = 1e6 + rs.randn(4000)
    y = -3.0 * (x - 1e6) + rs.randn(4000) + 50.0
    one = Cov()
    for a, b in zip(x, y, strict=True):
        one.update(a, b)
    many = Cov(ddof=1)
    many.update_many(x[:1000], y[:1000])
    many.update_many(x[1000:], y[1000:])
    exact = np.cov(x - 1e6, y - 50.0, ddof=0)[0, 1]
    assert one.get() == pytest.approx(exact, rel=1e-9)
    assert many.get() == pytest.approx(np.cov(x - 1e6, y - 50.0, ddof=1)[0, 1], rel=1e-9)
    with pytest.raises(ValueError, match="paired"):
        Cov().update_many([1.0, 2.0], [1.0])


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
    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, allow_subnormal=False), min_size=0, max_size=60
)
offsets = st.sampled_from([0.0, 1.0, 1e3, 1e6])


def close(a: float, b: float, tol: float) -> bool:
    return bool(abs(a - b) <= tol or (np.isnan(a) and np.isnan(b)))


@settings(max_examples=300, deadline=None)
@given(xs=values, offset=offsets, cut=st.floats(0.0, 1.0))
def test_merge_equals_stats_of_concatenation(xs: list[float], offset: float, cut: float) -> None:
    x = offset + np.asarray(xs, dtype=float)
    k = int(cut * len(x))
    scale = float(np.abs(x).max()) if len(x) else 0.0
    spread = float(np.ptp(x)) if len(x) else 0.0
    for cls in SCALAR:
        a, b, whole = cls(), cls(), cls()
        a.update_many(x[:k])
        one_by_one(b, x[k:])  # mixed: one side in a batch, the other record by record
        whole.update_many(x)
        merged = a.merge(b)
        assert merged.n == len(x)  # type: ignore[attr-defined]
        got, want = merged.get(), whole.get()
        if cls in (Count, Min, Max):
            assert close(got, want, 0.0)
        elif cls in (Sum, AbsSum):
            assert close(got, want, 1e-13 * float(np.abs(x).sum()) + 1e-300)
        elif cls is Mean:
            assert close(got, want, 1e-14 * scale)
        else:  # Var: rounding of order eps * scale * spread per record
            assert close(
                got,
                want,
                1e-9 * abs(want) + 8 * EPS * scale * (spread + EPS * scale) * (len(x) + 1),
            )
            if len(x) and offset == 0.0:
                assert close(got, float(np.var(x)), 1e-9 * float(np.var(x)) + 1e-12 * scale * scale)
        assert a.get() == (a.copy().get()) or np.isnan(a.get())  # merge did not mutate
    assert Count().merge(Count()).get() == 0


@settings(max_examples=150, deadline=None)
@given(xs=values, ys=values, cut=st.floats(0.0, 1.0))
def test_cov_and_moments_merge(xs: list[float], ys: list[float], cut: float) -> None:
    n = min(len(xs), len(ys))
    x, y = np.asarray(xs[:n]), np.asarray(ys[:n])
    k = int(cut * n)
    a, b, whole = Cov(), Cov(), Cov()
    a.update_many(x[:k], y[:k])
    b.update_many(x[k:], y[k:])
    whole.update_many(x, y)
    scale = float(max(np.abs(x).max(), np.abs(y).max())) if n else 0.0
    assert close(a.merge(b).get(), whole.get(), 1e-9 * abs(whole.get()) + 64 * EPS * scale * scale)
    X = np.column_stack([x, y]) if n else np.zeros((0, 2))
    ma, mb, mw = Moments(), Moments(), Moments()
    ma.update_many(X[:k])
    mb.update_many(X[k:])
    mw.update_many(X)
    merged = ma.merge(mb)
    assert merged.n == mw.n == n
    if n:
        np.testing.assert_allclose(merged.mean, mw.mean, rtol=0, atol=1e-13 * scale + 1e-300)
        np.testing.assert_allclose(merged.m2, mw.m2, rtol=1e-9, atol=64 * EPS * scale * scale * n)


# -- state -------------------------------------------------------------------------


@pytest.mark.parametrize("make", [Count, Sum, AbsSum, Min, Max, Mean, Var, lambda: Var(ddof=1)])
def test_state_round_trip_and_pickle(make: type[Statistic]) -> None:
    stat = make()
    stat.update_many(data(2.0, 100))
    state = stat.to_state()
    for value in state.values():
        assert isinstance(value, int | float)
    twin = type(stat).from_state(pickle.loads(pickle.dumps(state)))
    assert twin == stat and twin.get() == stat.get()
    twin.update(7.0)
    stat.update(7.0)
    assert twin.get() == stat.get()
    assert pickle.loads(pickle.dumps(stat)) == stat


def test_column_state_round_trip() -> None:
    X = np.random.RandomState(6).randn(50, 3)
    for stat in (Moments(ddof=1), ColumnSums(), ColumnExtrema()):
        stat.update_many(X)
        twin = type(stat).from_state(stat.to_state())
        assert twin == stat
        assert all(isinstance(v, int | np.ndarray) for v in stat.to_state().values())
    empty = Moments.from_state(Moments().to_state())
    empty.update_many(X)
    assert empty.n_columns == 3


def test_merge_refuses_mismatched_statistics() -> None:
    with pytest.raises(TypeError):
        Mean().merge(Var())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="settings"):
        Var(ddof=0).merge(Var(ddof=1))
    assert "Var(ddof=1)" in repr(Var(ddof=1))
