"""Naive Bayes over mixed features, from River's Gaussian and multinomial parts."""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any

from river import base, naive_bayes

__all__ = ["MixedNB"]


class MixedNB(base.Classifier):
    """Gaussian naive Bayes for numbers and categorical naive Bayes for strings.

    River's :class:`~river.naive_bayes.GaussianNB` models every feature as a
    Gaussian, which makes no sense for a category. Here numeric values go to
    a ``GaussianNB`` and string values (categories, as
    :class:`~streamlearn.learn.online.convert.RowConverter` writes them with
    the ``"nominal"`` encoding) become ``"name=value"`` tokens counted by a
    :class:`~river.naive_bayes.MultinomialNB` with Laplace smoothing ``alpha``.
    An unseen category has no counts, so it weighs the same for every class.

    Parameters
    ----------
    alpha
        Additive smoothing of the category counts.
    """

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha
        self.gaussian = naive_bayes.GaussianNB()
        self.counts = naive_bayes.MultinomialNB(alpha=alpha)

    @staticmethod
    def _split(x: dict[Hashable, Any]) -> tuple[dict[Hashable, Any], dict[str, float]]:
        numbers = {k: v for k, v in x.items() if not isinstance(v, str)}
        tokens = {f"{k}={v}": 1.0 for k, v in x.items() if isinstance(v, str)}
        return numbers, tokens

    def learn_one(self, x: dict[Hashable, Any], y: Any) -> None:
        numbers, tokens = self._split(x)
        self.gaussian.learn_one(numbers, y)
        self.counts.learn_one(tokens, y)

    def joint_log_likelihood(self, x: dict[Hashable, Any]) -> dict[Any, float]:
        numbers, tokens = self._split(x)
        jll = self.gaussian.joint_log_likelihood(numbers)
        if not tokens:
            return jll
        # both parts include log P(c): count it once
        cat = self.counts.joint_log_likelihood(tokens)
        return {c: v + cat[c] - math.log(self.counts.p_class(c)) for c, v in jll.items()}

    def predict_proba_one(self, x: dict[Hashable, Any], **kwargs: Any) -> dict[Any, float]:
        jll = self.joint_log_likelihood(x)
        if not jll:
            return {}
        top = max(jll.values())  # log-sum-exp by hand: scipy's costs more than the model
        lse = top + math.log(sum(math.exp(v - top) for v in jll.values()))
        return {c: math.exp(v - lse) for c, v in jll.items()}

    def predict_one(self, x: dict[Hashable, Any], **kwargs: Any) -> Any:
        # the argmax of the joint log-likelihood, without normalising (first max wins)
        jll = self.joint_log_likelihood(x)
        return max(jll, key=jll.__getitem__) if jll else None

    @property
    def _multiclass(self) -> bool:
        return True
