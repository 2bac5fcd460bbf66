"""Pipelines on a real embedded broker: produce, run, dead letters, kill and resume."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from streamlearn.checkpoint import Checkpointer, read_header
from streamlearn.errors import ConfigError
from streamlearn.sources.generators.course import course_payloads

pytestmark = pytest.mark.kafka


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streamlearn", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _write(bootstrap: str, topic: str, payloads: list[bytes], partitions: int = 1) -> None:
    from streamlearn.kafka.producer import KafkaWriter

    writer = KafkaWriter(bootstrap, topic, partitions=partitions)
    writer.write(payloads)
    writer.flush()
    writer.close()


def test_produce_then_run_until_end(broker, topic, workdir: Path):
    proc = _cli(
        "produce", "linear", "--topic", topic, "--bootstrap", broker.bootstrap, "--count", "20000"
    )
    assert proc.returncode == 0, proc.stderr
    assert "produced 20,000 records" in proc.stdout
    proc = _cli(
        "run",
        "--source",
        f"kafka:{topic}",
        "--bootstrap",
        broker.bootstrap,
        "--task",
        "regression",
        "--model",
        "mean",
        "--batch-size",
        "3000",
        "--until",
        "end",
        "--metrics-json",
        "m.json",
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    m = json.loads(Path("m.json").read_text())
    assert m["records_consumed"] == m["records_predicted"] == 20000
    assert m["batches"] == 7
    assert m["source"]["kind"] == "kafka" and m["source"]["topic"] == topic
    assert m["source"]["end_offsets"] == {"0": 20000}


def test_one_percent_malformed_messages_reconcile(broker, make_topic, workdir: Path):
    topic = make_topic(partitions=3)
    rng = np.random.default_rng(7)
    payloads = course_payloads("linear", 0, 5000)
    bad = set(rng.choice(5000, 50, replace=False).tolist())
    garbage = [b"[1, 2, oops]", b"", b"\xff\xfe", b"[ 0.1, 0.2 ]", b"{not a list}"]
    payloads = [garbage[i % len(garbage)] if i in bad else p for i, p in enumerate(payloads)]
    _write(broker.bootstrap, topic, payloads, partitions=3)
    proc = _cli(
        "run",
        "--source",
        f"kafka:{topic}",
        "--bootstrap",
        broker.bootstrap,
        "--task",
        "regression",
        "--model",
        "mean",
        "--batch-size",
        "700",
        "--dead-letter",
        "dead.jsonl",
        "--metrics-json",
        "m.json",
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    m = json.loads(Path("m.json").read_text())
    assert m["records_consumed"] == 5000
    assert m["dead_letters"] == 50
    assert m["records_predicted"] + m["dead_letters"] == m["records_consumed"]
    letters = [json.loads(x) for x in Path("dead.jsonl").read_text().splitlines()]
    assert len(letters) == 50
    assert all(d["origin"] == topic and d["reason"] for d in letters)
    # every bad payload is there, with its own position
    assert len({(d["partition"], d["offset"]) for d in letters}) == 50
    # the exact bytes: text when it is UTF-8, base64 otherwise
    exact = [
        base64.b64decode(d["raw"]) if d.get("raw_encoding") == "base64" else d["raw"].encode()
        for d in letters
    ]
    assert sorted(exact) == sorted(payloads[i] for i in bad)


def _ckpt_batch(folder: Path) -> int:
    try:
        return int(read_header(folder / Checkpointer.FILE)["next_batch"])
    except (FileNotFoundError, ConfigError):  # not there yet, or caught mid-rename
        return 0


def _run_args(bootstrap: str, topic: str, tag: str) -> list[str]:
    return [
        "run",
        "--source",
        f"kafka:{topic}",
        "--bootstrap",
        bootstrap,
        "--task",
        "regression",
        "--model",
        "rls",
        "--model",
        "rls:forgetting=0.99",
        "--model",
        "mean",
        "--batch-size",
        "5000",
        "--until",
        "end",
        "--quiet",
        "--checkpoint",
        f"ck-{tag}",
        "--predictions",
        f"preds-{tag}",
        "--dead-letter",
        f"dead-{tag}.jsonl",
        "--metrics-json",
        f"m-{tag}.json",
    ]


def test_kill_and_resume_gives_the_uninterrupted_result(broker, make_topic, workdir: Path):
    topic = make_topic(partitions=2)
    payloads = course_payloads("linear", 0, 300_000)
    for i in range(0, 300_000, 997):
        payloads[i] = b"[broken"
    _write(broker.bootstrap, topic, payloads, partitions=2)

    ref = _cli(*_run_args(broker.bootstrap, topic, "ref"))
    assert ref.returncode == 0, ref.stderr

    rng = np.random.default_rng(int(os.environ.get("STREAMLEARN_KILL_SEED", "11")))
    targets = sorted(rng.choice(np.arange(3, 57), 3, replace=False).tolist())
    ck = Path("ck-kill")
    kills = 0
    for target in targets:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlearn", *_run_args(broker.bootstrap, topic, "kill")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 240
        while proc.poll() is None and _ckpt_batch(ck) < target and time.monotonic() < deadline:
            time.sleep(0.005)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(30)
    assert kills == 3, "the run ended before it could be killed three times"
    final = _cli(*_run_args(broker.bootstrap, topic, "kill"))
    assert final.returncode == 0, final.stderr

    a = json.loads(Path("m-ref.json").read_text())
    b = json.loads(Path("m-kill.json").read_text())
    for key in (
        "records_consumed",
        "records_predicted",
        "dead_letters",
        "cold_start",
        "batches",
        "champion",
    ):
        assert a[key] == b[key], key
    assert a["source"]["end_offsets"] == b["source"]["end_offsets"]
    for name, ma in a["models"].items():
        for k, v in ma.items():
            if isinstance(v, float):
                assert b["models"][name][k] == pytest.approx(v, rel=1e-12, abs=1e-12), (name, k)
            else:
                assert b["models"][name][k] == v, (name, k)
    ref_files = sorted(p.name for p in Path("preds-ref").iterdir())
    assert ref_files == sorted(p.name for p in Path("preds-kill").iterdir())
    for name in ref_files:
        assert (Path("preds-ref") / name).read_bytes() == (
            Path("preds-kill") / name
        ).read_bytes(), name
    assert Path("dead-ref.jsonl").read_bytes() == Path("dead-kill.jsonl").read_bytes()


def test_unreachable_broker_and_missing_topic_are_one_line(broker, workdir: Path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = _cli(
        "run",
        "--source",
        "kafka:nothing",
        "--bootstrap",
        f"127.0.0.1:{port}",
        "--task",
        "regression",
        "--model",
        "mean",
        timeout=60,
    )
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    proc = _cli(
        "run",
        "--source",
        "kafka:no-such-topic-here",
        "--bootstrap",
        broker.bootstrap,
        "--task",
        "regression",
        "--model",
        "mean",
        timeout=60,
    )
    assert proc.returncode != 0
    assert "does not exist" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_predictions_and_dead_letters_to_kafka_topics(broker, topic, workdir: Path):
    from streamlearn.kafka.consumer import KafkaSource

    payloads = course_payloads("linear", 0, 2000)
    payloads[5] = b"[1, oops]"
    payloads[1500] = b"not a list"
    _write(broker.bootstrap, topic, payloads)
    preds, dead = f"{topic}-preds", f"{topic}-dead"
    proc = _cli(
        "run",
        "--source",
        f"kafka:{topic}",
        "--bootstrap",
        broker.bootstrap,
        "--task",
        "regression",
        "--model",
        "rls",
        "--model",
        "mean",
        "--batch-size",
        "500",
        "--quiet",
        "--predictions",
        f"kafka:{preds}",
        "--dead-letter",
        f"kafka:{dead}",
        "--metrics-json",
        "m.json",
    )
    assert proc.returncode == 0, proc.stderr

    def read_all(name: str) -> list[dict]:
        src = KafkaSource(name, bootstrap=broker.bootstrap, until_end=True)
        src.open()
        out = []
        while not src.exhausted:
            out.extend(json.loads(p) for p in src.read(1000, 1.0).payloads)
        src.close()
        return out

    got = read_all(preds)
    assert len(got) == 1998
    assert [g["offset"] for g in got] == [i for i in range(2000) if i not in (5, 1500)]
    assert set(got[10]["predictions"]) == {"rls", "mean"} and isinstance(got[10]["label"], float)
    letters = read_all(dead)
    assert sorted(d["offset"] for d in letters) == [5, 1500]
    assert {d["raw"] for d in letters} == {"[1, oops]", "not a list"}


def test_until_idle_reads_live_records_then_stops(broker, topic, workdir: Path):
    _write(broker.bootstrap, topic, course_payloads("linear", 0, 1000))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlearn",
            "run",
            "--source",
            f"kafka:{topic}",
            "--bootstrap",
            broker.bootstrap,
            "--task",
            "regression",
            "--model",
            "mean",
            "--until",
            "idle:6",
            "--metrics-json",
            "m.json",
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)  # the run is up and waiting; these arrive live
    _write(broker.bootstrap, topic, course_payloads("linear", 1000, 500))
    last_write = time.monotonic()
    _, err = proc.communicate(timeout=120)
    stopped_after = time.monotonic() - last_write
    assert proc.returncode == 0, err
    m = json.loads(Path("m.json").read_text())
    assert m["records_consumed"] == m["records_predicted"] == 1500
    assert 6 <= stopped_after < 40


def test_produce_json_with_key_and_partitions(broker, make_topic, workdir: Path):
    from streamlearn.kafka.consumer import KafkaSource

    topic = make_topic(partitions=1)
    proc = _cli(
        "produce",
        "activity",
        "--topic",
        f"{topic}-json",
        "--bootstrap",
        broker.bootstrap,
        "--count",
        "3000",
        "--format",
        "json",
        "--partitions",
        "4",
        "--key",
        "Device",
    )
    assert proc.returncode == 0, proc.stderr
    src = KafkaSource(f"{topic}-json", bootstrap=broker.bootstrap, until_end=True)
    src.open()
    rows = []
    while not src.exhausted:
        raw = src.read(1000, 1.0)
        rows.extend(
            (int(p), json.loads(v), k)
            for p, v, k in zip(raw.partitions, raw.payloads, raw.keys or [], strict=True)
        )
    src.close()
    assert len(rows) == 3000
    assert rows[0][1]["gt"] and "Device" in rows[0][1]
    by_device: dict[str, set[int]] = {}
    for part, obj, key in rows:
        assert key == obj["Device"].encode()
        by_device.setdefault(obj["Device"], set()).add(part)
    assert all(len(parts) == 1 for parts in by_device.values())  # a key stays on one partition
    assert len({p for parts in by_device.values() for p in parts}) > 1


@pytest.mark.parametrize("format", ["json", "csv"])
def test_topic_format_is_detected_end_to_end(broker, topic, workdir: Path, format: str):
    produced = _cli(
        "produce", "activity", "--topic", topic, "--bootstrap", broker.bootstrap,
        "--count", "6000", "--format", format,
    )  # fmt: skip
    assert produced.returncode == 0, produced.stderr
    proc = _cli(
        "run", "--source", f"kafka:{topic}", "--bootstrap", broker.bootstrap, "--task", "classification",
        "--target", "gt", "--model", "majority", "--batch-size", "2500", "--metrics-json", "m.json", "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    m = json.loads(Path("m.json").read_text())
    assert m["records_consumed"] == m["records_predicted"] == 6000 and m["dead_letters"] == 0
    assert m["source"]["end_offsets"] == {"0": 6000}
