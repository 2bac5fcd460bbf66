"""The Spark engine: the same pipelines on Spark Structured Streaming.

Modules, in the order data flows:

- :mod:`.session`: one quiet SparkSession per process, on 127.0.0.1;
- :mod:`.datasource`, :mod:`.planner`, :mod:`.partitions`: a Python
  streaming data source over any streamlearn source (Kafka topics through
  :mod:`streamlearn.kafka.ranges`), with offsets in Spark's checkpoint,
  admission control and Trigger.AvailableNow;
- :mod:`.worker`, :mod:`.keyed`, :mod:`.blocks`: decoding and keyed state on
  the executors (``applyInPandasWithState``, records shuffled in blocks),
  mirrored on the driver;
- :mod:`.key_races`, :mod:`.race_units`: races on the executors, one per key
  (``--per-key``) or one unit of state per model (``--workers``);
- :mod:`.predict`: batch-granularity prediction on the executors;
- :mod:`.feed`, :mod:`.driver_state`: ``foreachBatch`` hands each micro-batch
  to the shared run loop, idempotent by ``batchId``;
- :mod:`.engine`: :class:`SparkEngine`, which wires them into one query.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyspark  # noqa: F401  (fail early with a clear ImportError when missing)

from streamlearn._lazy import exports

if TYPE_CHECKING:
    from streamlearn.engines.spark.engine import SparkEngine

__all__ = ["SparkEngine"]

# loaded on first use: Spark's Python processes (the data source's planner, the
# executors) import this package for its data source and need none of the engine
__getattr__, __dir__ = exports(__name__, {"SparkEngine": "engine"}, __all__)
