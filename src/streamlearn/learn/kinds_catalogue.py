"""The built-in model kinds, presets and aliases, as data :mod:`.registry` registers.

Each entry names its factory as ``"module:function"``: nothing is imported
until a spec uses the kind.
"""

from __future__ import annotations

__all__ = ["ALIASES", "BOTH", "CLF", "KINDS", "PRESETS", "REG"]

BOTH = ("regression", "classification")
REG, CLF = ("regression",), ("classification",)

#: (kind, "module:factory", tasks, one line for help texts)
KINDS: list[tuple[str, str, tuple[str, ...], str]] = []
#: name -> the specs it expands into
PRESETS: dict[str, tuple[str, ...]] = {}
#: old name -> new name (renamed kinds, kept for one release)
ALIASES: dict[str, str] = {}


def _kind(kind: str, factory: str, tasks: tuple[str, ...], summary: str) -> None:
    KINDS.append((kind, factory, tasks, summary))


# baselines
_kind("mean", "streamlearn.learn.baselines:Mean", REG, "mean of the targets so far")
_kind("last-class", "streamlearn.learn.baselines:LastClass", CLF, "label of the previous record")
_kind(
    "no-change",
    "streamlearn.learn.baselines:no_change",
    BOTH,
    "the previous record's label or target",
)
_kind("majority", "streamlearn.learn.baselines:Majority", CLF, "most frequent label so far")

# our own compiled learners (numba): exact record loops, fixed memory
_kind(
    "auto",
    "streamlearn.learn.auto:auto",
    BOTH,
    "races a portfolio of fast learners and predicts with the leader (the default)",
)
_kind(
    "rls",
    "streamlearn.learn.rls:RLS",
    REG,
    "recursive least squares; params forgetting, delta, fit_intercept",
)
_kind(
    "logreg",
    "streamlearn.learn.compiled.linear:SoftmaxRegression",
    CLF,
    "multinomial logistic regression, AdaGrad steps; params rate, l2, table",
)
_kind(
    "pa",
    "streamlearn.learn.compiled.kinds:pa",
    BOTH,
    "passive-aggressive (PA-I, PA-II); params C, variant, eps",
)
_kind(
    "nb",
    "streamlearn.learn.compiled.bayes:MixedNaiveBayes",
    CLF,
    "naive Bayes: Gaussian numbers, counted categories; params alpha, table",
)
_kind(
    "knn",
    "streamlearn.learn.compiled.kinds:knn",
    BOTH,
    "k nearest neighbours in a sliding window; params k, window",
)
_kind(
    "sgd",
    "streamlearn.learn.compiled.linear:SGDRegressor",
    REG,
    "linear regression by SGD, standardised, AdaGrad steps; params rate, l2",
)
_kind(
    "rff",
    "streamlearn.learn.compiled.rff:RFFRegressor",
    REG,
    "RLS over random Fourier features (nonlinear); params features, scale, joint, forgetting",
)
_kind(
    "hist",
    "streamlearn.learn.fast:FastClassifier",
    CLF,
    "hashed histograms as a product of experts; "
    "params bins, table, alpha, marginals, clip, max_classes, half_life",
)
# the name of 'hist' until 0.2: kept for one release
ALIASES["fast"] = "hist"

# window models: scikit-learn refit on the most recent records
_WINDOW = "refit on the last `size` records every `size*every` records; params size, every, seed"
_kind(
    "window-rf", "streamlearn.learn.kinds:window_rf", BOTH, f"random forest {_WINDOW}, n_estimators"
)
_kind(
    "window-gb",
    "streamlearn.learn.kinds:window_gb",
    BOTH,
    f"gradient boosting {_WINDOW}, n_estimators",
)
_kind(
    "window-hgb",
    "streamlearn.learn.kinds:window_hgb",
    BOTH,
    f"histogram gradient boosting {_WINDOW}, max_iter",
)
_kind(
    "window-linear",
    "streamlearn.learn.kinds:window_linear",
    BOTH,
    f"linear/logistic regression {_WINDOW}",
)

# River
_kind(
    "hoeffding",
    "streamlearn.learn.kinds:hoeffding",
    BOTH,
    "Hoeffding tree; params grace_period, max_depth, delta",
)
_kind(
    "hat", "streamlearn.learn.kinds:hat", BOTH, "Hoeffding adaptive tree; params grace_period, seed"
)
_kind("arf", "streamlearn.learn.kinds:arf", BOTH, "adaptive random forest; params n_models, seed")
_kind(
    "river-logreg",
    "streamlearn.learn.kinds:logreg",
    CLF,
    "River's logistic regression (SGD, one-vs-rest); params lr, l2",
)
_kind(
    "river-nb",
    "streamlearn.learn.kinds:nb",
    CLF,
    "River's naive Bayes (Gaussian numbers, counted categories); param alpha",
)
_kind(
    "river-sgd",
    "streamlearn.learn.kinds:sgd",
    REG,
    "River's linear regression by SGD; params lr, l2",
)
_kind("river-pa", "streamlearn.learn.kinds:pa", BOTH, "River's passive-aggressive; param C")

# presets: one name, several racing models
# the default course-ml differs from the lab on purpose (README, "The course lab"): it refits
# every 50 records on the whole window, with 50 trees, starting from the running mean
PRESETS["course-ml"] = ("window-rf:size=50", "window-linear:size=50", "window-gb:size=50")
_LAB_WINDOW = "size=50,refit=1,train=newest-half,start=zeros"
# the lab's race, record by record: its estimators, its window, its seeds
PRESETS["course-ml:exact=1"] = (
    f"window-rf:{_LAB_WINDOW},n_estimators=100",
    f"window-linear:{_LAB_WINDOW},scale=false",
    f"window-gb:{_LAB_WINDOW},n_estimators=100",
)
PRESETS["course-ml:exact=0"] = PRESETS["course-ml"]
# the lab's two RLS models: its own form of the update, forgetting 1 and 0.99
PRESETS["course-rls"] = ("rls:form=course", "rls:form=course,forgetting=0.99")
