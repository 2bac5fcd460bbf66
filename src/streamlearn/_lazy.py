"""Names loaded on first use: lazy package exports (PEP 562) and ``"module:name"`` references.

Heavy libraries (numba, pandas, River, scikit-learn, PySpark, confluent-kafka)
take most of streamlearn's start-up time; packages export their names
through :func:`exports` and registries name their builders as
``"module:name"`` (:func:`load`), so nothing is imported before it is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["exports", "load"]


def load(reference: str) -> Any:
    """The object a ``"package.module:name"`` reference names."""
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


def exports(
    package: str, homes: Mapping[str, str], public: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a package whose names live in its modules.

    ``homes`` maps each exported name to its module, relative to ``package``
    (``"rls"``) or absolute (``"streamlearn.pipeline"``).
    """

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = home if home.startswith("streamlearn") else f"{package}.{home}"
        return getattr(importlib.import_module(module), name)

    def __dir__() -> list[str]:
        return sorted(public)

    return __getattr__, __dir__
