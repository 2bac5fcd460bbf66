"""Kafka: client settings, offsets, the consumer source, the producer, sinks and the embedded broker.

- :mod:`.client`: settings every client shares, metadata look-ups;
- :mod:`.offsets`: start and end offsets (:class:`EndProbe`), batch bounds;
- :mod:`.messages`, :mod:`.consumer`: :class:`KafkaSource`, the source the local engine reads;
- :mod:`.ranges`: offset ranges, read by the Spark engine's executors;
- :mod:`.producer`: :class:`KafkaWriter` and :func:`produce_from_source`;
- :mod:`.sinks`: predictions and dead letters written to topics;
- :mod:`.broker`: :class:`EmbeddedBroker` (Tansu) for demos and tests.

Everything here needs the ``kafka`` extra (confluent-kafka); names are
imported on first use, so ``import streamlearn.kafka`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streamlearn.kafka.broker import EmbeddedBroker, free_port
    from streamlearn.kafka.consumer import KafkaSource
    from streamlearn.kafka.producer import KafkaWriter, produce_from_source
    from streamlearn.kafka.sinks import KafkaDeadLetters, KafkaPredictions

__all__ = [
    "EmbeddedBroker",
    "KafkaDeadLetters",
    "KafkaPredictions",
    "KafkaSource",
    "KafkaWriter",
    "free_port",
    "produce_from_source",
]

_HOMES = {
    "EmbeddedBroker": "broker",
    "free_port": "broker",
    "KafkaSource": "consumer",
    "KafkaWriter": "producer",
    "produce_from_source": "producer",
    "KafkaDeadLetters": "sinks",
    "KafkaPredictions": "sinks",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)
