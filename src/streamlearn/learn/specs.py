"""Model specs: ``KIND[:k=v,...]`` strings from the CLI turned into learners.

Each learner kind is registered once with the task it serves. Presets expand
one name into several specs (``course-rls`` is two RLS models racing).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from streamlearn.errors import ConfigError
from streamlearn.learn.base import Learner

__all__ = [
    "ModelSpec",
    "build_learner",
    "expand_presets",
    "known_kinds",
    "parse_spec",
    "register",
    "register_preset",
]


@dataclass(frozen=True)
class _Kind:
    factory: Callable[..., Learner]
    tasks: tuple[str, ...]
    summary: str


_KINDS: dict[str, _Kind] = {}
_PRESETS: dict[str, tuple[str, ...]] = {}


@dataclass(frozen=True)
class ModelSpec:
    """A parsed spec: ``kind`` plus keyword parameters, and the text it came from."""

    kind: str
    params: tuple[tuple[str, Any], ...]
    text: str

    @property
    def name(self) -> str:
        return self.text


def register(kind: str, factory: Callable[..., Learner], tasks: tuple[str, ...], summary: str) -> None:
    """Make ``kind`` usable in ``--model`` specs."""
    _KINDS[kind] = _Kind(factory, tasks, summary)


def register_preset(name: str, specs: tuple[str, ...]) -> None:
    _PRESETS[name] = specs


def known_kinds(task: str | None = None) -> list[str]:
    return sorted(k for k, v in _KINDS.items() if task is None or task in v.tasks)


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


def expand_presets(texts: list[str]) -> list[str]:
    out: list[str] = []
    for t in texts:
        out.extend(_PRESETS.get(t.strip(), (t,)))
    return out


def build_learner(spec: ModelSpec | str, task: str) -> Learner:
    """Instantiate the learner of a spec, checking kind, task and parameters."""
    _ensure_registered()
    if isinstance(spec, str):
        spec = parse_spec(spec)
    entry = _KINDS.get(spec.kind)
    if entry is None:
        raise ConfigError(
            f"unknown model {spec.kind!r} in {spec.text!r}; known for {task}: "
            + ", ".join(known_kinds(task))
        )
    if task not in entry.tasks:
        raise ConfigError(
            f"model {spec.kind!r} does not do {task}; known for {task}: " + ", ".join(known_kinds(task))
        )
    params = dict(spec.params)
    accepted = inspect.signature(entry.factory).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
    for key in params:
        if key not in accepted and not takes_any:
            names = ", ".join(k for k in accepted if k != "task") or "none"
            raise ConfigError(f"model {spec.kind!r} has no parameter {key!r} (parameters: {names})")
    if "task" in accepted:
        params["task"] = task
    try:
        return entry.factory(**params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad parameters in model spec {spec.text!r}: {exc}") from None


def _ensure_registered() -> None:
    # importing the catalogue registers every built-in kind
    from streamlearn.learn import catalogue  # noqa: F401
