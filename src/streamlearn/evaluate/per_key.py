"""One race per key: every sensor, user or device gets its own models.

:class:`PerKeyRace` keeps a :class:`~streamlearn.evaluate.race.Race` per key,
built from fresh clones of the models the first time the key appears. Each
batch is grouped by key once (a sort, not a loop per record); each key's race
then runs its records in stream order, prequentially, so a key's models see
only that key's records. Overall figures score every record's prediction in
stream order, as one race would; per-key figures are each key's race's own.

Keys are bounded: past ``max_keys``, at the end of each batch (every key of
the batch has raced), the keys unseen for longest are evicted (counted in
``evicted_keys``); one that comes back starts afresh. On Spark the state
store follows (see :mod:`streamlearn.engines.spark.evictions`). The whole
structure is pickled with checkpoints, so a resumed run is exact.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from streamlearn.errors import ConfigError
from streamlearn.evaluate.key_race import KeyRace
from streamlearn.evaluate.race import Race
from streamlearn.learn.base import Learner
from streamlearn.summary import PerKeyReport

__all__ = ["PER_KEY_REPORTED", "PerKeyRace"]

#: keys listed one by one in the metrics JSON (the most recently seen)
PER_KEY_REPORTED = 1000


class PerKeyRace(Race):
    """A race per key, scored overall and per key (see the module doc).

    Parameters are those of :class:`Race`, plus ``max_keys``.
    """

    def __init__(
        self, models: dict[str, Learner], *args: Any, max_keys: int = 10_000, **kwargs: Any
    ) -> None:
        super().__init__(models, *args, **kwargs)
        if max_keys < 1:
            raise ConfigError(f"--max-keys must be at least 1, not {max_keys}")
        self.max_keys = int(max_keys)
        self.keyed: OrderedDict[Any, KeyRace] = OrderedDict()
        self.evicted = 0
        #: each key's figures, when the keys raced on Spark's executors (see absorb)
        self.figures: OrderedDict[str, dict[str, Any]] = OrderedDict()
        #: there, each key's group in Spark's state store, and those the last batch evicted
        self.groups: dict[str, str] = {}
        self.evicted_groups: list[str] = []
        # one thread per key's race: keys are many, and their races small
        self._settings = (args, {**kwargs, "workers": 1})
        self._features: tuple[tuple[str, ...], np.ndarray] | None = None

    def set_features(self, names: tuple[str, ...], categorical: np.ndarray) -> None:
        super().set_features(names, categorical)
        self._features = (names, categorical)

    def _race_of(self, key: Any) -> KeyRace:
        race = self.keyed.get(key)
        if race is not None:
            self.keyed.move_to_end(key)
            return race
        args, kwargs = self._settings
        race = KeyRace({n: m.clone() for n, m in self.models.items()}, *args, **kwargs)
        if self._features is not None:
            race.set_features(*self._features)
        for name in self.failed:  # a model that failed anywhere is out of every race
            race.failed[name] = self.failed[name]
        self.keyed[key] = race
        return race

    def step_keys(
        self,
        X: np.ndarray,
        y: np.ndarray,
        keys: np.ndarray,
        labelled: np.ndarray | None = None,
        categorical: dict[str, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]:
        """Each key's records through its own race; predictions in stream order, by model.

        ``categorical`` holds the values of the categorical features (the last
        columns of ``X``), which each key's race codes its own way.
        """
        n = len(y)
        self.last_failures, self.last_alarms = {}, []
        codes, uniques = pd.factorize(np.asarray(keys, dtype=object), use_na_sentinel=False)
        order = np.argsort(codes, kind="stable")
        cuts = np.searchsorted(codes[order], np.arange(len(uniques) + 1)).tolist()
        names = list(self.running)
        out: dict[str, np.ndarray] = {
            name: np.empty(n, dtype=self.models[name]._prediction_dtype()) for name in names
        }
        cold = dict.fromkeys(names, 0)
        for g, key in enumerate(uniques.tolist()):
            rows = order[cuts[g] : cuts[g + 1]]
            race = self._race_of(key)
            before = {name: race.scores[name].cold_start for name in names}
            own = {name: values[rows] for name, values in (categorical or {}).items()}
            preds = race.step_values(
                race.own_codes(X[rows], own),
                y[rows],
                None if labelled is None else labelled[rows],
                missing=-1,
            )
            for name, index in race.last_failures.items():
                if name not in self.failed:
                    self._fail_at(name, race.failed[name], int(rows[index]))
            for name in names:
                if name in preds:
                    out[name][rows] = preds[name]
                    cold[name] += race.scores[name].cold_start - before[name]
        # past max_keys the keys unseen for longest go, once every key of the batch has
        # raced: a key held before the batch is not evicted by new keys ahead of it
        while len(self.keyed) > self.max_keys:
            self.keyed.popitem(last=False)
            self.evicted += 1
        return self._score_overall(out, y, labelled, cold)

    def step(
        self, X: np.ndarray, y: np.ndarray, labelled: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        raise ConfigError("a per-key race needs each record's key: use step_keys")

    def forget(self, evicted: list[str]) -> OrderedDict[str, dict[str, Any]]:
        """Keys Spark's state store evicted (idle too long); returns the figures table."""
        self.groups = getattr(self, "groups", {})  # a checkpoint of an older release
        for key in evicted:
            self.groups.pop(key, None)
            if self.figures.pop(key, None) is not None:
                self.evicted += 1
        return self.figures

    def absorb(
        self,
        reports: list[Any],
        evicted: list[str],
        y: np.ndarray,
        positions: tuple[np.ndarray, np.ndarray],
        labelled: np.ndarray | None,
        encode: Callable[[np.ndarray], np.ndarray],
    ) -> dict[str, np.ndarray]:
        """Score a batch whose keys raced on Spark's executors, from their reports.

        ``reports`` (:class:`~streamlearn.engines.spark.key_races.KeyReport`,
        in order of each key's first record) hold each key's predictions,
        cold starts, figures and failures; ``encode`` turns predicted values
        into the run's class codes. Overall figures are scored in stream
        order, exactly as :meth:`step_keys` scores them.
        """
        n = len(y)
        self.last_failures, self.last_alarms = {}, []
        names = list(self.running)
        out: dict[str, np.ndarray] = {
            name: np.empty(n, dtype=self.models[name]._prediction_dtype()) for name in names
        }
        cold = dict.fromkeys(names, 0)
        figures = self.forget(evicted)
        self.evicted_groups = []
        index = pd.MultiIndex.from_arrays(positions)
        for report in reports:
            rows = index.get_indexer(pd.MultiIndex.from_arrays([report.partitions, report.offsets]))
            for name in names:
                if name in report.predictions:
                    out[name][rows] = encode(report.predictions[name])
                    cold[name] += report.cold.get(name, 0)
            for name, (failure, at) in report.failed.items():
                if name not in self.failed:
                    self._fail_at(name, failure, int(rows[at]))
            figures[report.key] = report.figures
            figures.move_to_end(report.key)
            self.groups[report.key] = report.group
        while len(figures) > self.max_keys:  # as _race_of: Spark's state store follows
            gone, _ = figures.popitem(last=False)
            self.evicted += 1
            self.evicted_groups.append(self.groups.pop(gone, repr(gone)))
        return self._score_overall(out, y, labelled, cold)

    def _score_overall(
        self,
        out: dict[str, np.ndarray],
        y: np.ndarray,
        labelled: np.ndarray | None,
        cold: dict[str, int],
    ) -> dict[str, np.ndarray]:
        """Every labelled record's prediction scored in stream order, as one race would."""
        n = len(y)
        scored = slice(None) if labelled is None else labelled
        if labelled is not None:
            self.unlabelled += n - int(labelled.sum())
        for name, preds in out.items():
            if name not in self.failed:
                self._score(name, preds[scored], y[scored], cold[name])
        self.batches += 1
        self.records += n
        return {k: v for k, v in out.items() if k not in self.failed}

    def _fail_at(self, name: str, failure: Any, row: int) -> None:
        failure = dict(failure)
        failure["record"] = self.records + row + 1
        self.failed[name] = failure  # type: ignore[assignment]
        self.last_failures[name] = row
        for race in self.keyed.values():
            race.failed.setdefault(name, self.failed[name])

    def per_key(self, limit: int = PER_KEY_REPORTED) -> PerKeyReport:
        """Figures of each key's race (the ``limit`` most recently seen keys), and counts."""
        metric = "accuracy" if self.task == "classification" else "mse"
        figures = self.figures
        if figures:  # the keys raced on Spark's executors: their reported figures
            shown = list(figures.items())[-limit:]
            return {
                "key": "",
                "keys_held": len(figures),
                "evicted_keys": self.evicted,
                "metric": metric,
                "keys": {k: {n: f for n, f in v.items() if n in self.models} for k, v in shown},
            }
        listed = list(self.keyed.items())[-limit:]
        keys: dict[str, dict[str, Any]] = {}
        for key, race in listed:
            keys[str(key)] = {
                name: {"predicted": s.predicted, metric: s.to_dict().get(metric)}
                for name, s in race.scores.items()
                if name in self.models
            }
        return {
            "key": "",
            "keys_held": len(self.keyed),
            "evicted_keys": self.evicted,
            "metric": metric,
            "keys": keys,
        }
