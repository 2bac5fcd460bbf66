"""Factories of the window (scikit-learn) and River kinds, as registered.

Each factory takes ``task`` (``build_learner`` passes it) and the spec's
parameters. scikit-learn and River are imported inside the factories: they
take seconds to import, and a run that uses neither should not pay for them.
"""

from __future__ import annotations

from typing import Any, Literal

from streamlearn.errors import ConfigError
from streamlearn.learn.base import Learner

Train = Literal["all", "newest-half"]
Start = Literal["mean", "zeros"]

#: Default size cap of River trees, in MB as River estimates it (River: 100 to 500).
MAX_SIZE_MB = 32.0
#: Records between two checks of that cap: River's default. A shorter period
#: (100,000) made River's HAT raise ZeroDivisionError in its memory check on a
#: real network-intrusion stream; River's own period runs it to the end.
MEMORY_PERIOD = 1_000_000

__all__ = [
    "MAX_SIZE_MB",
    "MEMORY_PERIOD",
    "arf",
    "hat",
    "hoeffding",
    "logreg",
    "nb",
    "pa",
    "sgd",
    "window_gb",
    "window_hgb",
    "window_linear",
    "window_rf",
]


# -- window models (scikit-learn) ------------------------------------------------
def _window(
    task: str,
    regressor: Any,
    classifier: Any,
    size: int,
    every: int,
    one_hot: bool = False,
    refit: int | None = None,
    train: Train = "all",
    start: Start = "mean",
) -> Learner:
    from streamlearn.learn.window import WindowClassifier, WindowRegressor

    if size < 1 or every < 1:
        raise ConfigError(f"window size and every must be >= 1, got size={size}, every={every}")
    if refit is not None and refit < 1:
        raise ConfigError(f"refit must be at least 1 record, got {refit}")
    if task == "classification":
        if start != "mean":
            raise ConfigError("start=zeros is for regression; classifiers start from the majority")
        return WindowClassifier(classifier, int(size), int(every), one_hot, refit, train, start)
    return WindowRegressor(regressor, int(size), int(every), one_hot, refit, train, start)


def window_rf(
    task: str = "regression",
    size: int = 50,
    every: int = 1,
    seed: int = 0,
    n_estimators: int = 50,
    refit: int | None = None,
    train: Train = "all",
    start: Start = "mean",
) -> Learner:
    """Random forest refit on the last ``size`` records every ``size * every`` records."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    kw = {"n_estimators": int(n_estimators), "random_state": int(seed)}
    return _window(
        task,
        RandomForestRegressor(**kw),
        RandomForestClassifier(**kw),
        size,
        every,
        refit=refit,
        train=train,
        start=start,
    )


def window_gb(
    task: str = "regression",
    size: int = 50,
    every: int = 1,
    seed: int = 0,
    n_estimators: int = 100,
    refit: int | None = None,
    train: Train = "all",
    start: Start = "mean",
) -> Learner:
    """Gradient boosting refit on the window."""
    from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor

    kw = {"n_estimators": int(n_estimators), "random_state": int(seed)}
    return _window(
        task,
        GradientBoostingRegressor(**kw),
        GradientBoostingClassifier(**kw),
        size,
        every,
        refit=refit,
        train=train,
        start=start,
    )


def window_hgb(
    task: str = "regression",
    size: int = 50,
    every: int = 1,
    seed: int = 0,
    max_iter: int = 100,
    refit: int | None = None,
    train: Train = "all",
    start: Start = "mean",
) -> Learner:
    """Histogram gradient boosting refit on the window."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    kw = {"max_iter": int(max_iter), "random_state": int(seed)}
    return _window(
        task,
        HistGradientBoostingRegressor(**kw),
        HistGradientBoostingClassifier(**kw),
        size,
        every,
        refit=refit,
        train=train,
        start=start,
    )


def window_linear(
    task: str = "regression",
    size: int = 50,
    every: int = 1,
    seed: int = 0,
    refit: int | None = None,
    train: Train = "all",
    start: Start = "mean",
    scale: bool = True,
) -> Learner:
    """Least squares or logistic regression refit on the window.

    With ``scale`` (default), numeric columns are standardised and
    categorical ones one-hot encoded; ``scale=false`` fits the raw columns, as
    the course lab does (on a window with fewer records than features the
    minimum-norm solution depends on the scaling). ``seed`` is accepted for a
    uniform interface: both fits are deterministic.
    """
    from sklearn.linear_model import LinearRegression, LogisticRegression

    return _window(
        task,
        LinearRegression(),
        LogisticRegression(max_iter=1000),
        size,
        every,
        one_hot=scale,
        refit=refit,
        train=train,
        start=start,
    )


# -- River -----------------------------------------------------------------------
def _river(task: str, regressor: Any, classifier: Any, **kw: Any) -> Learner:
    from streamlearn.learn.online import RiverClassifier, RiverRegressor

    if task == "classification":
        return RiverClassifier(classifier, **kw)
    return RiverRegressor(regressor, **kw)


def _memory(max_size: float, memory_period: int) -> dict[str, Any]:
    # River checks its size cap only every `memory_estimate_period` records
    # (1,000,000 by default): check it more often so the cap actually holds
    return {"max_size": float(max_size), "memory_estimate_period": int(memory_period)}


def hoeffding(
    task: str = "regression",
    grace_period: int = 200,
    max_depth: int | None = None,
    delta: float = 1e-7,
    max_size: float = MAX_SIZE_MB,
    memory_period: int = MEMORY_PERIOD,
) -> Learner:
    """Hoeffding tree (VFDT); categories are nominal features.

    The tree grows with the stream until it reaches ``max_size`` MB (River's
    own estimate, checked every ``memory_period`` records); then its leaves
    stop splitting.
    """
    from river import tree

    kw = {
        "grace_period": int(grace_period),
        "max_depth": max_depth,
        "delta": float(delta),
        **_memory(max_size, memory_period),
    }
    return _river(task, tree.HoeffdingTreeRegressor(**kw), tree.HoeffdingTreeClassifier(**kw))


def hat(
    task: str = "regression",
    grace_period: int = 200,
    seed: int = 0,
    max_size: float = MAX_SIZE_MB,
    memory_period: int = MEMORY_PERIOD,
) -> Learner:
    """Hoeffding adaptive tree: subtrees replaced on drift (ADWIN); size capped as ``hoeffding``."""
    from river import tree

    kw = {"grace_period": int(grace_period), "seed": int(seed), **_memory(max_size, memory_period)}
    return _river(
        task, tree.HoeffdingAdaptiveTreeRegressor(**kw), tree.HoeffdingAdaptiveTreeClassifier(**kw)
    )


def arf(
    task: str = "regression",
    n_models: int = 10,
    seed: int = 0,
    max_size: float = MAX_SIZE_MB,
    memory_period: int = MEMORY_PERIOD,
) -> Learner:
    """Adaptive random forest of Hoeffding trees with drift detection; ``max_size`` per tree."""
    from river import forest

    kw = {"n_models": int(n_models), "seed": int(seed), **_memory(max_size, memory_period)}
    return _river(task, forest.ARFRegressor(**kw), forest.ARFClassifier(**kw))


def logreg(lr: float = 0.01, l2: float = 0.0) -> Learner:
    """Logistic regression by SGD, one-vs-rest over the classes seen so far."""
    from river import linear_model, multiclass, optim

    base = linear_model.LogisticRegression(optimizer=optim.SGD(float(lr)), l2=float(l2))
    clf = multiclass.OneVsRestClassifier(base)
    return _river("classification", None, clf, encoding="onehot", scale=True, batch_predict=True)


def nb(alpha: float = 1.0) -> Learner:
    """Naive Bayes: Gaussian for numbers, smoothed counts for categories."""
    from streamlearn.learn.online import MixedNB

    return _river("classification", None, MixedNB(alpha=float(alpha)), encoding="nominal")


def sgd(lr: float = 0.01, l2: float = 0.0) -> Learner:
    """Linear regression by SGD on standardised, one-hot features."""
    from river import linear_model, optim

    model = linear_model.LinearRegression(
        optimizer=optim.SGD(float(lr)), l2=float(l2), intercept_lr=float(lr)
    )
    return _river("regression", model, None, encoding="onehot", scale=True, batch_predict=True)


def pa(task: str = "regression", C: float = 1.0) -> Learner:
    """Passive-aggressive (PA-I) on standardised, one-hot features; one-vs-rest for classes."""
    from river import linear_model, multiclass

    reg = linear_model.PARegressor(C=float(C), mode=1)
    clf = multiclass.OneVsRestClassifier(linear_model.PAClassifier(C=float(C), mode=1))
    return _river(task, reg, clf, encoding="onehot", scale=True)
