"""Schemas: which fields a record has and which are target, features, categories and key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from streamlearn.errors import ConfigError
from streamlearn.types import FIELD_KINDS, NONFINITE, FieldKind, Nonfinite

__all__ = [
    "HHAR_COLUMNS",
    "HHAR_SCHEMA",
    "Field",
    "Schema",
    "literal_schema",
]


@dataclass(frozen=True)
class Field:
    name: str
    kind: FieldKind = "float"
    #: a missing or empty value is allowed (becomes NaN or "")
    optional: bool = False

    def __post_init__(self) -> None:
        if self.kind not in FIELD_KINDS:
            raise ConfigError(f"field {self.name!r}: kind must be one of {FIELD_KINDS}")


@dataclass(frozen=True)
class Schema:
    """What a record holds and what each field is for.

    Parameters
    ----------
    fields
        The fields, in the order of CSV columns or literal-list positions.
    target
        The label (classification) or value to predict (regression).
    features
        Fields given to learners; ``None`` means every numeric field that is
        not the target, the key or an identifier.
    categorical
        Features that are categories (strings or codes), not numbers.
    key
        The field that keyed state groups by.
    nonfinite
        Policy for NaN and inf in numeric fields: ``"dead-letter"`` (the
        default: the record goes to the dead letters), or ``"keep"``.
    """

    fields: tuple[Field, ...]
    target: str | None = None
    features: tuple[str, ...] | None = None
    categorical: tuple[str, ...] = ()
    key: str | None = None
    ignore: tuple[str, ...] = ()
    nonfinite: Nonfinite = "dead-letter"
    names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(f.name for f in self.fields))
        if len(set(self.names)) != len(self.names):
            raise ConfigError(f"duplicate field names in schema: {self.names}")
        for role, name in (("target", self.target), ("key", self.key)):
            if name is not None and name not in self.names:
                raise ConfigError(
                    f"{role} {name!r} is not a field (fields: {', '.join(self.names)})"
                )
        for name in (*(self.features or ()), *self.categorical):
            if name not in self.names:
                raise ConfigError(
                    f"feature {name!r} is not a field (fields: {', '.join(self.names)})"
                )
        if self.nonfinite not in NONFINITE:
            raise ConfigError("nonfinite policy must be 'dead-letter' or 'keep'")

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise ConfigError(f"no field {name!r} (fields: {', '.join(self.names)})")

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Features in order: numeric ones, then categorical ones."""
        if self.features is not None:
            chosen = [n for n in self.features if n not in self.categorical]
        else:
            skip = {self.target, self.key, *self.ignore, *self.categorical}
            chosen = [f.name for f in self.fields if f.kind != "str" and f.name not in skip]
        return (*chosen, *self.categorical)

    @property
    def numeric_features(self) -> tuple[str, ...]:
        return tuple(n for n in self.feature_names if n not in self.categorical)

    def with_roles(
        self,
        target: str | None = None,
        features: Sequence[str] | None = None,
        categorical: Sequence[str] | None = None,
        key: str | None = None,
    ) -> Schema:
        """A copy with the given roles overridden (``None`` keeps the current one)."""
        return replace(
            self,
            target=self.target if target is None else target,
            features=self.features if features is None else tuple(features),
            categorical=self.categorical if categorical is None else tuple(categorical),
            key=self.key if key is None else key,
        )


def literal_schema(n_features: int = 10) -> Schema:
    """The course layout: ``[counter, y, x1, ..., xN]``."""
    fields = (
        Field("counter", "int"),
        Field("y"),
        *(Field(f"x{i}") for i in range(1, n_features + 1)),
    )
    return Schema(fields, target="y", ignore=("counter",))


HHAR_COLUMNS = (
    "Index",
    "Arrival_Time",
    "Creation_Time",
    "x",
    "y",
    "z",
    "User",
    "Model",
    "Device",
    "gt",
)

#: Job 1: the HHAR accelerometer CSV schema.
HHAR_SCHEMA = Schema(
    (
        Field("Index", "int"),
        Field("Arrival_Time", "int"),
        Field("Creation_Time", "int"),
        Field("x"),
        Field("y"),
        Field("z"),
        Field("User", "str"),
        Field("Model", "str"),
        Field("Device", "str"),
        Field("gt", "str"),
    ),
    target="gt",
    features=("x", "y", "z", "User", "Model", "Device"),
    categorical=("User", "Model", "Device"),
    key="Device",
)
