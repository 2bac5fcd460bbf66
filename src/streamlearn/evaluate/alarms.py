"""Drift alarms per model: each model's losses go through a Page-Hinkley test."""

from __future__ import annotations

import numpy as np

from streamlearn.learn.drift import PageHinkley
from streamlearn.summary import DriftReport
from streamlearn.types import Task

__all__ = ["DriftLog"]

#: alarm record numbers kept per model (the latest); the count covers all
KEPT = 100


class DriftLog:
    """The drift alarms of one model: how many, and the record numbers of the latest.

    Examples
    --------
    >>> log = DriftLog("classification")
    >>> log.update(np.r_[np.zeros(3000), np.ones(400)], first_record=1)
    [...]
    >>> log.report()["alarms"] >= 1
    True
    """

    def __init__(self, task: Task) -> None:
        # squared errors are divided by their running mean: one threshold for any scale
        self.detector = PageHinkley()
        self.count = 0
        self.records: list[int] = []

    def update(self, losses: np.ndarray, first_record: int) -> list[int]:
        """Feed one batch of losses (``first_record``: the 1-based number of the first);
        returns the record numbers of the new alarms."""
        found = [first_record + int(i) for i in self.detector.update(losses)]
        if found:
            self.count += len(found)
            self.records = [*self.records, *found][-KEPT:]
        return found

    def report(self) -> DriftReport:
        return {"alarms": self.count, "records": list(self.records)}
