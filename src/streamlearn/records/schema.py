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
    ignore
        Fields that are not features unless ``features`` names them
        (identifiers, times).
    nonfinite
        Policy for NaN, inf and empty values in numeric fields:
        ``"dead-letter"`` (the default: the record goes to the dead
        letters), or ``"keep"`` (they become NaN).
    keep
        Other fields to decode (steps read them); ``decode_all`` decodes
        every field (a step that may read any). By default a schema without
        roles (no target, features or key) decodes every field.
    notes
        Why a field has its role or type, when inference decided it.

    Only the fields a run uses (:attr:`used`) are decoded and validated: a
    problem in another field never sends a record to the dead letters.
    """

    fields: tuple[Field, ...]
    target: str | None = None
    features: tuple[str, ...] | None = None
    categorical: tuple[str, ...] = ()
    key: str | None = None
    ignore: tuple[str, ...] = ()
    nonfinite: Nonfinite = "dead-letter"
    keep: tuple[str, ...] = ()
    decode_all: bool | None = None
    notes: tuple[tuple[str, str], ...] = ()
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
        for name in self.keep:
            if name not in self.names:
                raise ConfigError(
                    f"column {name!r} is not a field (fields: {', '.join(self.names)})"
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
        """Features in order: numeric ones, then categorical ones.

        Given ``features`` are exactly the features; otherwise every field but
        the target, the key and the ignored ones.
        """
        if self.features is not None:
            chosen = list(self.features)
        else:
            skip = {self.target, self.key, *self.ignore}
            chosen = [f.name for f in self.fields if f.name not in skip]
            chosen = [n for n in chosen if self.field(n).kind != "str" or n in self.categorical]
        chosen = [n for n in chosen if n != self.target]  # never the label, whatever was asked
        categorical = set(self.categorical) | {n for n in chosen if self.field(n).kind == "str"}
        numeric = [n for n in chosen if n not in categorical]
        return (*numeric, *(n for n in chosen if n in categorical))

    @property
    def categorical_features(self) -> tuple[str, ...]:
        """The features that are categories (text fields, and those marked categorical)."""
        return tuple(
            n for n in self.feature_names if n in self.categorical or self.field(n).kind == "str"
        )

    @property
    def numeric_features(self) -> tuple[str, ...]:
        cats = set(self.categorical_features)
        return tuple(n for n in self.feature_names if n not in cats)

    @property
    def used(self) -> tuple[str, ...]:
        """The fields decoded and validated: target, features, key and kept ones, in field order."""
        everything = self.decode_all
        if everything is None:
            everything = self.target is None and self.features is None and self.key is None
        if everything:
            return self.names
        wanted = {self.target, self.key, *self.feature_names, *self.keep} - {None}
        return tuple(n for n in self.names if n in wanted)

    def role(self, name: str) -> str:
        """``target``, ``key``, ``feature``, ``categorical`` or ``unused``."""
        if name == self.target:
            return "target"
        if name == self.key:
            return "key"
        if name in self.categorical_features:
            return "categorical"
        if name in self.feature_names:
            return "feature"
        return "kept" if name in self.used else "unused"

    def describe(self) -> list[dict[str, str]]:
        """Each field's name, type and role (and why, where inference decided): the metrics' ``schema``."""
        notes = dict(self.notes)
        out = []
        for f in self.fields:
            entry = {"name": f.name, "type": f.kind, "role": self.role(f.name)}
            if f.name in notes:
                entry["note"] = notes[f.name]
            out.append(entry)
        return out

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

    def with_types(self, types: dict[str, FieldKind]) -> Schema:
        """A copy with some fields' types pinned (``--types``)."""
        unknown = sorted(set(types) - set(self.names))
        if unknown:
            raise ConfigError(
                f"--types names {unknown[0]!r}, which is not a field (fields: {', '.join(self.names)})"
            )
        fields = tuple(replace(f, kind=types.get(f.name, f.kind)) for f in self.fields)
        return replace(self, fields=fields)


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
)
