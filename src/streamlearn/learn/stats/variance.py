"""Running variance: Welford's update, Chan's merge, and the course's recurrence."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from streamlearn.learn.stats.base import Statistic

__all__ = ["Var", "course_variance"]


class Var(Statistic):
    """Variance of the values; population variance ``S_N / N`` by default.

    Parameters
    ----------
    ddof : int
        Delta degrees of freedom: the result is ``S_N / (N - ddof)`` (NaN when
        ``N <= ddof``). ``ddof=0`` is the course's ``var = S_N / N``.

    ``S_N`` (``m2``) is the sum of squared deviations from the mean. Welford's
    update ``S += (x - mu_old) * (x - mu_new)`` works with deviations, not raw
    squares, so it keeps full precision when values sit on a large offset.

    >>> v = Var(); v.update_many([1.0, 2.0]); v.update(6.0); v.get()
    4.666666666666667
    """

    _state = ("n", "mean", "m2")
    _config = ("ddof",)

    def __init__(self, ddof: int = 0) -> None:
        self.ddof = int(ddof)
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0

    def update(self, x: float) -> None:
        x = float(x)
        self.n += 1
        delta = x - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (x - self.mean)

    def get(self) -> float:
        return self.m2 / (self.n - self.ddof) if self.n > self.ddof else float("nan")

    @property
    def std(self) -> float:
        return float(np.sqrt(self.get()))

    def _batch(self, xs: np.ndarray) -> Var:
        out = self._fresh()
        out.n = len(xs)
        out.mean = float(np.mean(xs))
        out.m2 = float(np.sum(np.square(xs - out.mean)))  # two-pass: exact deviations
        return out

    def _absorb(self, other: Var) -> None:
        if other.n == 0:
            return
        n = self.n + other.n
        delta = other.mean - self.mean
        # Chan, Golub & LeVeque (1979) pairwise combination.
        self.m2 += other.m2 + delta * delta * (self.n * other.n / n)
        self.mean += delta * (other.n / n)
        self.n = n


def course_variance(values: Iterable[float]) -> float:
    """The course's sequential variance, written literally, one record at a time.

    ``mu_N = mu_{N-1} + (x_N - mu_{N-1}) / N``,
    ``S_N = S_{N-1} + N (N - 1) (mu_N - mu_{N-1})**2`` and ``var = S_N / N``.

    For tests and teaching. It subtracts two consecutive means, which are
    nearly equal: on values with a large offset (say ``1e6 + randn``) it loses
    about ``log10(offset)`` digits that :class:`Var` keeps.

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
