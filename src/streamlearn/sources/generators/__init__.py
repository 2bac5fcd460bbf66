"""Synthetic sources: the course's linear and nonlinear generators."""

from __future__ import annotations

from streamlearn.sources.generators.course import (
    LinearSource,
    NonLinearSource,
    course_payloads,
    course_rows,
)

__all__ = ["LinearSource", "NonLinearSource", "course_payloads", "course_rows"]
