"""Kafka: client settings, offsets, the consumer source, the producer, sinks and the embedded broker.

- :mod:`.client`: settings every client shares, metadata look-ups;
- :mod:`.offsets`: start and end offsets (:class:`EndProbe`), batch bounds;
- :mod:`.messages`, :mod:`.consumer`: :class:`KafkaSource`, the source the local engine reads;
- :mod:`.ranges`: offset ranges, read by the Spark engine's executors;
- :mod:`.producer`, :mod:`.produce`: :class:`KafkaWriter`, and copying a source into a topic;
- :mod:`.label_feed`, :mod:`.produce_labels`: a label topic read in event time
  (:class:`LabelFeed`), and features now with labels later (:func:`produce_with_labels`);
- :mod:`.sinks`: predictions and dead letters written to topics;
- :mod:`.broker`: :class:`EmbeddedBroker` (Tansu) for demos and tests.

Everything here needs the ``kafka`` extra (confluent-kafka); names are
imported on first use, so ``import streamlearn.kafka`` is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from streamlearn._lazy import exports

if TYPE_CHECKING:
    from streamlearn.kafka.broker import EmbeddedBroker, free_port
    from streamlearn.kafka.consumer import KafkaSource
    from streamlearn.kafka.label_feed import LabelFeed
    from streamlearn.kafka.produce import Produced, produce_from_source
    from streamlearn.kafka.produce_labels import produce_with_labels
    from streamlearn.kafka.producer import KafkaWriter
    from streamlearn.kafka.sinks import KafkaDeadLetters, KafkaPredictions

__all__ = [
    "EmbeddedBroker",
    "KafkaDeadLetters",
    "KafkaPredictions",
    "KafkaSource",
    "KafkaWriter",
    "LabelFeed",
    "Produced",
    "free_port",
    "produce_from_source",
    "produce_with_labels",
]

_HOMES = {
    "EmbeddedBroker": "broker",
    "free_port": "broker",
    "KafkaSource": "consumer",
    "KafkaWriter": "producer",
    "LabelFeed": "label_feed",
    "produce_with_labels": "produce_labels",
    "produce_from_source": "produce",
    "Produced": "produce",
    "KafkaDeadLetters": "sinks",
    "KafkaPredictions": "sinks",
}

__getattr__, __dir__ = exports(__name__, _HOMES, __all__)
