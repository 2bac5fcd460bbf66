"""The ``--metrics-json`` document, as types: what a run returns and writes.

:class:`RunSummary` is the contract of DESIGN.md's ``--metrics-json``
section plus the keys added since; scripts can rely on every key marked
required. Per model, :class:`ModelMetrics` holds accuracy figures for
classification and error figures for regression.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from streamlearn.types import Granularity, Task

__all__ = [
    "DelayDistribution",
    "DriftReport",
    "LabelCounts",
    "ModelFailure",
    "ModelMetrics",
    "PerKeyReport",
    "RunSummary",
    "Significance",
    "Standing",
]


class ModelMetrics(TypedDict, total=False):
    """One model's prequential figures (``models`` in the summary)."""

    predicted: int
    cold_start: int
    # classification
    accuracy: float
    correct: int
    correct_in_batch: int
    windowed_accuracy: float
    faded_accuracy: float
    # regression
    mse: float
    mae: float
    windowed_mse: float
    faded_mse: float
    #: what the learner itself reports: capped and skipped updates, failed fits, overflow...
    diagnostics: dict[str, Any]
    #: set when the learner raised: it stopped there, its figures cover the records before
    failed: ModelFailure
    #: drift alarms of the model's errors (Page-Hinkley)
    drift: DriftReport
    #: the model of which this one is a member (``auto``'s portfolio)
    member_of: str


class DriftReport(TypedDict):
    """Drift alarms on a model's errors (``models[name]["drift"]``)."""

    alarms: int
    #: 1-based record numbers of the latest alarms
    records: list[int]


class DelayDistribution(TypedDict):
    """How late the joined labels came (``labels.delay_s``), in seconds of event time."""

    count: int
    mean_s: float
    p50_s: float
    p90_s: float
    p99_s: float
    max_s: float
    #: non-empty bins: delays up to ``up_to_s`` (``None``: the open last bin) and their count
    bins: list[dict[str, Any]]


class LabelCounts(TypedDict):
    """Labels under delay (``labels``): learned and scored, still pending, never come.

    Every record predicted is exactly one of: ``labelled``, ``pending``,
    ``unlabeled_expired``, ``evicted`` or ``unlabelled``.
    """

    #: records between a record's arrival and its label's (0: none, or labels joined by key)
    delay: int
    #: records whose label came: learned from and scored
    labelled: int
    #: records still waiting for their label at the end (predicted, not scored)
    pending: int
    #: records whose label did not come within the timeout (not learned)
    unlabeled_expired: int
    #: the most records (and early labels) that waited at once
    max_pending: int
    #: records that came without a label (null or empty), or without a usable join key:
    #: served, neither learned nor scored
    unlabelled: NotRequired[int]
    #: the simulated delay in seconds (``--delay 5s``)
    delay_seconds: NotRequired[float]
    #: records pushed out of the pending store by ``--max-pending`` (not learned)
    evicted: NotRequired[int]
    #: labels for a key already labelled (the first wins)
    duplicates: NotRequired[int]
    #: labels dead-lettered: no record claimed their key in time, or it had expired
    unknown_keys: NotRequired[int]
    #: labels waiting for their record at the end
    early_labels: NotRequired[int]
    #: how late the joined labels came
    delay_s: NotRequired[DelayDistribution]
    #: records read from the label topic, and of them dead-lettered as malformed
    label_records: NotRequired[int]
    malformed_labels: NotRequired[int]


class PerKeyReport(TypedDict):
    """One race per key (``per_key``): each key's figures and the bound on keys."""

    #: the column whose values are the keys
    key: str
    keys_held: int
    #: keys dropped past ``--max-keys`` (least recently seen first)
    evicted_keys: int
    #: ``accuracy`` or ``mse``
    metric: str
    #: key -> model -> {"predicted", metric}, for the most recently seen keys (up to 1,000)
    keys: dict[str, dict[str, dict[str, Any]]]


class ModelFailure(TypedDict):
    """Why and where a learner stopped (``models[name]["failed"]``)."""

    error: str
    #: 1-based number of the record it was learning, among the records the race saw
    record: int
    #: 1-based number of the batch
    batch: int
    #: where the record came from (``file.csv:17``, ``topic[0]@42``), when known
    position: NotRequired[str]
    #: the learner's own traceback (streamlearn's frames left out)
    traceback: NotRequired[str]


class Standing(TypedDict):
    """One row of the leaderboard: models ranked by the windowed metric."""

    rank: int
    name: str
    cumulative: float
    windowed: float
    predicted: int
    #: a failed model is listed after the others and is never champion
    failed: NotRequired[bool]
    #: a member of another model's portfolio: shown, never champion
    member_of: NotRequired[str]


class Significance(TypedDict):
    """The paired test of the champion against the runner-up on the latest records."""

    test: str
    champion: str
    runner_up: str
    p_value: float
    window: int


class RunSummary(TypedDict):
    """The metrics after a batch, and at the end of a run (``--metrics-json``)."""

    task: Task | None
    records_consumed: int
    records_predicted: int
    records_filtered: int
    dead_letters: int
    cold_start: int
    batches: int
    granularity: Granularity
    batch_size: int
    train_budget: int | None
    models: dict[str, ModelMetrics]
    champion: str | None
    leaderboard: list[Standing]
    significance: Significance | None
    # at the end of a run
    engine: NotRequired[str]
    elapsed_s: NotRequired[float]
    records_per_s: NotRequired[float]
    #: the source's kind and where it stands (for Kafka: start and end offsets)
    source: NotRequired[dict[str, Any]]
    #: the payload format and each field's type and role (``fields``), as decided or pinned
    schema: NotRequired[dict[str, Any]]
    #: keyed steps' state, by step id
    stats: NotRequired[dict[str, Any]]
    #: values that found a full category vocabulary, by column (``(labels)``: class labels)
    category_overflow: NotRequired[dict[str, int]]
    #: one race per key (``--per-key``)
    per_key: NotRequired[PerKeyReport]
    #: labels learned, pending and expired (``--delay``, ``--labels``)
    labels: NotRequired[LabelCounts]
    interrupted: NotRequired[bool]
    #: the signal that interrupted the run (``SIGINT`` or ``SIGTERM``)
    signal: NotRequired[str]
    #: the Spark engine's master URL and figures
    master: NotRequired[str]
    spark: NotRequired[dict[str, Any]]
