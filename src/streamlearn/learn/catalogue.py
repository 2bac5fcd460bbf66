"""Registers every built-in learner kind and race preset.

Kinds that serve both tasks take a ``task`` parameter (filled in by
:func:`~streamlearn.learn.specs.build_learner`). scikit-learn and River load
only when one of their kinds is built (see :mod:`streamlearn.learn.kinds`).
"""

from __future__ import annotations

from streamlearn.learn import kinds
from streamlearn.learn.baselines import LastClass, Majority, Mean
from streamlearn.learn.fast import FastClassifier
from streamlearn.learn.rls import RLS
from streamlearn.learn.specs import register, register_preset

REG, CLF, BOTH = ("regression",), ("classification",), ("regression", "classification")

# baselines and our own compiled learners
register("mean", Mean, REG, "mean of the targets so far")
register("last-class", LastClass, CLF, "label of the previous record")
register("majority", Majority, CLF, "most frequent label so far")
register("rls", RLS, REG, "recursive least squares; params forgetting, delta, fit_intercept")
register(
    "fast",
    FastClassifier,
    CLF,
    "default fast classifier: hashed histograms, product of experts (compiled); "
    "params bins, table, alpha, marginals, clip, max_classes, half_life",
)

# window models: scikit-learn refit on the most recent records
_WINDOW = "refit on the last `size` records every `size*every` records; params size, every, seed"
register("window-rf", kinds.window_rf, BOTH, f"random forest {_WINDOW}, n_estimators")
register("window-gb", kinds.window_gb, BOTH, f"gradient boosting {_WINDOW}, n_estimators")
register("window-hgb", kinds.window_hgb, BOTH, f"histogram gradient boosting {_WINDOW}, max_iter")
register("window-linear", kinds.window_linear, BOTH, f"linear/logistic regression {_WINDOW}")

# River
register(
    "hoeffding", kinds.hoeffding, BOTH, "Hoeffding tree; params grace_period, max_depth, delta"
)
register("hat", kinds.hat, BOTH, "Hoeffding adaptive tree; params grace_period, seed")
register("arf", kinds.arf, BOTH, "adaptive random forest; params n_models, seed")
register("logreg", kinds.logreg, CLF, "logistic regression (SGD, one-vs-rest); params lr, l2")
register("nb", kinds.nb, CLF, "naive Bayes (Gaussian numbers, counted categories); param alpha")
register("sgd", kinds.sgd, REG, "linear regression by SGD; params lr, l2")
register("pa", kinds.pa, BOTH, "passive-aggressive; param C")

# presets: one name, several racing models
register_preset("course-ml", ("window-rf:size=50", "window-linear:size=50", "window-gb:size=50"))
register_preset("course-rls", ("rls", "rls:forgetting=0.99"))
