"""How late labels come: a fixed-size histogram of label delays, for the metrics and the report.

Bins are fixed (1 ms to a day, ten per decade, each about 26% wider than
the last), so memory stays constant over any run and two runs' histograms
add up. Quantiles are read off the bins, interpolated within the bin that
holds them and never outside the smallest and largest delays seen.
"""

from __future__ import annotations

import bisect

from streamlearn.summary import DelayDistribution

__all__ = ["EDGES_MS", "DelayHistogram"]

#: upper edges of the bins, in milliseconds (the last bin is open)
EDGES_MS: tuple[int, ...] = tuple(
    sorted({round(10 ** (k / 10)) for k in range(0, 80)} | {86_400_000})
)


class DelayHistogram:
    """Counts of label delays by bin, with their count, sum and maximum.

    Examples
    --------
    >>> h = DelayHistogram()
    >>> for ms in (0, 40, 900, 4_000):
    ...     h.add(ms)
    >>> d = h.describe()
    >>> d["count"], d["max_s"], round(d["p50_s"], 3)
    (4, 4.0, 0.04)
    """

    def __init__(self) -> None:
        self.counts = [0] * (len(EDGES_MS) + 1)
        self.count = 0
        self.total_ms = 0
        self.max_ms = 0
        self.min_ms: int | None = None

    def add(self, delay_ms: int) -> None:
        """One label ``delay_ms`` after its record (a label that came first counts as 0)."""
        delay_ms = max(0, int(delay_ms))
        self.counts[bisect.bisect_left(EDGES_MS, delay_ms)] += 1
        self.count += 1
        self.total_ms += delay_ms
        self.max_ms = max(self.max_ms, delay_ms)
        self.min_ms = delay_ms if self.min_ms is None else min(self.min_ms, delay_ms)

    def quantile(self, q: float) -> float:
        """The delay (seconds) at or below which a share ``q`` of the labels came."""
        if not self.count:
            return 0.0
        rank = q * self.count
        seen = 0
        for i, c in enumerate(self.counts):
            if c and seen + c >= rank:
                low = max(EDGES_MS[i - 1] if i else 0, self.min_ms or 0)
                high = min(EDGES_MS[i] if i < len(EDGES_MS) else self.max_ms, self.max_ms)
                return min(high, low + (high - low) * (rank - seen) / c) / 1000
            seen += c
        return self.max_ms / 1000

    def describe(self) -> DelayDistribution:
        """Count, mean, quantiles and maximum in seconds, and the non-empty bins."""
        return {
            "count": self.count,
            "mean_s": self.total_ms / self.count / 1000 if self.count else 0.0,
            "p50_s": self.quantile(0.5),
            "p90_s": self.quantile(0.9),
            "p99_s": self.quantile(0.99),
            "max_s": self.max_ms / 1000,
            "bins": [
                {"up_to_s": EDGES_MS[i] / 1000 if i < len(EDGES_MS) else None, "count": c}
                for i, c in enumerate(self.counts)
                if c
            ],
        }
