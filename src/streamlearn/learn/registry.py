"""The learner registry: ``KIND[:k=v,...]`` specs from the CLI turned into learners.

Each kind is registered once with the tasks it serves; its factory is named
as ``"module:function"`` so the kind's module (numba, River, scikit-learn)
loads only when the kind is built. Presets expand one name into several
specs (``course-rls`` is two RLS models racing) and a value ``a|b|c``
expands into one race member per value.

Examples
--------
>>> expand_specs(["rls:forgetting=0.99|1.0"])
['rls:forgetting=0.99', 'rls:forgetting=1.0']
>>> build_learner("rls:forgetting=high", "regression")
Traceback (most recent call last):
...
streamlearn.errors.ConfigError: model 'rls': forgetting='high' is not a number (float expected)
"""

from __future__ import annotations

import inspect
import itertools
import types
import typing
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from streamlearn._lazy import load
from streamlearn.errors import ConfigError
from streamlearn.learn import kinds_catalogue as catalogue

if TYPE_CHECKING:
    from streamlearn.learn.base import Learner
    from streamlearn.types import Task

__all__ = [
    "ModelSpec",
    "build_learner",
    "build_models",
    "expand_specs",
    "kind_summaries",
    "known_kinds",
    "named_models",
    "parse_spec",
    "register",
    "register_alias",
    "register_preset",
]


@dataclass(frozen=True)
class _Kind:
    #: a factory of learners, or ``"module:function"`` naming one
    factory: Callable[..., Learner] | str
    tasks: tuple[str, ...]
    summary: str

    def load(self) -> Callable[..., Learner]:
        return load(self.factory) if isinstance(self.factory, str) else self.factory  # type: ignore[no-any-return]


_KINDS: dict[str, _Kind] = {}
_PRESETS: dict[str, tuple[str, ...]] = {}
_ALIASES: dict[str, str] = {}


@dataclass(frozen=True)
class ModelSpec:
    """A parsed spec: ``kind`` plus keyword parameters, and the text it came from."""

    kind: str
    params: tuple[tuple[str, Any], ...]
    text: str

    @property
    def name(self) -> str:
        return self.text


def register(
    kind: str, factory: Callable[..., Learner] | str, tasks: tuple[str, ...], summary: str
) -> None:
    """Make ``kind`` usable in ``--model`` specs.

    ``factory`` takes the spec's parameters as keywords (and ``task`` when
    it has that parameter); its annotations say what type each parameter
    has, and a value of another type is refused in one line.
    """
    _KINDS[kind] = _Kind(factory, tasks, summary)


def register_alias(old: str, new: str) -> None:
    """Keep ``old`` working as a name of kind ``new`` (a rename), with a warning when used."""
    _ALIASES[old] = new


def register_preset(name: str, specs: tuple[str, ...]) -> None:
    """Make ``name`` expand into ``specs`` (a race of several models)."""
    _PRESETS[name] = specs


def known_kinds(task: str | None = None) -> list[str]:
    """Registered kinds (for ``task``, when given), sorted."""
    return sorted(k for k, v in _KINDS.items() if task is None or task in v.tasks)


def kind_summaries(task: str | None = None) -> dict[str, str]:
    """One line about each kind, for help texts."""
    return {k: _KINDS[k].summary for k in known_kinds(task)}


def _value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "yes"):
        return True
    if low in ("false", "no"):
        return False
    if low in ("none", "null"):
        return None
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def parse_spec(text: str) -> ModelSpec:
    """Parse ``KIND[:k=v,...]``.

    Examples
    --------
    >>> parse_spec("rls:forgetting=0.99").params
    (('forgetting', 0.99),)
    """
    text = text.strip()
    kind, _, rest = text.partition(":")
    kind = kind.strip()
    if not kind:
        raise ConfigError(f"bad model spec {text!r}: expected KIND[:k=v,...]")
    params: list[tuple[str, Any]] = []
    if rest.strip():
        for part in rest.split(","):
            key, eq, val = part.partition("=")
            if not eq or not key.strip():
                raise ConfigError(f"bad model spec {text!r}: {part!r} is not k=v")
            params.append((key.strip().replace("-", "_"), _value(val.strip())))
    return ModelSpec(kind, tuple(params), text)


def expand_specs(texts: Sequence[str]) -> list[str]:
    """Presets replaced by their specs, and grids ``k=a|b`` by one spec per value."""
    from streamlearn.learn.user_specs import is_user_spec

    out: list[str] = []
    for t in texts:
        if is_user_spec(t):  # river:, sklearn:, py: name classes; their arguments are literals
            out.append(t.strip())
            continue
        for text in _PRESETS.get(t.strip(), (t,)):
            kind, colon, rest = text.strip().partition(":")
            if "|" not in rest:
                out.append(text.strip())
                continue
            parts = [p.partition("=") for p in rest.split(",")]
            choices = [[f"{k}={v}" for v in val.split("|")] if eq else [k] for k, eq, val in parts]
            out.extend(f"{kind}{colon}{','.join(combo)}" for combo in itertools.product(*choices))
    return out


def _hints(factory: Callable[..., Any]) -> dict[str, Any]:
    target = factory.__init__ if inspect.isclass(factory) else factory  # type: ignore[misc]
    try:
        return typing.get_type_hints(target)
    except Exception:  # annotations naming what cannot be resolved: no checks
        return {}


def _coerce(kind: str, name: str, value: Any, hint: Any) -> Any:
    """``value`` as the annotated type, or a one-line error naming the parameter."""
    allowed = (
        typing.get_args(hint)
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
        else (hint,)
    )
    if value is None:
        if type(None) in allowed:
            return None
        raise ConfigError(f"model {kind!r}: {name} cannot be none")
    for t in allowed:
        if typing.get_origin(t) is typing.Literal:
            if value in typing.get_args(t):
                return value
            continue
        if t is bool and isinstance(value, bool):
            return value
        if t is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if t is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if t is str:
            return str(value)
        if t is Any:
            return value
    names = {bool: "true or false", int: "an integer", float: "a number", str: "text"}
    plain = {bool: "bool", int: "int", float: "float", str: "str"}

    def said(t: Any, words: dict[Any, str]) -> str:
        if typing.get_origin(t) is typing.Literal:
            return "one of " + ", ".join(map(str, typing.get_args(t)))
        return words.get(t, getattr(t, "__name__", str(t)))

    wanted = " or ".join(said(t, names) for t in allowed if t is not type(None))
    expected = " or ".join(said(t, plain) for t in allowed if t is not type(None))
    raise ConfigError(f"model {kind!r}: {name}={value!r} is not {wanted} ({expected} expected)")


def build_learner(spec: ModelSpec | str, task: str) -> Learner:
    """Instantiate the learner of a spec, checking kind, task and parameters."""
    if isinstance(spec, str):
        spec = parse_spec(spec)
    if spec.kind in _ALIASES:
        new = _ALIASES[spec.kind]
        warnings.warn(
            f"model kind {spec.kind!r} is now called {new!r}; {spec.kind!r} will be removed "
            "in the next release",
            FutureWarning,
            stacklevel=2,
        )
        spec = ModelSpec(new, spec.params, spec.text)
    entry = _KINDS.get(spec.kind)
    if entry is None:
        raise ConfigError(
            f"unknown model {spec.kind!r} in {spec.text!r}; known for {task}: "
            + ", ".join(known_kinds(task))
        )
    if task not in entry.tasks:
        raise ConfigError(
            f"model {spec.kind!r} does not do {task}; known for {task}: "
            + ", ".join(known_kinds(task))
        )
    factory = entry.load()
    accepted = inspect.signature(factory).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
    hints = _hints(factory)
    params = dict(spec.params)
    for key in list(params):
        if key not in accepted and not takes_any:
            names = ", ".join(k for k in accepted if k != "task") or "none"
            raise ConfigError(f"model {spec.kind!r} has no parameter {key!r} (parameters: {names})")
        if key in hints:
            params[key] = _coerce(spec.kind, key, params[key], hints[key])
    if "task" in accepted:
        params["task"] = task
    try:
        return factory(**params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad parameters in model spec {spec.text!r}: {exc}") from None


def named_models(specs: Sequence[Any] | Mapping[str, Any]) -> list[tuple[str | None, Any]]:
    """``(name or None, model)`` pairs from a list of models, ``(name, model)`` pairs and dicts."""
    if isinstance(specs, Mapping):
        return [(str(k), v) for k, v in specs.items()]
    out: list[tuple[str | None, Any]] = []
    for s in specs:
        if isinstance(s, Mapping):
            out.extend((str(k), v) for k, v in s.items())
        elif isinstance(s, tuple) and len(s) == 2 and isinstance(s[0], str):
            out.append((s[0], s[1]))
        else:
            out.append((None, s))
    return out


def build_models(specs: Sequence[Any] | Mapping[str, Any], task: str) -> dict[str, Learner]:
    """Learners by display name; repeated names get ``#2``, ``#3``...

    ``specs`` holds spec strings (presets and grids expanded; ``river:``,
    ``sklearn:`` and ``py:`` name classes), learners, your own River,
    scikit-learn or plain objects (see :func:`~streamlearn.learn.adapters.adapt`),
    ``(name, model)`` pairs, or a dict of name to model.
    """
    from streamlearn.learn.adapters import adapt
    from streamlearn.learn.user_specs import build_user_spec, is_user_spec

    built: list[tuple[str, Learner]] = []
    for given, s in named_models(specs):
        if isinstance(s, str) and is_user_spec(s):
            learner, name = build_user_spec(s, cast("Task", task))
            built.append((given or name, learner))
        elif isinstance(s, str):
            texts = expand_specs([s])
            for text in texts:
                spec = parse_spec(text)
                name = (
                    spec.name
                    if given is None
                    else given
                    if len(texts) == 1
                    else f"{given}/{spec.name}"
                )
                built.append((name, build_learner(spec, task)))
        else:
            learner, name = adapt(s, cast("Task", task), name=given)
            built.append((name, learner))
    models: dict[str, Learner] = {}
    for name, learner in built:
        unique, i = name, 2
        while unique in models:
            unique, i = f"{name}#{i}", i + 1
        models[unique] = learner
    return models


def _register_builtins() -> None:
    for kind, factory, tasks, summary in catalogue.KINDS:
        register(kind, factory, tasks, summary)
    for name, specs in catalogue.PRESETS.items():
        register_preset(name, specs)
    for old, new in catalogue.ALIASES.items():
        register_alias(old, new)


_register_builtins()
