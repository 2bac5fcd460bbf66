"""The registered River kinds: each factory builds the right model for the task."""

from __future__ import annotations

from river import forest, linear_model, multiclass, optim, tree

from streamlearn.learn.online.adapter import RiverClassifier, RiverLearner, RiverRegressor
from streamlearn.learn.online.naive_bayes import MixedNB

__all__ = ["arf", "hat", "hoeffding", "logreg", "nb", "pa", "sgd"]


def _pick(task: str, regressor: object, classifier: object, **kw: object) -> RiverLearner:
    if task == "classification":
        return RiverClassifier(classifier, **kw)  # type: ignore[arg-type]
    return RiverRegressor(regressor, **kw)  # type: ignore[arg-type]


def hoeffding(
    task: str = "regression", grace_period: int = 200, max_depth: int | None = None, delta: float = 1e-7
) -> RiverLearner:
    """Hoeffding tree (VFDT); categories are nominal features."""
    kw = {"grace_period": int(grace_period), "max_depth": max_depth, "delta": float(delta)}
    return _pick(task, tree.HoeffdingTreeRegressor(**kw), tree.HoeffdingTreeClassifier(**kw))


def hat(task: str = "regression", grace_period: int = 200, seed: int = 0) -> RiverLearner:
    """Hoeffding adaptive tree: subtrees replaced on drift (ADWIN)."""
    kw = {"grace_period": int(grace_period), "seed": int(seed)}
    return _pick(
        task, tree.HoeffdingAdaptiveTreeRegressor(**kw), tree.HoeffdingAdaptiveTreeClassifier(**kw)
    )


def arf(task: str = "regression", n_models: int = 10, seed: int = 0) -> RiverLearner:
    """Adaptive random forest of Hoeffding trees with drift detection."""
    kw = {"n_models": int(n_models), "seed": int(seed)}
    return _pick(task, forest.ARFRegressor(**kw), forest.ARFClassifier(**kw))


def logreg(lr: float = 0.01, l2: float = 0.0) -> RiverLearner:
    """Logistic regression by SGD, one-vs-rest over the classes seen so far."""
    base = linear_model.LogisticRegression(optimizer=optim.SGD(float(lr)), l2=float(l2))
    return RiverClassifier(
        multiclass.OneVsRestClassifier(base), encoding="onehot", scale=True, batch_predict=True
    )


def nb(alpha: float = 1.0) -> RiverLearner:
    """Naive Bayes: Gaussian for numbers, smoothed counts for categories."""
    return RiverClassifier(MixedNB(alpha=float(alpha)), encoding="nominal")


def sgd(lr: float = 0.01, l2: float = 0.0) -> RiverLearner:
    """Linear regression by SGD on standardised, one-hot features."""
    model = linear_model.LinearRegression(
        optimizer=optim.SGD(float(lr)), l2=float(l2), intercept_lr=float(lr)
    )
    return RiverRegressor(model, encoding="onehot", scale=True, batch_predict=True)


def pa(task: str = "regression", C: float = 1.0) -> RiverLearner:
    """Passive-aggressive (PA-I); one-vs-rest for classes."""
    reg = linear_model.PARegressor(C=float(C), mode=1)
    clf = multiclass.OneVsRestClassifier(linear_model.PAClassifier(C=float(C), mode=1))
    return _pick(task, reg, clf, encoding="onehot", scale=True)
