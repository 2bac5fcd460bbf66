"""streamlearn: online learning on live data streams.

Read records from Kafka, a file or a generator; evaluate learners
prequentially (predict first, learn after); race them; keep streaming
statistics per key; report metrics per micro-batch. Locally or on Spark.

Names are imported on first use (PEP 562), so ``import streamlearn`` and
the ``streamlearn`` command start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from streamlearn._lazy import exports

if TYPE_CHECKING:
    from streamlearn.errors import ConfigError, SourceError, StreamlearnError, UserCodeError
    from streamlearn.pipeline import Pipeline, Until, parse_until
    from streamlearn.runner import run
    from streamlearn.sources.registry import SourceSpec, parse_source

__all__ = [
    "ConfigError",
    "Pipeline",
    "SourceError",
    "SourceSpec",
    "StreamlearnError",
    "Until",
    "UserCodeError",
    "__version__",
    "parse_source",
    "parse_until",
    "run",
]

__version__ = "0.1.0"

_HOMES = {
    "ConfigError": "streamlearn.errors",
    "SourceError": "streamlearn.errors",
    "StreamlearnError": "streamlearn.errors",
    "UserCodeError": "streamlearn.errors",
    "Pipeline": "streamlearn.pipeline",
    "Until": "streamlearn.pipeline",
    "parse_until": "streamlearn.pipeline",
    "run": "streamlearn.runner",
    "SourceSpec": "streamlearn.sources.registry",
    "parse_source": "streamlearn.sources.registry",
}

__getattr__, __dir__ = exports(__name__, _HOMES, __all__)
