"""Your own models in a race: River, scikit-learn and plain Python objects, adapted as they are.

:func:`adapt` turns an object into a streamlearn :class:`~streamlearn.learn.base.Learner`:

* a River estimator (a classifier, a regressor, a pipeline such as
  ``StandardScaler() | LogisticRegression()``, an ensemble) is cloned and fed
  River dicts, categories as strings (:class:`~streamlearn.learn.online.RiverLearner`);
* a scikit-learn estimator with ``partial_fit`` learns incrementally
  (:class:`~streamlearn.learn.sklearn_online.PartialFit`): a batch at a time,
  or one record at a time under ``granularity="record"``;
* a scikit-learn estimator without ``partial_fit`` is refit on a window of
  the latest records (``window=N, refit=K``), as the ``window-*`` kinds;
* any other object with ``predict_one``/``learn_one`` (or
  ``predict_many``/``learn_many``) is called as it is
  (:class:`~streamlearn.learn.plain.PlainLearner`).

The task is inferred from the object where it says (River's and
scikit-learn's classifier and regressor types, or a ``task`` attribute) and
checked against the run's. Classifiers see labels as ``int`` codes (0, 1, 2...
in order of first appearance in the stream).

Examples
--------
>>> from river import linear_model, preprocessing
>>> learner, name = adapt(preprocessing.StandardScaler() | linear_model.LogisticRegression(),
...                       task="classification")
>>> name, learner.task
('StandardScaler | LogisticRegression', 'classification')
>>> adapt(42, task="regression")
Traceback (most recent call last):
...
streamlearn.errors.ConfigError: model 42 (int) is not a learner: give a River or scikit-learn estimator, or an object with predict_one and learn_one (streamlearn.testing.check_learner says what is missing)
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Sequence
from typing import Any

from streamlearn.errors import ConfigError
from streamlearn.learn.base import Learner
from streamlearn.types import Task

__all__ = ["adapt", "model_name"]

#: records in the window of a scikit-learn estimator without partial_fit, unless given
DEFAULT_WINDOW = 500


def _package(obj: object) -> str:
    return type(obj).__module__.partition(".")[0]


def _is_river(obj: object) -> bool:
    if _package(obj) != "river" and "river" not in sys.modules:
        return False
    from river import base

    return isinstance(obj, base.Estimator)


def _is_sklearn(obj: object) -> bool:
    if "sklearn" not in sys.modules:
        return False
    from sklearn.base import BaseEstimator

    return isinstance(obj, BaseEstimator)


def _river_name(obj: Any) -> str:
    """``Class(non-default params)``; a pipeline as ``A | B``."""
    from river import compose

    if isinstance(obj, compose.Pipeline):
        return " | ".join(_river_name(step) for step in obj.steps.values())
    params = obj._get_params() if hasattr(obj, "_get_params") else {}
    try:
        defaults = {
            k: p.default
            for k, p in inspect.signature(type(obj).__init__).parameters.items()
            if p.default is not inspect.Parameter.empty
        }
    except (TypeError, ValueError):
        defaults = {}
    changed = [
        f"{k}={v!r}"
        for k, v in params.items()
        if k in defaults and not isinstance(v, dict | list | tuple) and _differs(v, defaults[k])
    ]
    return f"{type(obj).__name__}({', '.join(changed)})" if changed else type(obj).__name__


def _differs(a: Any, b: Any) -> bool:
    try:
        return bool(a != b)
    except Exception:  # arrays and other objects that do not compare to one bool
        return True


def model_name(obj: object) -> str:
    """A short display name derived from the object's repr."""
    if isinstance(obj, Learner):
        return type(obj).__name__
    if _is_river(obj):
        return _river_name(obj)
    if _is_sklearn(obj):
        return " ".join(repr(obj).split())  # scikit-learn prints only non-default parameters
    text = " ".join(repr(obj).split())
    return text if len(text) <= 60 and " object at 0x" not in text else type(obj).__name__


def _task_of(obj: object) -> Task | None:
    if _is_river(obj):
        from river import base

        # a River pipeline is an instance of its last step's kind
        if isinstance(obj, base.Classifier):
            return "classification"
        if isinstance(obj, base.Regressor):
            return "regression"
        return None
    if _is_sklearn(obj):
        from sklearn.base import is_classifier, is_regressor

        if is_classifier(obj):
            return "classification"
        if is_regressor(obj):
            return "regression"
        return None
    task = getattr(obj, "task", None)
    return task if task in ("classification", "regression") else None


def adapt(
    model: object,
    task: Task,
    *,
    name: str | None = None,
    classes: int | Sequence[int] | None = None,
    window: int | None = None,
    refit: int | None = None,
) -> tuple[Learner, str]:
    """``model`` as a streamlearn learner, with its display name.

    Parameters
    ----------
    model
        A :class:`Learner`, a River or scikit-learn estimator, or an object
        with ``predict_one``/``learn_one`` (or ``predict_many``/``learn_many``).
    task
        The run's task; a model that says it does the other one is refused.
    name
        Display name (default: derived from the model's repr).
    classes
        scikit-learn classifiers with ``partial_fit``: the class codes, or
        their number (default 32: the stream's first 32 labels).
    window, refit
        scikit-learn estimators without ``partial_fit``: records in the
        window (default 500) and records between refits (default: the window).
    """
    if isinstance(model, Learner):
        learner: Learner = model
    else:
        own = _task_of(model)
        if own is not None and own != task:
            raise ConfigError(
                f"model {model_name(model)!r} is a {own} model, but the task is {task}"
            )
        learner = _wrap(model, task, classes, window, refit)
    if learner.task != task:
        raise ConfigError(
            f"model {model_name(model)!r} is a {learner.task} model, the task is {task}"
        )
    return learner, name or model_name(model)


def _wrap(
    model: object,
    task: Task,
    classes: int | Sequence[int] | None,
    window: int | None,
    refit: int | None,
) -> Learner:
    if _is_river(model):
        from streamlearn.learn.online import RiverClassifier, RiverRegressor

        cls = RiverClassifier if task == "classification" else RiverRegressor
        return cls(model)  # type: ignore[arg-type]
    if _is_sklearn(model):
        if hasattr(model, "partial_fit"):
            from streamlearn.learn.sklearn_online import PartialFitClassifier, PartialFitRegressor

            if task == "classification":
                return PartialFitClassifier(model, classes=classes)
            return PartialFitRegressor(model)
        from streamlearn.learn.window import WindowClassifier, WindowRegressor

        size = DEFAULT_WINDOW if window is None else int(window)
        if size < 1 or (refit is not None and refit < 1):
            raise ConfigError(f"window and refit must be at least 1, got {window} and {refit}")
        wcls = WindowClassifier if task == "classification" else WindowRegressor
        return wcls(model, size=size, refit=refit)  # type: ignore[arg-type]
    has_one = callable(getattr(model, "predict_one", None)) and callable(
        getattr(model, "learn_one", None)
    )
    has_many = callable(getattr(model, "predict_many", None)) and callable(
        getattr(model, "learn_many", None)
    )
    if not (has_one or has_many):
        raise ConfigError(
            f"model {model_name(model)} ({type(model).__name__}) is not a learner: give a River or "
            "scikit-learn estimator, or an object with predict_one and learn_one "
            "(streamlearn.testing.check_learner says what is missing)"
        )
    from streamlearn.learn.plain import PlainLearner

    return PlainLearner(model, task)
