"""Learners: the contract, the built-in kinds and the spec registry.

Importing this package registers every built-in kind (see
:mod:`streamlearn.learn.catalogue`). The scikit-learn window models and the
River adapters are loaded on first use, since those libraries take seconds
to import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from streamlearn.learn import catalogue as _catalogue  # noqa: F401  (registers the kinds)
from streamlearn.learn.base import NO_CLASS, Classifier, Learner, Regressor
from streamlearn.learn.baselines import LastClass, Majority, Mean
from streamlearn.learn.fast import FastClassifier
from streamlearn.learn.features import CategoryIndex, FeatureEncoder, LabelIndex
from streamlearn.learn.rls import RLS, KeyedRLS
from streamlearn.learn.specs import (
    ModelSpec,
    build_learner,
    expand_presets,
    known_kinds,
    parse_spec,
    register,
    register_preset,
)

if TYPE_CHECKING:
    from streamlearn.learn.online import MixedNB, RiverClassifier, RiverLearner, RiverRegressor
    from streamlearn.learn.window import WindowClassifier, WindowModel, WindowRegressor

__all__ = [
    "NO_CLASS",
    "RLS",
    "CategoryIndex",
    "Classifier",
    "FastClassifier",
    "FeatureEncoder",
    "KeyedRLS",
    "LabelIndex",
    "LastClass",
    "Learner",
    "Majority",
    "Mean",
    "MixedNB",
    "ModelSpec",
    "Regressor",
    "RiverClassifier",
    "RiverLearner",
    "RiverRegressor",
    "WindowClassifier",
    "WindowModel",
    "WindowRegressor",
    "build_learner",
    "expand_presets",
    "known_kinds",
    "parse_spec",
    "register",
    "register_preset",
]

_LAZY = {
    "MixedNB": "streamlearn.learn.online",
    "RiverClassifier": "streamlearn.learn.online",
    "RiverLearner": "streamlearn.learn.online",
    "RiverRegressor": "streamlearn.learn.online",
    "WindowClassifier": "streamlearn.learn.window",
    "WindowModel": "streamlearn.learn.window",
    "WindowRegressor": "streamlearn.learn.window",
}


def __getattr__(name: str) -> Any:
    # PEP 562: import River or scikit-learn only when one of their classes is asked for
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
