"""Engines drive pipelines: ``local`` (one process) and ``spark`` (Structured Streaming).

Both share one run loop (:mod:`.loop`); an engine supplies only how batches
arrive and where keyed state lives (:mod:`.base`). A new engine is a module
with an :class:`Engine` subclass and one :func:`register_engine` call.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

from streamlearn._lazy import load
from streamlearn.engines.base import Arrival, Engine, Feed, Observer
from streamlearn.errors import ConfigError, MissingExtraError

__all__ = ["Arrival", "Engine", "Feed", "Observer", "engine_names", "get_engine", "register_engine"]


@dataclass(frozen=True)
class _EngineKind:
    #: a factory of engines, or ``"module:Class"`` naming one (loaded on first use)
    factory: Callable[..., Engine] | str
    #: ``(module, extra)``: the engine needs ``module``, installed with ``extra``
    needs: tuple[str, str] | None


_ENGINES: dict[str, _EngineKind] = {}


def register_engine(
    name: str, factory: Callable[..., Engine] | str, needs: tuple[str, str] | None = None
) -> None:
    """Make ``--engine name`` run with engines made by ``factory(**options)``.

    ``needs`` is a module the engine cannot do without and the extra that
    installs it: when it is missing, using the engine says so in one line.
    """
    _ENGINES[name] = _EngineKind(factory, needs)


def engine_names() -> list[str]:
    return list(_ENGINES)


def get_engine(name: str, **options: object) -> Engine:
    """The engine called ``name``; ``options`` (such as Spark's ``master``) go to its factory."""
    kind = _ENGINES.get(name)
    if kind is None:
        raise ConfigError(f"--engine must be one of {', '.join(_ENGINES)}, not {name!r}")
    if kind.needs is not None and importlib.util.find_spec(kind.needs[0]) is None:
        raise MissingExtraError(f"the {name} engine", kind.needs[1])
    factory = load(kind.factory) if isinstance(kind.factory, str) else kind.factory
    return factory(**options)  # type: ignore[no-any-return]


register_engine("local", "streamlearn.engines.local:LocalEngine")
register_engine("spark", "streamlearn.engines.spark:SparkEngine", needs=("pyspark", "spark"))
