"""River learners behind the streamlearn contract."""

from __future__ import annotations

from streamlearn.learn.online.adapter import RiverClassifier, RiverLearner, RiverRegressor
from streamlearn.learn.online.convert import RowConverter
from streamlearn.learn.online.naive_bayes import MixedNB
from streamlearn.learn.online.scale import ScaleNumbers
from streamlearn.learn.online.select import SelectInOrder

__all__ = [
    "MixedNB",
    "RiverClassifier",
    "RiverLearner",
    "RiverRegressor",
    "RowConverter",
    "ScaleNumbers",
    "SelectInOrder",
]
