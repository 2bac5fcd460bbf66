"""Pacing records to a rate, shared by generators, producers and the Spark planner."""

from __future__ import annotations

import math
import time

from streamlearn.errors import ConfigError

__all__ = ["Pacer"]


class Pacer:
    """Keeps records to ``rate`` per second: the j-th record after :meth:`start` is due at ``t0 + j / rate``.

    Every wait is computed from the start, so sleeps never add up to drift,
    and after a stall the records due meanwhile go at once. ``rate=None``
    lets everything through.

    Examples
    --------
    >>> pacer = Pacer(1000.0)
    >>> pacer.allow(10, timeout_s=0.0)  # the first record is due at once
    1
    >>> pacer.took(1)
    """

    def __init__(self, rate: float | None) -> None:
        if rate is not None and not (rate > 0 and math.isfinite(rate)):
            raise ConfigError(f"--rate must be a positive number of records per second, not {rate}")
        self.rate = None if rate is None else float(rate)
        self.start()

    def start(self) -> None:
        """Restart the clock: the next record is due now."""
        self._t0 = time.monotonic()
        self.sent = 0

    def due(self) -> int:
        """Records due by now, counted from the start (sent ones included)."""
        if self.rate is None:
            return 2**62
        return math.floor((time.monotonic() - self._t0) * self.rate + 1e-9) + 1

    def took(self, n: int) -> None:
        """``n`` more records went."""
        self.sent += n

    def allow(self, n: int, timeout_s: float, at_least: int = 1) -> int:
        """How many of ``n`` records may go now (tell :meth:`took` how many did).

        Waits up to ``timeout_s`` until ``min(n, at_least)`` are due (a
        producer at a high rate sends a few hundred records at a time rather
        than one), and returns 0 if none is due by then.
        """
        if self.rate is None or n <= 0:
            return max(0, n)
        want = max(1, min(n, at_least))
        deadline = time.monotonic() + max(0.0, timeout_s)
        while (ready := self.due() - self.sent) < want:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            wait = self._t0 + (self.sent + want - 1) / self.rate - time.monotonic()
            time.sleep(max(0.0, min(wait, left)))
        return max(0, min(n, ready))
