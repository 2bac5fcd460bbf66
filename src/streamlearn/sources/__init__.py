"""Where records come from: memory, generators, files and Kafka.

``KafkaSource`` lives in :mod:`streamlearn.sources.kafka` and needs the
``kafka`` extra, so it is not imported here.
"""

from __future__ import annotations

from streamlearn.sources.base import Progress, Source
from streamlearn.sources.factory import GENERATORS, SourceSpec, parse_source
from streamlearn.sources.files import FileSource
from streamlearn.sources.generators import ActivitySource, LinearSource, NonLinearSource
from streamlearn.sources.memory import MemorySource
from streamlearn.sources.transcode import Transcoder

__all__ = [
    "GENERATORS",
    "ActivitySource",
    "FileSource",
    "LinearSource",
    "MemorySource",
    "NonLinearSource",
    "Progress",
    "Source",
    "SourceSpec",
    "Transcoder",
    "parse_source",
]
