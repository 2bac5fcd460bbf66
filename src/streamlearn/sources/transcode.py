"""A source seen through another format: decode its payloads, encode them anew.

``streamlearn produce linear --format json`` uses it to send the course's
records as JSON objects instead of NumPy's literal lists.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from streamlearn.codecs import make_codec
from streamlearn.codecs.base import Codec
from streamlearn.codecs.settle import Choices, settle
from streamlearn.records.batch import RawBatch
from streamlearn.sources.base import Progress, Source

__all__ = ["Transcoder"]


class Transcoder(Source):
    """Wraps ``source`` so its payloads come out in ``format``.

    Records that do not decode are passed through unchanged, so a consumer
    still dead-letters them with their original bytes.
    """

    def __init__(self, source: Source, format: str) -> None:
        self.source = source
        self.kind = source.kind
        self.origin = source.origin
        self.position_kind = source.position_kind
        self.format = format
        self.decoder: Codec | None = None
        self.encoder: Codec | None = None

    def _codecs(self, raw: RawBatch) -> tuple[Codec, Codec] | None:
        """Every field of the source's records decoded, and the same fields encoded."""
        if self.decoder is None:
            src = self.source
            choices = Choices(decode_all=True, needs_target=False)
            found = settle(
                src.format,
                raw.payloads,
                choices,
                src.schema,
                getattr(src, "layout", None),
                src.origin,
            )
            if found is None:
                return None
            self.decoder = found.codec
            self.encoder = make_codec(self.format, replace(found.codec.schema, decode_all=True))
        assert self.encoder is not None
        return self.decoder, self.encoder

    def open(self, snapshot: dict[str, Any] | None = None) -> None:
        self.source.open(snapshot)

    def read(self, max_records: int, timeout_s: float = 1.0) -> RawBatch:
        raw = self.source.read(max_records, timeout_s)
        codecs = self._codecs(raw) if len(raw) else None
        if codecs is None:
            return raw
        decoder, encoder = codecs
        batch, dead = decoder.decode(raw)
        encoded = iter(encoder.encode(batch.columns))
        bad = {(d.partition, d.offset) for d in dead}
        payloads = [
            p if (int(part), int(off)) in bad else next(encoded)
            for p, part, off in zip(raw.payloads, raw.partitions, raw.offsets, strict=True)
        ]
        return RawBatch(
            raw.origin, payloads, raw.partitions, raw.offsets, raw.keys, raw.position_kind
        )

    @property
    def exhausted(self) -> bool:
        return self.source.exhausted

    def snapshot(self) -> dict[str, Any]:
        return self.source.snapshot()

    def progress(self) -> Progress:
        return self.source.progress()

    def describe(self) -> dict[str, Any]:
        return {**self.source.describe(), "format": self.format}

    def close(self) -> None:
        self.source.close()
