"""Mergeable streaming statistics.

Each statistic has ``update(x)``, a vectorised ``update_many(xs)``, ``get()``,
``merge(other)`` (the statistic of the concatenated data, by the parallel
formulas of Chan et al.) and ``to_state()``/``from_state()`` made of plain
numbers and numpy arrays, so per-key state can live in Spark.

Scalar: :class:`Count`, :class:`Sum`, :class:`AbsSum`, :class:`Min`,
:class:`Max`, :class:`Mean`, :class:`Var`, :class:`Cov`. Per column of
``(n, d)`` records: :class:`Moments`, :class:`ColumnSums`,
:class:`ColumnExtrema`. :func:`course_variance` is the course's literal
recurrence, kept for comparison.
"""

from __future__ import annotations

from streamlearn.learn.stats.base import ColumnStatistic, Statistic
from streamlearn.learn.stats.columns import ColumnExtrema, ColumnSums
from streamlearn.learn.stats.count import Count
from streamlearn.learn.stats.covariance import Cov
from streamlearn.learn.stats.extrema import Max, Min
from streamlearn.learn.stats.mean import Mean
from streamlearn.learn.stats.moments import Moments
from streamlearn.learn.stats.sums import AbsSum, Sum
from streamlearn.learn.stats.variance import Var, course_variance

__all__ = [
    "AbsSum",
    "ColumnExtrema",
    "ColumnStatistic",
    "ColumnSums",
    "Count",
    "Cov",
    "Max",
    "Mean",
    "Min",
    "Moments",
    "Statistic",
    "Sum",
    "Var",
    "course_variance",
]
