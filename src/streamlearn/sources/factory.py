"""Source specs from the CLI (``kafka:TOPIC``, ``linear``, ``csv:PATH``...) to sources."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from streamlearn.errors import ConfigError, MissingExtraError
from streamlearn.sources.base import Source

__all__ = ["GENERATORS", "SourceSpec", "parse_source"]

GENERATORS = ("linear", "nonlinear", "activity")


@dataclass(frozen=True)
class SourceSpec:
    """What to read, independent of the engine that reads it.

    ``kind`` is ``kafka``, ``csv``, ``json`` (JSON lines), or a generator name.
    """

    kind: str
    target: str = ""
    bootstrap: str = "127.0.0.1:9092"
    count: int | None = None
    rate: float | None = None
    seed: int | None = None
    start: str = "earliest"
    until_end: bool = True
    group: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return f"{self.kind}:{self.target}" if self.target else self.kind

    def build(self) -> Source:
        """Create the source (not yet opened)."""
        if self.kind in ("linear", "nonlinear"):
            from streamlearn.sources.generators.course import LinearSource, NonLinearSource

            cls = LinearSource if self.kind == "linear" else NonLinearSource
            kwargs: dict[str, Any] = {"count": self.count, "rate": self.rate}
            if self.seed is not None:
                kwargs["seed"] = self.seed
            return cls(**kwargs)
        if self.kind == "activity":
            from streamlearn.sources.generators.activity import ActivitySource

            return ActivitySource(count=self.count, seed=self.seed or 0, rate=self.rate)
        if self.kind in ("csv", "json"):
            from streamlearn.sources.files import FileSource

            return FileSource(self.target, fmt=self.kind, count=self.count)
        if self.kind == "kafka":
            try:
                from streamlearn.sources.kafka import KafkaSource
            except ImportError as exc:
                raise MissingExtraError("reading Kafka", "kafka") from exc
            return KafkaSource(
                self.target,
                bootstrap=self.bootstrap,
                group_id=self.group,
                start=self.start,
                until_end=self.until_end,
                default_format="auto",
            )
        raise ConfigError(f"unknown source kind {self.kind!r}")


def parse_source(text: str, **options: Any) -> SourceSpec:
    """Parse ``kafka:TOPIC``, ``csv:PATH``, ``json:PATH`` or a generator name.

    Examples
    --------
    >>> parse_source("kafka:dataLinearModel").target
    'dataLinearModel'
    """
    kind, _, target = text.partition(":")
    kind = kind.strip().lower()
    if kind in GENERATORS:
        if target:
            raise ConfigError(f"source {kind!r} takes no ':' argument")
    elif kind in ("kafka", "csv", "json"):
        if not target:
            raise ConfigError(f"source {kind!r} needs a target: {kind}:{'TOPIC' if kind == 'kafka' else 'PATH'}")
    else:
        raise ConfigError(
            f"unknown source {text!r}; use kafka:TOPIC, csv:PATH, json:PATH, " + ", ".join(GENERATORS)
        )
    return SourceSpec(kind=kind, target=target, **{k: v for k, v in options.items() if v is not None})
