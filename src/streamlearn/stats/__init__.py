"""Streaming statistics kept by keyed steps, per column and mergeable.

:class:`Moments` (count, mean, variance by Welford and Chan),
:class:`ColumnSums` (sum and sum of ``|x|``) and :class:`ColumnExtrema`
(minimum and maximum); :class:`Window` keeps the last values of a stream.
:func:`course_variance` is the course's literal recurrence, kept for comparison.
"""

from __future__ import annotations

from streamlearn.stats.base import ColumnStatistic, as_matrix
from streamlearn.stats.columns import ColumnExtrema, ColumnSums
from streamlearn.stats.course import course_variance
from streamlearn.stats.moments import Moments
from streamlearn.stats.window import Window

__all__ = [
    "ColumnExtrema",
    "ColumnStatistic",
    "ColumnSums",
    "Moments",
    "Window",
    "as_matrix",
    "course_variance",
]
