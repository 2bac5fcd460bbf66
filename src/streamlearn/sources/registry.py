"""The source registry: ``--source`` specs (``kafka:TOPIC``, ``linear``, ``csv:PATH``...) to sources.

A kind of source is a module with a builder plus one :func:`register_source`
call. Builders are named as ``"module:function"`` so a kind's module (and
what it imports: numba, confluent-kafka) loads only when the kind is used.

Examples
--------
>>> spec = parse_source("kafka:dataLinearModel", bootstrap="127.0.0.1:9092")
>>> spec.kind, spec.target
('kafka', 'dataLinearModel')
>>> [k.name for k in source_kinds() if k.endless]
['linear', 'nonlinear', 'activity']
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from streamlearn._lazy import load
from streamlearn.errors import ConfigError, MissingExtraError

if TYPE_CHECKING:
    from streamlearn.sources.base import Source

__all__ = [
    "SourceKind",
    "SourceSpec",
    "build_source",
    "is_endless",
    "parse_source",
    "register_source",
    "source_kinds",
    "source_usage",
]


@dataclass(frozen=True)
class SourceSpec:
    """What to read, independent of the engine that reads it.

    ``kind`` is a registered kind (``kafka``, ``csv``, ``json``, a generator);
    ``target`` what follows its colon (a topic, a path). The other fields
    apply to the kinds that use them.
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
    #: seconds without an answer from Kafka before a run stops (``--broker-timeout``)
    broker_timeout: float = 30.0
    #: how a delimited text file is cut, when its first lines should not decide
    delimiter: str | None = None
    header: bool | None = None
    columns: tuple[str, ...] | None = None
    #: NumPy's max_line_width of the course generators' messages (75: Kafka version, 1000: socket)
    line_width: int = 75

    @property
    def text(self) -> str:
        return f"{self.kind}:{self.target}" if self.target else self.kind

    def build(self) -> Source:
        """Create the source (not yet opened)."""
        return build_source(self)


#: a builder, or ``"module:function"`` naming one
Builder = Callable[[SourceSpec], "Source"] | str


@dataclass(frozen=True)
class SourceKind:
    """A registered kind of source."""

    name: str
    builder: Builder
    #: what follows the colon (``PATH``, ``TOPIC``), or ``None`` when nothing does
    target: str | None = None
    #: never ends by itself: a run needs ``--count`` or ``--until``
    endless: bool = False
    #: ``(module, extra)``: the kind needs ``module``, installed with ``extra``
    needs: tuple[str, str] | None = None
    summary: str = ""

    def build(self, spec: SourceSpec) -> Source:
        if self.needs is not None and importlib.util.find_spec(self.needs[0]) is None:
            raise MissingExtraError(f"the {self.name} source", self.needs[1])
        builder = load(self.builder) if isinstance(self.builder, str) else self.builder
        return builder(spec)  # type: ignore[no-any-return]


_KINDS: dict[str, SourceKind] = {}


def register_source(
    name: str,
    builder: Builder,
    *,
    target: str | None = None,
    endless: bool = False,
    needs: tuple[str, str] | None = None,
    summary: str = "",
) -> None:
    """Make ``name`` (``name:TARGET`` when ``target`` is given) usable as ``--source``.

    ``builder`` makes the source from a :class:`SourceSpec`; ``endless``
    kinds need ``--count`` or ``--until``; ``needs`` is a module the kind
    cannot do without and the extra that installs it.
    """
    _KINDS[name] = SourceKind(name, builder, target, endless, needs, summary)


def source_kinds() -> list[SourceKind]:
    """Registered kinds, in registration order."""
    return list(_KINDS.values())


def build_source(spec: SourceSpec) -> Source:
    kind = _KINDS.get(spec.kind)
    if kind is None:
        raise ConfigError(f"unknown source kind {spec.kind!r}")
    return kind.build(spec)


def source_usage() -> str:
    """The registered kinds as ``--source`` values, for help texts and errors."""
    return ", ".join(
        k.name if k.target is None else f"{k.name}:{k.target}" for k in _KINDS.values()
    )


def parse_source(text: str, **options: object) -> SourceSpec:
    """Parse a ``--source`` value; ``options`` fill the spec's other fields (``None`` skipped).

    Examples
    --------
    >>> parse_source("csv:data/x.csv").target
    'data/x.csv'
    """
    name, _, target = text.partition(":")
    name = name.strip().lower()
    kind = _KINDS.get(name)
    if kind is None and _looks_like_a_path(text):
        name, target, kind = "file", text, _KINDS.get("file")
    if kind is None:
        raise ConfigError(f"unknown source {text!r}; use one of {source_usage()}")
    if kind.target is None and target:
        raise ConfigError(f"source {name!r} takes no ':' argument")
    if kind.target is not None and not target:
        raise ConfigError(f"source {name!r} needs a target: {name}:{kind.target}")
    given: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
    return SourceSpec(kind=name, target=target, **given)


def _looks_like_a_path(text: str) -> bool:
    from pathlib import Path

    return (
        Path(text).exists()
        or bool(set("*?[") & set(text))
        or "/" in text
        or text.endswith(
            (
                ".csv",
                ".tsv",
                ".txt",
                ".json",
                ".jsonl",
                ".parquet",
                ".arrow",
                ".gz",
                ".bz2",
                ".xz",
                ".zst",
                ".zip",
            )
        )
    )


def is_endless(text: str) -> bool:
    """Whether the kind of a ``--source`` value (or a kind name) never ends by itself."""
    kind = _KINDS.get(text.partition(":")[0].strip().lower())
    return kind is not None and kind.endless


# -- the built-in kinds ---------------------------------------------------------------------
register_source(
    "kafka",
    "streamlearn.kafka.consumer:from_spec",
    target="TOPIC",
    needs=("confluent_kafka", "kafka"),
    summary="a Kafka topic (--bootstrap)",
)
register_source(
    "socket",
    "streamlearn.sources.socket_lines:from_spec",
    target="HOST:PORT",
    summary="text lines from a TCP server, as Spark's socketTextStream (no replay)",
)
_FILES = "streamlearn.sources.files:from_spec"
register_source(
    "csv", _FILES, target="PATH", summary="delimited text (CSV, TSV...): a file, directory or glob"
)
register_source("json", _FILES, target="PATH", summary="JSON lines: a file, directory or glob")
register_source("parquet", _FILES, target="PATH", summary="a Parquet file, directory or glob")
register_source(
    "arrow", _FILES, target="PATH", summary="an Arrow IPC (Feather) file, directory or glob"
)
register_source(
    "file", _FILES, target="PATH", summary="any of those, told apart by content and extension"
)
register_source(
    "linear",
    "streamlearn.sources.generators.course:from_spec",
    endless=True,
    summary="the course's linear generator",
)
register_source(
    "nonlinear",
    "streamlearn.sources.generators.course:from_spec",
    endless=True,
    summary="the course's nonlinear generator",
)
register_source(
    "activity",
    "streamlearn.sources.generators.activity:from_spec",
    endless=True,
    summary="HHAR-shaped accelerometer rows",
)
register_source(
    "river",
    "streamlearn.sources.river_data:from_spec",
    target="NAME",
    needs=("river", "river"),
    summary="a data set River ships in its wheel (phishing, bananas, segment, shuttle...)",
)
