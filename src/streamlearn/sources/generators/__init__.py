"""Synthetic sources: the course's linear and nonlinear generators, and HHAR-shaped activity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from streamlearn._lazy import exports

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

__getattr__, __dir__ = exports(__name__, _HOMES, __all__)
