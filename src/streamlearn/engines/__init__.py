"""Engines drive pipelines: ``local`` (one process) and ``spark`` (Structured Streaming)."""

from __future__ import annotations

from streamlearn.engines.base import Engine, Observer
from streamlearn.engines.core import BatchProcessor, build_models
from streamlearn.engines.local import LocalEngine
from streamlearn.errors import ConfigError, MissingExtraError

__all__ = ["ENGINES", "BatchProcessor", "Engine", "LocalEngine", "Observer", "build_models", "get_engine"]

ENGINES = ("local", "spark")


def get_engine(name: str, **options: object) -> Engine:
    """The engine called ``name``; ``options`` such as ``master`` go to Spark."""
    if name == "local":
        return LocalEngine()
    if name == "spark":
        try:
            from streamlearn.engines.spark import SparkEngine
        except ImportError as exc:
            if "pyspark" in str(exc):
                raise MissingExtraError("the Spark engine", "spark") from exc
            raise
        return SparkEngine(**options)  # type: ignore[arg-type]
    raise ConfigError(f"--engine must be one of {', '.join(ENGINES)}, not {name!r}")
