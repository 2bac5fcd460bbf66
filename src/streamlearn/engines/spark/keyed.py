"""Keyed state on Spark: ``applyInPandasWithState``, mirrored on the driver.

Each task decodes its records and hands each keyed step its records per key
(``tag``), as one block of decoded columns per key (:mod:`.blocks`); Spark
groups the blocks by ``(step, key)`` and :func:`update` runs the step's own
code on the key's records of the micro-batch, in stream order, with the
key's state from Spark's state store. So the state lives in Spark's
checkpoint and is exactly what the local engine computes. The records
themselves pass through the operator unchanged (``step = -1``), one block
per task, to ``foreachBatch``.

Each update also emits one small row with the key's new state; on the driver
:class:`KeyedMirror` stands in for the step and copies these into the step's
own store, in order of first appearance, so summaries, observers and
checkpoints see the same state as on the local engine. Keys idle for
``timeout_ms`` (processing time) are dropped from Spark's state, which bounds
it; the mirror keeps the step's ``max_keys`` bound.
"""

from __future__ import annotations

import builtins
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pyspark import cloudpickle

from streamlearn import errors as sl_errors
from streamlearn.engines.spark.blocks import (
    COLUMNS,
    DATA,
    ERROR,
    EVICT,
    EVICTED,
    REPORT,
    STATE,
    from_key_blocks,
    key_blocks,
    record_block,
)
from streamlearn.engines.spark.worker import WorkerPlan, raw_from_pandas
from streamlearn.errors import UserCodeError
from streamlearn.records.batch import RecordBatch
from streamlearn.steps.base import Step
from streamlearn.steps.keyed import KeyedState, KeyedStats, KeyedStep
from streamlearn.steps.store import evictions_deferred

__all__ = [
    "KEYED_SCHEMA",
    "REPORT",
    "STATE_SCHEMA",
    "KeyedMirror",
    "KeyedRow",
    "error_info",
    "key_rows",
    "make_tagger",
    "make_updater",
    "note_row",
    "rebuild_error",
]

KEYED_SCHEMA = (
    "partition int, offset long, payload binary, key binary, "
    "_kind int, _step int, _key string, _blob binary"
)
STATE_SCHEMA = "blob binary"


def error_info(exc: BaseException) -> dict[str, Any]:
    """A picklable account of an exception raised on an executor."""
    if isinstance(exc, UserCodeError):
        return {
            "user": True,
            "step": exc.step,
            "record": exc.record,
            "traceback": exc.user_traceback,
            "key": exc.key,
            "position": exc.position,
        }
    message = exc.args[0] if len(exc.args) == 1 else str(exc)
    return {
        "user": False,
        "type": type(exc).__name__,
        "module": type(exc).__module__,
        "message": message,
        "traceback": "".join(traceback.format_exception(exc)),
    }


def rebuild_error(info: dict[str, Any], batch_id: int) -> BaseException:
    """The exception the local engine would raise, from :func:`error_info`."""
    if info["user"]:
        return UserCodeError(
            info["step"],
            batch_id + 1,
            info["record"],
            info["traceback"],
            info["key"],
            info["position"],
        )
    name, module, message = info["type"], info["module"], info["message"]
    cls = getattr(sl_errors, name, None) if module == sl_errors.__name__ else None
    if cls is None and module == "builtins":
        cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(message)
        except TypeError:
            pass
    return RuntimeError(f"{name}: {message}\n{info['traceback']}")


def _rows(pdf: pd.DataFrame, kind: int, step: int, keys: list[str]) -> pd.DataFrame:
    out = pdf[["partition", "offset", "payload", "key"]].copy()
    out["_kind"] = np.int32(kind)
    out["_step"] = np.int32(step)
    out["_key"] = keys
    out["_blob"] = None
    return out


def note_row(
    kind: int, step: int, key: str, partition: int, offset: int, blob: bytes
) -> pd.DataFrame:
    """One row of the keyed operator's output that is no record (a state, a report...)."""
    return pd.DataFrame(
        {
            "partition": np.array([partition], dtype=np.int32),
            "offset": np.array([offset], dtype=np.int64),
            "payload": [None],
            "key": [None],
            "_kind": np.array([kind], dtype=np.int32),
            "_step": np.array([step], dtype=np.int32),
            "_key": [key],
            "_blob": [blob],
        },
        columns=COLUMNS,
    )


def make_tagger(
    plan: WorkerPlan, keyed: list[int]
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """The ``mapInPandas`` function: each record, plus one copy per keyed step with its key."""

    def tag(chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in chunks:
            if plan.record_blocks:
                yield record_block(pdf)
            else:  # one row each (batch prediction adds a column to each record's row)
                bucket = (
                    pdf["partition"].to_numpy(np.int64) * 4 + pdf["offset"].to_numpy() // 4096 % 4
                )
                found, inverse = np.unique(bucket, return_inverse=True)
                names = np.array([f"{b // 4}:{b % 4}" for b in found.tolist()], dtype=object)
                yield _rows(pdf, DATA, -1, names[inverse].tolist())
            raw = raw_from_pandas(pdf, plan.origin, plan.position_kind)
            done, stage = 0, keyed[0] if keyed else 0
            try:
                batch = plan.decode(raw)
                for stage in keyed:
                    batch = plan.transform_range(batch, done, stage)
                    done = stage
                    if plan.units is not None and stage == plan.units.stage:  # per model
                        for key in plan.units.group_keys:
                            yield key_blocks(batch, stage, [key] * len(batch), None)
                        continue
                    if plan.race is not None and stage == plan.race.stage:  # a race per key
                        keys = [repr(k) for k in plan.race.keys_of(batch)]
                        yield key_blocks(batch, stage, keys, None)
                        continue
                    step = plan.steps[stage]
                    assert isinstance(step, KeyedStep)
                    fan_out = getattr(step, "fan_out", None)
                    if fan_out is not None:  # every record to each key
                        for k in fan_out:
                            yield key_blocks(batch, stage, [repr(k)] * len(batch), step.reads)
                        continue
                    values = step.keys_of(batch)
                    # Python values, as the step's store holds them: the driver evicts by them
                    named = values.tolist() if plan.evictions else values
                    yield key_blocks(batch, stage, [repr(k) for k in named], step.reads)
            except Exception as exc:
                # the driver raises it when it reaches this step, as the local engine would
                # (step -1: it passes the keyed operator untouched; the key names the step)
                first = (
                    (int(pdf["partition"].iloc[0]), int(pdf["offset"].iloc[0]))
                    if len(pdf)
                    else (0, 0)
                )
                yield note_row(
                    ERROR, -1, f"error:{stage}", *first, cloudpickle.dumps(error_info(exc))
                )

    return tag


def make_updater(
    plan: WorkerPlan, timeout_ms: int
) -> Callable[[Any, Iterator[pd.DataFrame], Any], Iterator[pd.DataFrame]]:
    """The ``applyInPandasWithState`` function: one key of one keyed step, one micro-batch."""

    configured = {i: getattr(s, "columns", None) for i, s in enumerate(plan.steps)}

    def update(group: Any, chunks: Iterator[pd.DataFrame], state: Any) -> Iterator[pd.DataFrame]:
        stage, key_text = int(group[0]), str(group[1])
        if stage < 0:  # records (and tagging errors) on their way to foreachBatch
            yield from chunks
            return
        if plan.units is not None and stage == plan.units.stage:
            yield from plan.units.update(plan, key_text, chunks, state)
            return
        if plan.race is not None and stage == plan.race.stage:
            yield from _race_update(plan, stage, key_text, chunks, state, timeout_ms)
            return
        if state.hasTimedOut:
            saved = cloudpickle.loads(state.get[0])
            state.remove()
            blob = cloudpickle.dumps(
                {"states": {}, "dropped": list(saved["states"]), "evicted": True}
            )
            yield note_row(EVICTED, stage, key_text, -1, -1, blob)
            return
        pdf = key_rows(chunks, state)
        if pdf is None:
            return
        first = (int(pdf["partition"].iloc[0]), int(pdf["offset"].iloc[0]))
        saved = cloudpickle.loads(state.get[0]) if state.exists else {"states": {}, "columns": None}
        template = plan.steps[stage]
        assert isinstance(template, KeyedStep)
        step = template.fresh()
        if isinstance(step, KeyedState) and step.fan_out is not None:
            step.fan_out = tuple(k for k in step.fan_out if repr(k) == key_text)
        for key, value in saved["states"].items():
            step.store.put(key, value)
        if isinstance(step, KeyedStats):
            # the key's own choice, else the step's setting (an earlier call may have picked)
            step.columns = saved["columns"] or configured[stage]
        try:
            step.apply(from_key_blocks(plan, pdf["_blob"].tolist()))
        except Exception as exc:
            yield note_row(ERROR, stage, key_text, *first, cloudpickle.dumps(error_info(exc)))
            return
        states = dict(step.store.items())
        columns = step.columns if isinstance(step, KeyedStats) else None
        dropped = [k for k in saved["states"] if k not in states]
        if states:
            state.update((cloudpickle.dumps({"states": states, "columns": columns}),))
            state.setTimeoutDuration(timeout_ms)
        elif state.exists:
            state.remove()
        blob = cloudpickle.dumps({"states": states, "dropped": dropped, "columns": columns})
        yield note_row(STATE, stage, key_text, *first, blob)

    return update


def key_rows(chunks: Iterator[pd.DataFrame], state: Any) -> pd.DataFrame | None:
    """A key's rows of the micro-batch in stream order, once any eviction the driver
    ordered (see :mod:`.evictions`) has dropped its state; ``None`` if no records remain."""
    pdf = pd.concat(list(chunks), ignore_index=True)
    evict = pdf["_kind"].to_numpy() == EVICT
    if evict.any():
        if state.exists:
            state.remove()
        pdf = pdf[~evict]
    if not len(pdf):
        return None
    return pdf.sort_values(["partition", "offset"], kind="stable")


def _race_update(
    plan: WorkerPlan,
    stage: int,
    key_text: str,
    chunks: Iterator[pd.DataFrame],
    state: Any,
    timeout_ms: int,
) -> Iterator[pd.DataFrame]:
    """One key's race over its records of the micro-batch, its state in Spark's store."""
    assert plan.race is not None
    if state.hasTimedOut:  # idle too long: the key starts afresh if it comes back
        gone = cloudpickle.loads(state.get[0])
        state.remove()
        yield note_row(EVICTED, stage, key_text, -1, -1, str(gone.key_name).encode())
        return
    pdf = key_rows(chunks, state)
    if pdf is None:
        return
    first = (int(pdf["partition"].iloc[0]), int(pdf["offset"].iloc[0]))
    race = cloudpickle.loads(state.get[0]) if state.exists else plan.race.fresh()
    try:
        batch = from_key_blocks(plan, pdf["_blob"].tolist())
        report = plan.race.run(race, batch)
        report.key = race.key_name = str(plan.race.keys_of(batch)[0]) if len(batch) else key_text
        report.group = key_text
    except Exception as exc:
        yield note_row(ERROR, stage, key_text, *first, cloudpickle.dumps(error_info(exc)))
        return
    state.update((cloudpickle.dumps(race),))
    state.setTimeoutDuration(timeout_ms)
    yield note_row(REPORT, stage, key_text, *first, cloudpickle.dumps(report))


@dataclass(frozen=True)
class KeyedRow:
    """What Spark's keyed operator reported for one key of one step."""

    kind: int
    partition: int
    offset: int
    blob: bytes


class KeyedMirror(Step):
    """Stands in for a keyed step on the driver: installs the states Spark computed."""

    scope = "observe"

    def __init__(self, original: KeyedStep) -> None:
        self.original = original
        self.step_id = original.step_id
        self.reads = original.reads
        self.pending: list[KeyedRow] = []
        #: the groups of the keys the last batch evicted past ``max_keys`` (see .evictions)
        self.evicted_groups: list[str] = []

    def apply(self, batch: RecordBatch) -> RecordBatch:
        rows, self.pending = sorted(self.pending, key=lambda r: (r.partition, r.offset)), []
        failed = [r for r in rows if r.kind == ERROR]
        if failed:
            raise rebuild_error(cloudpickle.loads(failed[0].blob), batch.batch_id)
        store = self.original.store
        decoded = [cloudpickle.loads(r.blob) for r in rows]
        put = [key for news in decoded for key in news["states"]]
        store.touch(put)  # as the local engine
        # as the local step: the bound applies once the batch's keys are in
        with evictions_deferred(store) as gone:
            for news in decoded:
                for key in news["dropped"]:
                    if store.pop(key) is not None and news.get("evicted"):
                        store.evicted += 1
                for key, value in news["states"].items():
                    store.put(key, value)
                    if isinstance(self.original, KeyedState) and not self.original.warned:
                        self.original.check_growth(key, value)
                if isinstance(self.original, KeyedStats) and self.original.columns is None:
                    self.original.columns = news.get("columns")
        self.evicted_groups = [repr(k) for k in gone]  # Spark's state store drops them too
        return batch

    def snapshot(self) -> Any:
        return self.original.snapshot()

    def restore(self, state: Any) -> None:
        self.original.restore(state)

    def describe(self) -> dict[str, Any] | None:
        return self.original.describe()

    def close(self) -> None:
        self.original.close()
