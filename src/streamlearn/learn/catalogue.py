"""Registers every built-in learner kind and race preset."""

from __future__ import annotations

from streamlearn.learn.baselines import LastClass, Majority, Mean
from streamlearn.learn.specs import register

register("mean", Mean, ("regression",), "mean of the targets so far")
register("last-class", LastClass, ("classification",), "label of the previous record")
register("majority", Majority, ("classification",), "most frequent label so far")
