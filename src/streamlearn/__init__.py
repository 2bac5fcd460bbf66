"""streamlearn: online learning on live data streams.

Read records from Kafka, a file or a generator; evaluate learners
prequentially (predict first, learn after); race them; keep streaming
statistics per key; report metrics per micro-batch. Locally or on Spark.
"""

from __future__ import annotations

from streamlearn.errors import ConfigError, SourceError, StreamlearnError, UserCodeError
from streamlearn.pipeline import Pipeline, Until, parse_until
from streamlearn.runner import run
from streamlearn.sources.factory import SourceSpec, parse_source

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
