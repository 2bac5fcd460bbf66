"""RLS: exactness against least squares, the per-record loop and the block update."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from streamlearn.learn import rls as rls_module
from streamlearn.learn.base import Learner
from streamlearn.learn.rls import RLS

SEED = 2452020515


def course_linear(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """The course's linear producer: per record randn(10), then rand(1)."""
    rs = np.random.RandomState(seed)
    beta = np.zeros((10, 1))
    beta[0] = beta[9] = 1.0
    X = np.empty((n, 10))
    y = np.empty(n)
    for i in range(n):
        x = rs.randn(1, 10)[0]
        X[i] = x
        y[i] = x.dot(beta)[0] + 0.1 * rs.rand(1)[0]
    return X, y


@pytest.fixture(scope="module")
def linear() -> tuple[np.ndarray, np.ndarray]:
    return course_linear(10_000)


def loop(model: RLS, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The reference: predict_one then learn_one, record by record."""
    out = np.empty(len(X))
    for i in range(len(X)):
        out[i] = model.predict_one(X[i])
        model.learn_one(X[i], y[i])
    return out


def numpy_rls(
    X: np.ndarray, y: np.ndarray, nu: float, delta: float, symmetrise: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Textbook RLS with intercept in plain numpy: a-priori predictions, beta and V."""
    p = X.shape[1] + 1
    beta, V = np.zeros(p), delta * np.eye(p)
    preds = np.empty(len(X))
    for i in range(len(X)):
        z = np.append(1.0, X[i])
        preds[i] = z @ beta
        Vz = V @ z
        k = Vz / (nu + z @ Vz)
        beta = beta + k * (y[i] - preds[i])
        V = (V - np.outer(k, Vz)) / nu
        if symmetrise:
            V = 0.5 * (V + V.T)
    return preds, beta, V


def weighted_least_squares(X: np.ndarray, y: np.ndarray, nu: float, delta: float) -> np.ndarray:
    """What RLS computes, in closed form: weights nu**(n-i) and a prior nu**n / delta * I."""
    n = len(X)
    Z = np.hstack([np.ones((n, 1)), X])
    w = nu ** (n - 1 - np.arange(n))
    H = nu**n / delta * np.eye(Z.shape[1]) + Z.T @ (w[:, None] * Z)
    return np.linalg.solve(H, Z.T @ (w * y))


def test_course_data_matches_the_producer() -> None:
    X, y = course_linear(1)
    assert y[0] == pytest.approx(-0.69070552, abs=1e-8)
    assert X[0, 0] == pytest.approx(0.14116957, abs=1e-8)


def test_equals_least_squares(linear: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = linear
    model = RLS(forgetting=1.0, delta=1e6)
    model.test_then_train(X, y)
    A = np.hstack([np.ones((len(X), 1)), X])
    sol = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(model.coef_, sol[1:], rtol=0, atol=1e-6)
    assert model.intercept_ == pytest.approx(sol[0], abs=1e-6)
    assert model.n_learned == len(X)


@pytest.mark.parametrize("nu", [1.0, 0.99])
def test_equals_weighted_least_squares_and_numpy(
    linear: tuple[np.ndarray, np.ndarray], nu: float
) -> None:
    X, y = linear[0][:3000], linear[1][:3000]
    model = RLS(nu)
    preds = model.test_then_train(X, y)
    exact = weighted_least_squares(X, y, nu, 10.0)
    np.testing.assert_allclose(model.coef_, exact[1:], rtol=1e-9, atol=1e-12)
    assert model.intercept_ == pytest.approx(exact[0], rel=1e-9, abs=1e-12)
    np_preds, np_beta, _ = numpy_rls(X, y, nu, 10.0, symmetrise=True)
    np.testing.assert_allclose(preds, np_preds, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.coef_, np_beta[1:], rtol=1e-9, atol=1e-12)


def test_unsymmetrised_textbook_update_drifts_with_forgetting(
    linear: tuple[np.ndarray, np.ndarray],
) -> None:
    """Why V is kept symmetric: in the ``V - k (Vz)'`` form with nu < 1, rounding
    in V's antisymmetric part grows until it is as large as V itself."""
    X, y = linear[0][:3000], linear[1][:3000]
    _, beta, V = numpy_rls(X, y, 0.99, 10.0, symmetrise=False)
    assert np.abs(V - V.T).max() > 1e-3 * np.abs(V).max()
    exact = weighted_least_squares(X, y, 0.99, 10.0)
    assert np.abs(beta - exact).max() > 1e-6  # while ours agrees to ~1e-15 (test above)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("nu", [1.0, 0.99])
def test_compiled_loop_is_bitwise_the_python_loop(
    linear: tuple[np.ndarray, np.ndarray], nu: float, fit_intercept: bool
) -> None:
    X, y = linear
    fast, slow = RLS(nu, 10.0, fit_intercept), RLS(nu, 10.0, fit_intercept)
    # two calls, so that state carried between batches is covered too
    fast_preds = np.concatenate(
        [fast.test_then_train(X[:1234], y[:1234]), fast.test_then_train(X[1234:], y[1234:])]
    )
    slow_preds = loop(slow, X, y)
    assert np.array_equal(fast_preds, slow_preds)
    assert np.array_equal(fast.coef_, slow.coef_)
    assert fast.intercept_ == slow.intercept_
    assert np.array_equal(fast.V_, slow.V_)
    assert fast.mse_ == slow.mse_
    assert fast.n_learned == slow.n_learned == len(X)
    assert np.array_equal(fast.predict_many(X[:50]), [fast.predict_one(x) for x in X[:50]])


def test_mse_is_the_mean_of_a_priori_errors(linear: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = linear
    model = RLS(0.99)
    preds = model.test_then_train(X, y)
    assert model.mse_ == pytest.approx(np.mean((y - preds) ** 2), rel=1e-12)
    assert np.isnan(RLS().mse_)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("nu", [1.0, 0.99])
def test_block_update_equals_sequential(
    linear: tuple[np.ndarray, np.ndarray], nu: float, fit_intercept: bool
) -> None:
    X, y = linear
    block, seq = RLS(nu, 10.0, fit_intercept), RLS(nu, 10.0, fit_intercept)
    for lo, hi in [(0, 1), (1, 8), (8, 100), (100, 2345), (2345, len(X))]:
        block.learn_many(X[lo:hi], y[lo:hi])
    for i in range(len(X)):
        seq.learn_one(X[i], y[i])
    np.testing.assert_allclose(block.coef_, seq.coef_, rtol=1e-9, atol=1e-12)
    assert block.intercept_ == pytest.approx(seq.intercept_, rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(block.V_, seq.V_, rtol=1e-9, atol=1e-12 * np.abs(seq.V_).max())
    assert block.mse_ == pytest.approx(seq.mse_, rel=1e-9)
    assert block.n_learned == seq.n_learned == len(X)
    assert np.array_equal(block.V_, block.V_.T)


def test_block_update_near_the_cap_falls_back_to_sequential() -> None:
    rs = np.random.RandomState(3)
    X = np.vstack([rs.randn(500, 3), np.ones((3000, 3)), rs.randn(500, 3)])
    y = X.sum(axis=1) + 0.1 * rs.rand(len(X))
    block, seq = RLS(0.95), RLS(0.95)
    block.learn_many(X, y)
    loop(seq, X, y)
    assert seq.n_capped_ > 0
    assert block.n_capped_ == seq.n_capped_
    np.testing.assert_allclose(block.coef_, seq.coef_, rtol=1e-7, atol=1e-9)


def test_pickle_mid_stream_continues_identically(linear: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = linear
    whole = RLS(0.99)
    p_whole = whole.test_then_train(X, y)
    first = RLS(0.99)
    p1 = first.test_then_train(X[:4000], y[:4000])
    second = pickle.loads(pickle.dumps(first))
    p2 = second.test_then_train(X[4000:], y[4000:])
    assert np.array_equal(np.concatenate([p1, p2]), p_whole)
    assert np.array_equal(second.coef_, whole.coef_)
    assert second.mse_ == whole.mse_
    restored = RLS.restore(first.snapshot())
    assert isinstance(restored, RLS)
    assert np.array_equal(restored.V_, first.V_)


def test_snapshot_round_trip(linear: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = linear
    model = RLS(0.99, 5.0, False)
    model.test_then_train(X[:3000], y[:3000])
    twin = Learner.restore(pickle.loads(pickle.dumps(model.snapshot())))
    assert isinstance(twin, RLS)
    assert np.array_equal(twin.V_, model.V_) and np.array_equal(twin.coef_, model.coef_)
    assert np.array_equal(
        twin.test_then_train(X[3000:], y[3000:]), model.test_then_train(X[3000:], y[3000:])
    )
    assert twin.mse_ == model.mse_
    assert twin.n_learned == model.n_learned == len(X)
    fresh = Learner.restore(RLS().snapshot())  # a model that has seen nothing
    assert fresh.predict_one(X[0]) == 0.0


def test_clone_is_fresh(linear: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = linear
    model = RLS(0.99, 3.0, False)
    model.test_then_train(X[:100], y[:100])
    fresh = model.clone()
    assert isinstance(fresh, RLS)
    assert (fresh.forgetting, fresh.delta, fresh.fit_intercept) == (0.99, 3.0, False)
    assert fresh.n_learned == 0
    assert fresh.predict_one(X[0]) == 0.0
    assert repr(fresh) == "RLS(forgetting=0.99, delta=3.0, fit_intercept=False, form='textbook')"


def test_stable_when_inputs_stop_being_exciting() -> None:
    n = 2_200_000
    rs = np.random.RandomState(7)
    X = np.empty((n, 10))
    X[: n // 2] = rs.randn(n // 2, 10)
    X[n // 2 :] = 0.5  # constant from here on: no excitation
    y = X[:, 0] + X[:, 9] + 0.1 * rs.rand(n)
    model = RLS(forgetting=0.99)
    p1 = model.test_then_train(X[: n // 2], y[: n // 2])
    assert model.n_capped_ == 0  # exciting inputs: the guard never fires
    p2 = model.test_then_train(X[n // 2 :], y[n // 2 :])
    V = model.V_
    assert np.isfinite(V).all()
    assert np.array_equal(V, V.T)
    assert np.trace(V) <= rls_module.TRACE_CAP_FACTOR * model.delta * 11 * (1 + 1e-12)
    assert np.all(np.linalg.eigvalsh(V) > 0)
    assert np.isfinite(p1).all() and np.isfinite(p2).all()
    assert np.isfinite(model.coef_).all()
    assert model.n_capped_ > 0
    assert abs(p2[-1] - 1.05) < 0.1  # still predicts the constant input's target
    # excitation comes back: the model recovers the true coefficients
    Xe = rs.randn(5000, 10)
    model.test_then_train(Xe, Xe[:, 0] + Xe[:, 9] + 0.1 * rs.rand(5000))
    truth = np.zeros(10)
    truth[[0, 9]] = 1.0
    np.testing.assert_allclose(model.coef_, truth, atol=0.02)


def test_the_guard_does_not_change_exciting_runs(
    linear: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = linear
    guarded = RLS(0.99)
    p_guarded = guarded.test_then_train(X, y)
    monkeypatch.setattr(rls_module, "TRACE_CAP_FACTOR", np.inf)
    plain = RLS(0.99)
    assert np.array_equal(plain.test_then_train(X, y), p_guarded)
    assert np.array_equal(plain.V_, guarded.V_)


def test_non_finite_records_are_predicted_not_learned(
    linear: tuple[np.ndarray, np.ndarray],
) -> None:
    X, y = linear[0][:200].copy(), linear[1][:200].copy()
    y[50] = np.nan
    X[60, 3] = np.inf
    fast, slow = RLS(0.99), RLS(0.99)
    p_fast = fast.test_then_train(X, y)
    p_slow = loop(slow, X, y)
    assert np.array_equal(p_fast, p_slow, equal_nan=True)
    assert fast.n_skipped_ == slow.n_skipped_ == 2
    assert fast.n_learned == 200
    assert np.isfinite(fast.coef_).all() and np.isfinite(fast.mse_)
    block = RLS(0.99)
    block.learn_many(X, y)
    np.testing.assert_allclose(block.coef_, fast.coef_, rtol=1e-9, atol=1e-12)


def test_shape_errors() -> None:
    model = RLS()
    model.learn_one(np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="3 features"):
        model.learn_one(np.zeros(4), 1.0)
    with pytest.raises(ValueError):
        model.test_then_train(np.zeros((5, 3)), np.zeros(4))
    with pytest.raises(ValueError):
        RLS(forgetting=0.0)
    with pytest.raises(ValueError):
        RLS(delta=-1.0)
