"""What to run: a pipeline definition, independent of the engine that runs it.

A pipeline is source -> codec -> micro-batches -> steps -> race -> sinks.
Build one in Python, or let the CLI build it from flags; then hand it to an
engine (:func:`streamlearn.run`).

Examples
--------
>>> from streamlearn import Pipeline
>>> from streamlearn.testing import MemorySource
>>> rows = [{"x": float(i), "y": 2.0 * i} for i in range(100)]
>>> p = Pipeline(MemorySource(rows), task="regression", target="y", models=["mean"])
>>> p.batch_size
1000
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from streamlearn.errors import ConfigError
from streamlearn.records.schema import Schema
from streamlearn.sources.base import Source
from streamlearn.sources.registry import SourceSpec, parse_source
from streamlearn.steps.base import Step, check_unique_ids
from streamlearn.types import (
    GRANULARITIES,
    NONFINITE,
    TASKS,
    Granularity,
    Nonfinite,
    Task,
    UntilMode,
    check,
)

if TYPE_CHECKING:
    pass

__all__ = ["TASKS", "Pipeline", "Until", "fingerprint", "parse_delay", "parse_until"]


@dataclass(frozen=True)
class Until:
    """When a run stops: at the end of a bounded source, after idle seconds, or a count."""

    mode: UntilMode = "end"
    value: float = 0.0

    def __str__(self) -> str:
        return self.mode if self.mode == "end" else f"{self.mode}:{self.value:g}"


def parse_delay(value: int | str) -> tuple[int, float | None]:
    """``--delay``: records (``"500"``), or seconds of event time (``"5s"``, ``"1.5s"``).

    Returns the delay in records and, for seconds, the seconds (else ``None``).

    >>> parse_delay("5s"), parse_delay(20), parse_delay("0")
    ((0, 5.0), (20, None), (0, None))
    """
    text = str(value).strip()
    try:
        if text.endswith("s"):
            seconds = float(text[:-1])
            if seconds >= 0 and seconds == seconds and seconds != float("inf"):
                return 0, seconds
        else:
            records = int(text)
            if records >= 0:
                return records, None
    except ValueError:
        pass
    raise ConfigError(
        f"--delay must be a number of records >= 0 or seconds such as 5s, not {value!r}"
    )


def parse_until(text: str) -> Until:
    """Parse ``end``, ``idle:SECONDS`` or ``count:N``.

    Examples
    --------
    >>> parse_until("idle:5")
    Until(mode='idle', value=5.0)
    """
    mode, _, value = text.strip().partition(":")
    if mode == "end" and not value:
        return Until()
    if mode in ("idle", "count"):
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if number > 0 and (mode == "idle" or number.is_integer()):
            return Until("idle" if mode == "idle" else "count", number)
    raise ConfigError(f"--until must be end, idle:SECONDS or count:N, not {text!r}")


@dataclass
class Pipeline:
    """A stream-learning pipeline.

    Parameters
    ----------
    source
        A :class:`~streamlearn.sources.base.Source`, a :class:`SourceSpec` or
        a spec string such as ``"kafka:dataLinearModel"`` or ``"linear"``.
    format
        Payload codec: ``literal``, ``json``, ``csv`` or ``auto``; default:
        the source's (a topic's is decided by majority over its first messages).
    schema
        Fields and roles; default: what the source knows (the course layout,
        HHAR for the activity generator) or what a sample of the records
        shows (types by majority, see :mod:`streamlearn.codecs.infer`).
    target, features, categorical, key
        Roles; ``features`` are exactly the features. Only the fields the run
        uses are decoded and validated.
    types
        Fields' types, pinned: ``{"x": "float", "user": "category"}`` or
        ``"x:float,user:category"`` (``--types``).
    delimiter, header, columns
        How delimited text is cut, when its first lines should not decide
        (``--delimiter``, ``--no-header``, ``--columns``).
    task, models
        What to learn and the learners to race: spec strings, learners, your
        own River, scikit-learn or plain objects, ``(name, model)`` pairs, or
        a dict of name to model.
    steps
        Transformations applied to each batch before the race.
    fail_fast
        Stop the run when a learner raises; by default the learner is marked
        failed and the others race on (``--fail-fast``).
    delay
        Labels arrive this many records after their features (``--delay``):
        each record is predicted on arrival and learned and scored when its
        label comes (:mod:`streamlearn.evaluate.delayed`). 0: no delay.
        ``"5s"``: this many seconds of event time after their record (the
        Kafka message timestamps; :mod:`streamlearn.evaluate.joined`).
    labels, join_key, label_timeout, max_pending
        Labels come on another Kafka topic (``--labels kafka:TOPIC``), JSON
        objects holding the ``join_key`` field and the target; each record
        is predicted on arrival and learned and scored when its label comes,
        in event-time order. Records wait at most ``label_timeout`` seconds
        (``None``: no limit) and at most ``max_pending`` of them (with labels
        that came first) at once.
    per_key, max_keys
        One race per value of this column (``--per-key``), at most
        ``max_keys`` keys held (:mod:`streamlearn.evaluate.per_key`).
    workers
        Models of a race stepped at once (``--workers``): on threads, or
        processes for learners that keep the GIL; on Spark, above 1, each
        model is a unit of state trained on the executors
        (:mod:`streamlearn.engines.spark.race_units`).
    """

    source: Source | SourceSpec | str
    task: Task | None = None
    models: Sequence[Any] | Mapping[str, Any] = ()
    format: str | None = None
    schema: Schema | None = None
    target: str | None = None
    features: Sequence[str] | None = None
    categorical: Sequence[str] | None = None
    key: str | None = None
    types: Mapping[str, str] | str | None = None
    delimiter: str | None = None
    header: bool | None = None
    columns: Sequence[str] | None = None
    steps: list[Step] = field(default_factory=list)
    granularity: Granularity = "record"
    train_budget: int | None = None
    window: int = 1000
    batch_size: int = 1000
    batch_interval: float | None = None
    until: Until = field(default_factory=Until)
    nonfinite: Nonfinite = "dead-letter"
    fail_fast: bool = False
    delay: int | str = 0
    labels: str | None = None
    join_key: str | None = None
    label_timeout: float | None = None
    max_pending: int = 100_000
    #: ``delay`` in seconds when given so (``"5s"``), set from it
    delay_seconds: float | None = field(default=None, init=False)
    per_key: str | None = None
    max_keys: int = 10_000
    workers: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.source, str):
            self.source = parse_source(self.source)
        if self.task is not None:
            check("task", self.task, TASKS)
        if self.models and self.task is None:
            raise ConfigError("models need a --task (regression or classification)")
        check("granularity", self.granularity, GRANULARITIES)
        check("nonfinite", self.nonfinite, NONFINITE)
        records, self.delay_seconds = parse_delay(self.delay)
        # seconds stay text ("5s"), so a copy (dataclasses.replace) parses them again
        self.delay = records if self.delay_seconds is None else f"{self.delay_seconds:g}s"
        self._check_labels()
        if self.max_keys < 1:
            raise ConfigError(f"--max-keys must be at least 1, not {self.max_keys}")
        if self.workers < 1:
            raise ConfigError(f"--workers must be at least 1, not {self.workers}")
        if self.per_key and self.delay:
            raise ConfigError("--per-key and --delay do not combine yet")
        if self.per_key and self.key and self.per_key != self.key:
            raise ConfigError(
                f"--per-key {self.per_key} and --key {self.key} name different columns"
            )
        if self.delay and self.granularity != "record":
            raise ConfigError("--delay needs --granularity record (each record learned on its own)")
        check_unique_ids("step", (s.step_id for s in self.steps))
        if self.delimiter is not None and (len(self.delimiter) != 1 or self.delimiter in '\r\n"'):
            raise ConfigError(f"--delimiter must be one character, not {self.delimiter!r}")
        if isinstance(self.source, SourceSpec) and (
            self.delimiter or self.header is not None or self.columns
        ):
            self.source = replace(
                self.source,
                delimiter=self.delimiter,
                header=self.header,
                columns=tuple(self.columns) if self.columns else None,
            )
        if self.batch_size < 1:
            raise ConfigError("--batch-size must be at least 1")
        if self.batch_interval is not None and self.batch_interval <= 0:
            raise ConfigError("--batch-interval must be positive")
        if self.train_budget is not None and self.train_budget < 0:
            raise ConfigError("--train-budget must be >= 0")
        if self.window < 1:
            raise ConfigError("window must be at least 1")
        if isinstance(self.until, str):
            self.until = parse_until(self.until)

    def _check_labels(self) -> None:
        """Labels joined by event time need timestamps: a Kafka source, one record at a time."""
        if self.max_pending < 1:
            raise ConfigError(f"--max-pending must be at least 1, not {self.max_pending}")
        if self.label_timeout is not None and self.label_timeout < 0:
            raise ConfigError(f"--label-timeout must be >= 0 seconds, not {self.label_timeout}")
        if self.labels is None:
            if self.join_key is not None:
                raise ConfigError("--join-key needs --labels kafka:TOPIC")
            if self.delay_seconds is None:
                return
        elif not self.labels.startswith("kafka:") or not self.labels[6:]:
            raise ConfigError(f"--labels takes kafka:TOPIC, not {self.labels!r}")
        elif self.join_key is None:
            raise ConfigError(
                "--labels needs --join-key FIELD (the field records and labels share)"
            )
        elif self.delay or self.delay_seconds is not None:
            raise ConfigError("--labels and --delay do not combine: the label topic sets the delay")
        flag = "--labels" if self.labels is not None else "--delay SECONDS"
        if not self.models:
            raise ConfigError(f"{flag} needs models to race")
        spec = self.source if isinstance(self.source, SourceSpec) else None
        if spec is None or spec.kind != "kafka":
            raise ConfigError(
                f"{flag} needs the records' event times: a kafka:TOPIC source "
                "(for files, give --delay as a number of records)"
            )
        if self.per_key:
            raise ConfigError(f"--per-key and {flag} do not combine yet")
        if self.granularity != "record":
            raise ConfigError(f"{flag} needs --granularity record (each record learned on its own)")

    # -- fluent building ------------------------------------------------------
    def then(self, step: Step) -> Pipeline:
        """Append a step; returns the pipeline for chaining."""
        check_unique_ids("step", [*(s.step_id for s in self.steps), step.step_id])
        self.steps.append(step)
        return self

    @property
    def source_spec(self) -> SourceSpec | None:
        return self.source if isinstance(self.source, SourceSpec) else None

    def build_source(self) -> Source:
        if isinstance(self.source, SourceSpec):
            return self.source.build()
        assert isinstance(self.source, Source)
        return self.source


def _model_texts(models: Sequence[Any] | Mapping[str, Any]) -> list[str]:
    """Stable text of each model: specs as given, objects by repr (by class when it holds an address)."""
    from streamlearn.learn.registry import named_models

    out = []
    for name, m in named_models(models):
        text = m if isinstance(m, str) else " ".join(repr(m).split())
        if " at 0x" in text:  # the default repr: differs from run to run
            text = f"{type(m).__module__}.{type(m).__qualname__}"
        out.append(text if name is None else f"{name}={text}")
    return out


def fingerprint(pipeline: Pipeline) -> str:
    """A digest of what determines a run's results, to match checkpoints to pipelines."""
    import hashlib

    src = pipeline.source
    source_text = (
        src.text
        if isinstance(src, SourceSpec)
        else f"{type(src).__name__}:{getattr(src, 'origin', src)}"
    )
    parts = [
        source_text,
        str(pipeline.task),
        *_model_texts(pipeline.models),
        str(pipeline.format),
        str(pipeline.target),
        str(pipeline.features),
        str(pipeline.categorical),
        str(pipeline.key),
        str(pipeline.types),
        str(pipeline.delimiter),
        str(pipeline.header),
        str(pipeline.columns),
        pipeline.granularity,
        str(pipeline.train_budget),
        *([f"delay={pipeline.delay}"] if pipeline.delay else []),
        *([f"delay_s={pipeline.delay_seconds}"] if pipeline.delay_seconds is not None else []),
        *(
            [f"labels={pipeline.labels},{pipeline.join_key},{pipeline.label_timeout}"]
            if pipeline.labels
            else []
        ),
        *(
            [f"max_pending={pipeline.max_pending}"]
            if pipeline.labels or pipeline.delay_seconds
            else []
        ),
        *([f"per_key={pipeline.per_key},{pipeline.max_keys}"] if pipeline.per_key else []),
        str(pipeline.batch_size),
        str(pipeline.window),
        *[s.step_id for s in pipeline.steps],
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]
