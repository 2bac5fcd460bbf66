"""Window models, River adapters and the fast classifier: behaviour beyond the contract."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin

from streamlearn.learn import (
    RLS,
    FastClassifier,
    WindowClassifier,
    WindowRegressor,
    build_learner,
    expand_specs,
)
from streamlearn.learn.online import RowConverter
from streamlearn.learn.ring import RingBuffer

FITS: list[np.ndarray] = []


class Recorder(RegressorMixin, BaseEstimator):
    """Remembers the targets of every fit and predicts their mean."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> Recorder:
        FITS.append(np.array(y))
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), self.mean_)


@pytest.fixture(autouse=True)
def _clear_fits() -> None:
    FITS.clear()


def _ramp(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((n, 2)), np.arange(n, dtype=np.float64)


# -- ring buffer and window schedule ----------------------------------------------
def test_ring_buffer_keeps_the_last_records_in_fixed_memory():
    buf = RingBuffer(5, np.float64)
    for start in range(0, 1000, 7):
        X = np.arange(start, start + 7, dtype=np.float64).reshape(-1, 1)
        buf.push(X, X[:, 0])
    X, y = buf.ordered()
    assert y.tolist() == [996.0, 997.0, 998.0, 999.0, 1000.0]  # the last push ends at 1000
    assert buf.X.shape == (5, 1) and len(buf) == 5
    buf.push(np.zeros((12, 1)), np.arange(12.0))  # more than the window at once
    assert buf.ordered()[1].tolist() == [7.0, 8.0, 9.0, 10.0, 11.0]


def test_window_refits_every_size_times_every_records_on_the_last_size():
    model = WindowRegressor(Recorder(), size=4, every=2)
    X, y = _ramp(30)
    preds = model.test_then_train(X, y)
    # fits after records 8, 16, 24, each on the 4 records before
    assert [f.tolist() for f in FITS] == [[4, 5, 6, 7], [12, 13, 14, 15], [20, 21, 22, 23]]
    assert model.n_fits_ == 3
    # before the first fit: the running mean of the targets (0.0 at first)
    assert preds[:8].tolist() == [0.0, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    assert preds[8:16].tolist() == [5.5] * 8 and preds[24:].tolist() == [21.5] * 6


def test_window_schedule_ignores_how_the_stream_is_cut():
    X, y = _ramp(50)
    model = WindowRegressor(Recorder(), size=5, every=1)
    for a, b in [(0, 3), (3, 4), (4, 17), (17, 50)]:
        model.test_then_train(X[a:b], y[a:b])
    per_batch = [f.tolist() for f in FITS]
    FITS.clear()
    single = WindowRegressor(Recorder(), size=5, every=1)
    for i in range(50):
        single.learn_one(X[i], y[i])
    assert per_batch == [f.tolist() for f in FITS] and len(per_batch) == 10


def test_learn_many_fits_only_the_last_refit_point_it_crosses():
    X, y = _ramp(23)
    model = WindowRegressor(Recorder(), size=4, every=1)
    model.learn_many(X, y)  # crosses 4, 8, ..., 20; the model of 20 is the one that counts
    assert [f.tolist() for f in FITS] == [[16, 17, 18, 19]]
    assert model.predict_one(X[0]) == 17.5 and model.n_learned == 23


def test_window_memory_is_bounded():
    model = build_learner("window-linear:size=30,every=50", "regression")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 3))
    model.test_then_train(X, X @ [1.0, 2.0, 3.0])
    assert model.window.X.shape == (30, 3)
    assert model.state_size() < 50_000


def test_single_class_window_predicts_that_class():
    model = build_learner("window-linear:size=10", "classification")
    X = np.random.default_rng(1).normal(size=(25, 2))
    y = np.array([3] * 10 + [1] * 15, dtype=np.int64)
    preds = model.test_then_train(X, y)
    assert preds[0] == -1 and preds[10:20].tolist() == [3] * 10 and preds[20:].tolist() == [1] * 5


def test_a_window_that_cannot_be_fitted_keeps_the_previous_model():
    model = build_learner("window-linear:size=5", "regression")
    X = np.ones((15, 1))
    y = np.array([2.0] * 5 + [np.nan] * 5 + [4.0] * 5)
    model.test_then_train(X, y)
    assert model.n_fits_ == 2 and model.n_failed_fits_ == 1
    assert model.predict_one(X[0]) == pytest.approx(4.0)


def test_window_linear_one_hot_learns_a_non_monotonic_category_effect():
    levels = np.array([0.0, 10.0, -5.0, 3.0])
    codes = np.tile(np.arange(4.0), 25)
    X = np.column_stack([np.zeros(100), codes])
    model = build_learner("window-linear:size=20", "regression")
    model.set_features(["x", "group"], [False, True])
    preds = model.test_then_train(X, levels[codes.astype(int)])
    np.testing.assert_allclose(preds[20:], levels[codes[20:].astype(int)], atol=1e-8)
    unseen = model.predict_many(np.array([[0.0, 7.0], [0.0, 1e4]]))  # unknown categories
    assert np.all(np.isfinite(unseen))


# -- presets ----------------------------------------------------------------------
def test_course_ml_preset_expands_to_three_window_models_of_50():
    specs = expand_specs(["course-ml"])
    assert len(specs) == 3
    models = [build_learner(s, "regression") for s in specs]
    assert all(isinstance(m, WindowRegressor) and m.size == 50 for m in models)
    names = sorted(type(m.estimator).__name__ for m in models)
    assert names == ["GradientBoostingRegressor", "LinearRegression", "RandomForestRegressor"]
    assert isinstance(build_learner(specs[0], "classification"), WindowClassifier)


def test_course_rls_preset_races_two_forgetting_factors():
    models = [build_learner(s, "regression") for s in expand_specs(["course-rls"])]
    assert all(isinstance(m, RLS) for m in models)
    assert [m.forgetting for m in models] == [1.0, 0.99]


# -- River adapters ---------------------------------------------------------------
def test_row_converter_encodings():
    X = np.array([[1.5, 2.0, 0.0], [-1.0, 7.0, 1.0]])
    onehot = RowConverter(["x", "dev", "user"], [False, True, True], "onehot").to_dicts(X)
    assert onehot[1] == {"x": -1.0, "dev=7": 1.0, "user=1": 1.0}
    nominal = RowConverter(["x", "dev", "user"], [False, True, True], "nominal").to_dicts(X)
    assert nominal[0] == {"x": 1.5, "dev": "2", "user": "0"}
    frame = RowConverter(["x", "dev", "user"], [False, True, True], "onehot").frame(X)
    assert sorted(frame.columns) == ["dev=2", "dev=7", "user=0", "user=1", "x"]


def _category_concept(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The label is a non-monotonic function of a category; the number is noise."""
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 6, n)
    X = np.column_stack([rng.normal(size=n), codes.astype(np.float64)])
    return X, np.array([0, 2, 1, 2, 0, 1])[codes].astype(np.int64)


@pytest.mark.parametrize(
    "spec",
    [
        "logreg", "nb", "pa", "knn", "hist", "auto",
        "river-logreg", "river-nb", "hoeffding:grace_period=50", "river-pa",
    ],
)  # fmt: skip
def test_classifiers_learn_categories_and_survive_unknown_ones(spec):
    X, y = _category_concept(3000)
    model = build_learner(spec, "classification")
    model.set_features(["noise", "group"], [False, True])
    preds = model.test_then_train(X, y)
    assert np.mean(preds[1500:] == y[1500:]) > 0.95
    unknown = model.predict_many(np.array([[0.0, 6.0], [0.1, 500.0]]))
    assert np.all((unknown >= 0) & (unknown <= 2))


@pytest.mark.parametrize("spec", ["sgd", "river-sgd"])
def test_linear_models_scale_numbers_but_not_one_hot_keys(spec):
    model = build_learner(spec, "regression")
    model.set_features(["x", "group"], [False, True])
    rng = np.random.default_rng(3)
    X = np.column_stack([1000.0 + 100.0 * rng.normal(size=4000), rng.integers(0, 3, 4000)])
    y = 0.01 * (X[:, 0] - 1000.0) + np.array([5.0, -5.0, 0.0])[X[:, 1].astype(int)]
    preds = model.test_then_train(X, y)  # unscaled, x would make SGD diverge
    assert np.mean((preds[2000:] - y[2000:]) ** 2) < 0.05


@pytest.mark.parametrize(
    ("spec", "task"), [("river-logreg", "classification"), ("river-sgd", "regression")]
)
def test_river_pandas_batch_path_matches_predict_one(spec, task):
    X, y = _category_concept(500)
    target = y if task == "classification" else y.astype(np.float64)
    model = build_learner(spec, task)
    model.set_features(["noise", "group"], [False, True])
    model.learn_many(X, target)
    assert model.batch_predict
    loop = np.array([model.predict_one(x) for x in X[:100]])
    np.testing.assert_allclose(model.predict_many(X[:100]), loop, rtol=1e-9, atol=1e-12)


def test_regression_trees_ignore_categories_in_their_leaf_models():
    model = build_learner("hoeffding", "regression")
    model.set_features(["x", "group"], [False, True])
    X, y = _category_concept(500)
    assert np.all(np.isfinite(model.test_then_train(X, y.astype(np.float64))))


# -- the fast classifier ----------------------------------------------------------
def test_fast_classifier_bounds_its_classes():
    model = FastClassifier(max_classes=2, table=256)
    X = np.random.default_rng(4).normal(size=(400, 2))
    y = np.arange(400, dtype=np.int64) % 4
    preds = model.test_then_train(X, y)
    assert set(preds.tolist()) <= {-1, 0, 1}
    assert model.n_skipped_ == 200 and model.n_learned == 400
    assert model.counts.shape == (256 + 2 * 256, 2)  # joint grid + two 1-D histograms


def test_fast_classifier_state_has_a_fixed_size():
    model = FastClassifier(table=1024)
    model.set_features(["a", "b", "c"], [False, False, True])
    rng = np.random.default_rng(5)
    X = np.column_stack([rng.normal(size=(50_000, 2)), rng.integers(0, 10_000, 50_000)])
    y = rng.integers(0, 5, 50_000)
    model.test_then_train(X[:1000], y[:1000])
    before = model.state_size()
    model.test_then_train(X[1000:], y[1000:])  # thousands of new categories
    assert model.state_size() == before


def test_fast_classifier_takes_nan_and_inf():
    model = FastClassifier(table=256)
    X = np.array([[np.nan, 1.0], [np.inf, -np.inf], [0.5, 2.0]] * 10)
    preds = model.test_then_train(X, np.array([0, 1, 1] * 10))
    assert preds[-1] == 1 and np.all(np.isfinite(model.mean))


def test_fast_classifier_forgetting_is_exact_and_adapts_to_a_switch():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(6000, 2))
    y = (X[:, 0] > 0).astype(np.int64)
    y[3000:] = 1 - y[3000:]  # the concept flips halfway
    batch = FastClassifier(table=512, half_life=200).test_then_train(X, y)
    loop_model = FastClassifier(table=512, half_life=200)
    loop = []
    for i in range(len(X)):
        loop.append(loop_model.predict_one(X[i]))
        loop_model.learn_one(X[i], y[i])
    np.testing.assert_array_equal(batch, loop)
    never = FastClassifier(table=512).test_then_train(X, y)
    after = slice(3500, 6000)
    assert np.mean(batch[after] == y[after]) > 0.9 > np.mean(never[after] == y[after])
