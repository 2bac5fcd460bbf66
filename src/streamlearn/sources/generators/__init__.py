"""Synthetic sources: the course's linear and nonlinear generators, and HHAR-shaped activity."""

from __future__ import annotations

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
