"""The course's sequential variance, written literally, for tests and teaching."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["course_variance"]


def course_variance(values: Iterable[float]) -> float:
    """The course's sequential variance, one record at a time.

    ``mu_N = mu_{N-1} + (x_N - mu_{N-1}) / N``,
    ``S_N = S_{N-1} + N (N - 1) (mu_N - mu_{N-1})**2`` and ``var = S_N / N``.

    It subtracts two consecutive means, which are nearly equal: on values
    with a large offset (say ``1e6 + randn``) it loses about
    ``log10(offset)`` digits that Welford's update
    (:class:`~streamlearn.stats.Moments`) keeps.

    Examples
    --------
    >>> course_variance([1.0, 2.0, 6.0])
    4.666666666666667
    """
    n = 0
    mu = 0.0
    s = 0.0
    for x in values:
        n += 1
        mu_prev = mu
        mu = mu_prev + (float(x) - mu_prev) / n
        s = s + n * (n - 1) * (mu - mu_prev) ** 2
    return s / n if n else float("nan")
