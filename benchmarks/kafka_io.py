"""Kafka I/O throughput through the embedded broker (or any broker).

Prints produce and consume rates for N small (~200-byte) messages:

    .venv/bin/python benchmarks/kafka_io.py                 # 1,000,000 messages
    .venv/bin/python benchmarks/kafka_io.py --partitions 3 --repeat 3
    .venv/bin/python benchmarks/kafka_io.py --delivery-reports   # cost of callbacks

Targets: produce >= 300,000 msg/s (KafkaWriter), consume >= 400,000 msg/s
(KafkaSource.read into Python lists). Measured on the 2-core dev VM when idle:
produce 0.55-0.9 M msg/s, consume 0.55-0.95 M msg/s (1 or 3 partitions), about
1.2-1.5 CPU-seconds in this process and 0.4-0.8 in the broker per million. CPU seconds (ours, all threads, and the
broker's) are printed too: on a shared machine they say more than the wall clock.
"""

from __future__ import annotations

import argparse
import os
import random
import time
import uuid
from collections.abc import Callable

from streamlearn.kafka.broker import EmbeddedBroker
from streamlearn.kafka.consumer import KafkaSource
from streamlearn.kafka.producer import PRODUCER_TUNING, KafkaWriter


def payloads(n: int, seed: int = 1) -> list[bytes]:
    """Course-like literal lists of ~200 bytes with random digits (realistic compression)."""
    rnd = random.Random(seed)
    row = ",".join(["%.8f"] * 17)
    return [(f"[{i:9d},{row % tuple(rnd.random() for _ in range(17))}]").encode() for i in range(n)]


def process_cpu(pid: int | None) -> float:
    """CPU seconds used so far by another process (Linux), 0 when unknown."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def timed(fn: Callable[[], int], broker_pid: int | None = None) -> tuple[int, float, float, float]:
    """Records, wall seconds, our CPU seconds (all threads) and the broker's."""
    w0, c0, b0 = time.perf_counter(), time.process_time(), process_cpu(broker_pid)
    n = fn()
    return n, time.perf_counter() - w0, time.process_time() - c0, process_cpu(broker_pid) - b0


def report(
    what: str, n: int, size: float, wall: float, cpu: float, bcpu: float, target: int
) -> None:
    print(
        f"{what:8s} {n / wall:>10,.0f} msg/s  {n * size / wall / 1e6:6.1f} MB/s  wall {wall:5.2f} s  "
        f"cpu {cpu:5.2f} s  broker cpu {bcpu:5.2f} s  (target >= {target:,})"
    )


def produce(bootstrap: str, topic: str, data: list[bytes], partitions: int) -> int:
    with KafkaWriter(bootstrap, topic, partitions=partitions) as writer:
        writer.write(data)
    return len(data)


def consume(bootstrap: str, topic: str, batch: int) -> int:
    values: list[bytes] = []
    offsets = 0
    src = KafkaSource(topic, bootstrap=bootstrap, until_end=True)
    src.open()
    try:
        while not src.exhausted:
            b = src.read(batch, timeout_s=1.0)
            values += b.payloads  # what the engine keeps: payloads into a list
            offsets += len(b.offsets)
    finally:
        src.close()
    return len(values)


def delivery_report_costs(bootstrap: str, data: list[bytes]) -> None:
    """What a Python callback per message costs, against failure-only reports."""
    from confluent_kafka import Producer

    def run(name: str, conf: dict[str, object], per_message: bool) -> None:
        topic = f"bench-dr-{uuid.uuid4().hex[:8]}"
        KafkaWriter(bootstrap, topic).close()  # creates it
        failed = [0]

        def cb(err: object, msg: object) -> None:
            if err is not None:
                failed[0] += 1

        p = Producer({"bootstrap.servers": bootstrap, **conf})

        def go() -> int:
            for v in data:
                while True:
                    try:
                        if per_message:
                            p.produce(topic, v, on_delivery=cb)
                        else:
                            p.produce(topic, v)
                        break
                    except BufferError:
                        p.poll(0.005)
            p.flush(60)
            return len(data)

        n, wall, cpu, _ = timed(go)
        print(f"  {name:45s} {n / wall:>10,.0f} msg/s  cpu {cpu:5.2f} s")

    base = {k: v for k, v in PRODUCER_TUNING.items() if k != "delivery.report.only.error"}
    print("delivery reports:")
    run("no callback (failures undetected)", base, False)
    run("on_delivery= per message", base, True)
    run("global on_delivery, every message", {**base, "on_delivery": lambda e, m: None}, False)
    run(
        "global on_delivery, failures only (ours)",
        {**PRODUCER_TUNING, "on_delivery": lambda e, m: None},
        False,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--partitions", type=int, default=1)
    ap.add_argument("--batch", type=int, default=100_000, help="max_records per read")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--bootstrap", help="an existing broker instead of the embedded one")
    ap.add_argument("--delivery-reports", action="store_true", help="also time callback styles")
    args = ap.parse_args()

    data = payloads(args.count)
    size = sum(map(len, data)) / len(data)
    print(f"{args.count:,} messages of {size:.0f} bytes on average, {args.partitions} partition(s)")

    broker = None if args.bootstrap else EmbeddedBroker().start()
    bootstrap = args.bootstrap or broker.bootstrap  # type: ignore[union-attr]
    try:
        for _ in range(args.repeat):
            topic = f"bench-io-{uuid.uuid4().hex[:8]}"
            pid = broker.pid if broker is not None else None
            n, wall, cpu, bcpu = timed(
                lambda t=topic: produce(bootstrap, t, data, args.partitions), pid
            )
            report("produce", n, size, wall, cpu, bcpu, 300_000)
            n, wall, cpu, bcpu = timed(lambda t=topic: consume(bootstrap, t, args.batch), pid)
            assert n == args.count, f"consumed {n} of {args.count}"
            report("consume", n, size, wall, cpu, bcpu, 400_000)
        if args.delivery_reports:
            delivery_report_costs(bootstrap, data[: min(len(data), 300_000)])
    finally:
        if broker is not None:
            broker.stop()


if __name__ == "__main__":
    main()
