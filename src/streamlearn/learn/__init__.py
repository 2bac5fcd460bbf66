"""Learners: the contract, the built-in kinds and the spec registry.

Kinds are registered in :mod:`streamlearn.learn.registry`, each loading
its module when it is built. Names are imported on first use
(PEP 562): the compiled learners load numba, the window models
scikit-learn and the River adapters River, each of which takes a while, and
``import streamlearn.learn.base`` needs none of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from streamlearn._lazy import exports

if TYPE_CHECKING:
    from streamlearn.learn.adapters import adapt
    from streamlearn.learn.base import NO_CLASS, Classifier, Learner, Regressor
    from streamlearn.learn.baselines import LastClass, Majority, Mean
    from streamlearn.learn.fast import FastClassifier
    from streamlearn.learn.features import CategoryIndex, FeatureEncoder, LabelIndex
    from streamlearn.learn.online import MixedNB, RiverClassifier, RiverLearner, RiverRegressor
    from streamlearn.learn.registry import (
        ModelSpec,
        build_learner,
        build_models,
        expand_specs,
        known_kinds,
        parse_spec,
        register,
        register_preset,
    )
    from streamlearn.learn.rls import RLS
    from streamlearn.learn.window import WindowClassifier, WindowModel, WindowRegressor

__all__ = [
    "NO_CLASS",
    "RLS",
    "CategoryIndex",
    "Classifier",
    "FastClassifier",
    "FeatureEncoder",
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
    "adapt",
    "build_learner",
    "build_models",
    "expand_specs",
    "known_kinds",
    "parse_spec",
    "register",
    "register_preset",
]

_HOMES = {
    "adapt": "adapters",
    "NO_CLASS": "base",
    "Classifier": "base",
    "Learner": "base",
    "Regressor": "base",
    "LastClass": "baselines",
    "Majority": "baselines",
    "Mean": "baselines",
    "FastClassifier": "fast",
    "CategoryIndex": "features",
    "FeatureEncoder": "features",
    "LabelIndex": "features",
    "MixedNB": "online",
    "RiverClassifier": "online",
    "RiverLearner": "online",
    "RiverRegressor": "online",
    "RLS": "rls",
    "ModelSpec": "registry",
    "build_learner": "registry",
    "build_models": "registry",
    "expand_specs": "registry",
    "known_kinds": "registry",
    "parse_spec": "registry",
    "register": "registry",
    "register_preset": "registry",
    "WindowClassifier": "window",
    "WindowModel": "window",
    "WindowRegressor": "window",
}

__getattr__, __dir__ = exports(__name__, _HOMES, __all__)
