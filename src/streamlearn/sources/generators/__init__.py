"""Synthetic sources: the course's linear and nonlinear generators, and HHAR-shaped activity."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streamlearn.sources.generators.activity import (
        ActivitySource,
        activity_payloads,
        activity_rows,
        write_hhar_csv,
    )
    from streamlearn.sources.generators.course import (
        LinearSource,
        NonLinearSource,
        course_payloads,
        course_rows,
    )

__all__ = [
    "ActivitySource",
    "LinearSource",
    "NonLinearSource",
    "activity_payloads",
    "activity_rows",
    "course_payloads",
    "course_rows",
    "write_hhar_csv",
]

# each generator compiles numba kernels: load a module when one of its names is used
_HOMES = {
    "ActivitySource": "activity",
    "activity_payloads": "activity",
    "activity_rows": "activity",
    "write_hhar_csv": "activity",
    "LinearSource": "course",
    "NonLinearSource": "course",
    "course_payloads": "course",
    "course_rows": "course",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
