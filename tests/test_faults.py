"""Fault injection: a lost broker, signals, a file size limit, bad output paths, failing models.

Each test checks the exit code, the one-line message, and, where the run can
go on, that a resumed run equals an uninterrupted one. Checkpoint damage
(truncated, flipped, crafted, foreign) and SIGKILL with ``--checkpoint-every``
are in ``test_run_loop.py``, marked ``faults`` too.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from helpers import cli, metrics
from streamlearn import Pipeline, run
from streamlearn.checkpoint import Checkpointer, read_header
from streamlearn.errors import ConfigError

pytestmark = pytest.mark.faults

BROKER_TIMEOUT = 4


def _read_next_batch(path: Path) -> int:
    try:
        return int(read_header(path)["next_batch"])
    except (FileNotFoundError, ConfigError, ValueError, KeyError):
        return -1


def _wait_for_batches(proc: subprocess.Popen[str], workdir: Path, batches: int) -> None:
    """Until the run in ``workdir`` has checkpointed ``batches`` batches (60 s at most)."""
    deadline = time.monotonic() + 60
    while _read_next_batch(workdir / "ck" / Checkpointer.FILE) < batches:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
        time.sleep(0.02)


def _start(args: list[str], **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "streamlearn", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(("error:", "internal error"))]


# -- the broker dies mid-run ---------------------------------------------------------------
def _kafka_run(bootstrap: str, topic: str, tag: str, engine: str, extra: list[str]) -> list[str]:
    return [
        "run", "--source", f"kafka:{topic}", "--bootstrap", bootstrap, "--engine", engine,
        "--task", "regression", "--model", "rls", "--model", "hoeffding",
        "--until", "end", "--batch-size", "20000", "--quiet", "--metrics-json", f"m-{tag}.json",
        "--broker-timeout", str(BROKER_TIMEOUT), *extra,
    ]  # fmt: skip


@pytest.mark.kafka
@pytest.mark.parametrize("engine", ["local", pytest.param("spark", marks=pytest.mark.spark)])
def test_broker_killed_mid_run_exits_4_in_time_and_a_rerun_resumes_exactly(
    engine: str, workdir: Path
) -> None:
    from streamlearn.kafka.broker import EmbeddedBroker
    from streamlearn.kafka.produce import produce

    count = 200_000  # River's Hoeffding tree makes it last long enough to be cut
    broker = EmbeddedBroker().start()
    port = broker.port
    try:
        produce("linear", broker.bootstrap, "lin", count=count)
        ref = cli(*_kafka_run(broker.bootstrap, "lin", "ref", engine, []))
        assert ref.returncode == 0, ref.stderr
        ck = workdir / "ck"
        args = _kafka_run(broker.bootstrap, "lin", "kill", engine, ["--checkpoint", str(ck)])
        proc = _start(args)
        state = ck / ("driver" if engine == "spark" else "") / Checkpointer.FILE
        deadline = time.monotonic() + 240
        while _read_next_batch(state) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before the broker could be killed"
        killed_at = time.monotonic()
        broker.stop()
        _, err = proc.communicate(timeout=BROKER_TIMEOUT + 60)
        took = time.monotonic() - killed_at
    finally:
        broker.stop()
    assert proc.returncode == 4, err
    assert took <= BROKER_TIMEOUT + 10, f"exit after {took:.1f} s"
    lines = _error_lines(err)
    assert len(lines) == 1, err
    assert f"lost the Kafka broker at 127.0.0.1:{port}" in lines[0]
    assert "--broker-timeout" in lines[0] and "Traceback" not in err
    checkpointed = _read_next_batch(state)
    assert 2 <= checkpointed < count // 20000
    # the broker is back (same port, same records): the rerun finishes the job
    with EmbeddedBroker(port) as again:
        produce("linear", again.bootstrap, "lin", count=count)
        done = cli(*args)
    assert done.returncode == 0, done.stderr
    a, b = metrics("m-ref.json"), metrics("m-kill.json")
    for key in ("records_consumed", "records_predicted", "batches", "champion"):
        assert a[key] == b[key], key
    for name, ma in a["models"].items():
        assert b["models"][name]["mse"] == pytest.approx(ma["mse"], rel=1e-9)


@pytest.mark.kafka
def test_a_lost_broker_is_not_idleness(workdir: Path) -> None:
    """``--until idle:S`` means no new records while the broker answers."""
    from streamlearn.kafka.broker import EmbeddedBroker
    from streamlearn.kafka.produce import produce

    with EmbeddedBroker() as broker:
        produce("linear", broker.bootstrap, "lin", count=5000)
        args = [
            "run", "--source", "kafka:lin", "--bootstrap", broker.bootstrap,
            "--task", "regression", "--model", "rls", "--until", "idle:8", "--quiet",
            "--broker-timeout", str(BROKER_TIMEOUT), "--checkpoint", "ck",
        ]  # fmt: skip
        proc = _start(args)
        _wait_for_batches(proc, workdir, 5)
        assert proc.poll() is None, "the run stopped before its idle time"
        broker.stop()
        stopped = time.monotonic()
    _, err = proc.communicate(timeout=60)
    # the idle timer ran out while the broker was gone: an error, not the end
    assert proc.returncode == 4, err
    assert time.monotonic() - stopped <= BROKER_TIMEOUT + 10
    assert len(_error_lines(err)) == 1 and "lost the Kafka broker" in err


# -- signals -------------------------------------------------------------------------------
def _slow_run(tag: str, extra: list[str] | None = None) -> list[str]:
    return [
        "run", "--source", "linear", "--count", "200000", "--rate", "20000",
        "--task", "regression", "--model", "rls", "--model", "mean", "--batch-size", "1000",
        "--quiet", "--metrics-json", f"m-{tag}.json", *(extra or []),
    ]  # fmt: skip


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_at_a_batch_boundary_with_the_truthful_exit_code(
    workdir: Path, sig: int, code: int
) -> None:
    proc = _start(_slow_run("sig", ["--checkpoint", "ck"]))
    deadline = time.monotonic() + 60
    while _read_next_batch(workdir / "ck" / Checkpointer.FILE) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.023)  # somewhere inside a batch
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    m = metrics("m-sig.json")
    assert m["interrupted"] is True
    assert m["signal"] == signal.Signals(sig).name
    # every model predicted the same records: the summary is at a batch boundary
    assert m["records_predicted"] % 1000 == 0
    assert {v["predicted"] for v in m["models"].values()} == {m["records_predicted"]}
    assert "interrupted" in out
    # a rerun from the checkpoint finishes exactly as an uninterrupted run
    assert cli(*_slow_run("sig", ["--checkpoint", "ck"])).returncode == 0
    assert cli(*_slow_run("ref")).returncode == 0
    a, b = metrics("m-ref.json"), metrics("m-sig.json")
    assert b["interrupted"] is False
    assert a["records_predicted"] == b["records_predicted"] == 200_000
    for name, ma in a["models"].items():
        assert b["models"][name]["mse"] == pytest.approx(ma["mse"], rel=1e-9)


# -- an output hits a file size limit -------------------------------------------------------
def _malformed_csv(path: Path, n: int) -> None:
    rng = np.random.default_rng(11)
    lines = ["a,b,y"]
    for i in range(n):
        a, b = rng.normal(size=2)
        lines.append(f"{a:.5f},{b:.5f},{2 * a - b:.5f}" if i % 5 else f"{a:.5f},oops{i},??")
    path.write_text("\n".join(lines) + "\n")


def test_an_output_reaching_a_size_limit_is_one_line_and_the_resume_is_exact(
    workdir: Path,
) -> None:
    _malformed_csv(workdir / "data.csv", 60_000)
    base = [
        "run", "--source", "csv:data.csv", "--task", "regression", "--target", "y",
        "--model", "rls", "--batch-size", "2000", "--quiet",
    ]  # fmt: skip
    ref = cli(*base, "--dead-letter", "dl-ref.jsonl", "--metrics-json", "m-ref.json")
    assert ref.returncode == 0, ref.stderr
    limit = 300_000  # bytes: the dead letters pass it about half-way

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    run_args = [
        *base,
        "--dead-letter",
        "dl.jsonl",
        "--metrics-json",
        "m.json",
        "--checkpoint",
        "ck",
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "streamlearn", *run_args],
        capture_output=True,
        text=True,
        preexec_fn=limited,
        timeout=300,
    )
    assert proc.returncode == 4, proc.stderr
    lines = _error_lines(proc.stderr)
    assert len(lines) == 1 and "dl.jsonl" in lines[0], proc.stderr
    assert "file too large" in lines[0]
    assert "internal error" not in proc.stderr
    done = cli(*run_args)
    assert done.returncode == 0, done.stderr
    assert Path("dl.jsonl").read_bytes() == Path("dl-ref.jsonl").read_bytes()
    a, b = metrics("m-ref.json"), metrics("m.json")
    assert a["dead_letters"] == b["dead_letters"] == 12_000
    assert b["models"]["rls"]["mse"] == pytest.approx(a["models"]["rls"]["mse"], rel=1e-12)


# -- outputs are checked before the first record ---------------------------------------------
def _unwritable_folder(workdir: Path) -> Path:
    """A folder this process cannot write in (as root, a read-only file system)."""
    if os.geteuid() != 0:
        folder = workdir / "readonly"
        folder.mkdir()
        folder.chmod(0o500)
        return folder
    for candidate in (Path("/sys/streamlearn-test"), Path("/proc/streamlearn-test")):
        if candidate.parent.exists():
            return candidate
    pytest.skip("no unwritable folder for root here")  # pragma: no cover


@pytest.mark.parametrize(
    ("flag", "kind"),
    [
        ("--metrics-json", "file"),
        ("--dead-letter", "file"),
        ("--predictions", "folder"),
        ("--save", "folder"),
        ("--out", "folder"),
        ("--checkpoint", "folder"),
    ],
)
def test_bad_output_paths_fail_before_the_first_record(workdir: Path, flag: str, kind: str) -> None:
    Path("a-file").write_text("in the way\n")
    bad = {
        "a parent that is a file": ("a-file/out", "a-file is a file, not a folder"),
        "read-only": (str(_unwritable_folder(workdir) / "out"), ""),
    }
    if kind == "file":
        Path("a-folder").mkdir()
        bad["a folder"] = ("a-folder", "a-folder is a folder, not a file")
    for case, (path, reason) in bad.items():
        # a source that never ends: only a check before reading can return at once
        started = time.monotonic()
        args = [
            "run", "--source", "linear", "--count", "100000000", "--task", "regression",
            "--model", "rls", "--quiet", flag, path,
        ]  # fmt: skip
        proc = cli(*args)
        assert proc.returncode == 2, (case, proc.stderr)
        lines = _error_lines(proc.stderr)
        assert len(lines) == 1 and path in lines[0] and reason in lines[0], (case, proc.stderr)
        assert time.monotonic() - started < 30, case
        assert "internal error" not in proc.stderr


# -- a failing model -------------------------------------------------------------------------
class _RaisesAt:
    """A regressor that raises ZeroDivisionError when it reaches record ``at`` (1-based)."""

    def __new__(cls, at: int) -> Any:
        from streamlearn.learn.base import Regressor

        class RaisesAt(Regressor):
            def __init__(self) -> None:
                super().__init__()
                self.total = 0.0

            def learn_one(self, x: np.ndarray, y: Any) -> None:
                if self.n_learned + 1 == at:
                    raise ZeroDivisionError("float division by zero")
                self.total += float(y)
                self.n_learned += 1

            def predict_one(self, x: np.ndarray) -> float:
                return self.total / max(1, self.n_learned)

        return RaisesAt()


def test_a_learner_that_raises_is_marked_failed_and_the_others_complete() -> None:
    from rich.console import Console

    from streamlearn.cli.console import ConsoleObserver

    console = Console(record=True, width=200)
    summary = run(
        Pipeline(
            "linear",
            task="regression",
            models=["rls", "mean", _RaisesAt(2345)],
            until="count:10000",
            batch_size=1000,
        ),
        observer=ConsoleObserver(console=console, quiet=True),
    )
    shown = console.export_text()
    assert "RaisesAt failed at record 2,345" in shown
    assert "model RaisesAt failed at record 2,345 (linear[0]@2344), batch 3" in shown
    failed = summary["models"]["RaisesAt"]["failed"]
    assert failed["record"] == 2345
    assert failed["batch"] == 3
    assert failed["error"] == "ZeroDivisionError: float division by zero"
    assert failed["position"] == "linear[0]@2344"
    # the others went to the end; the failed one's figures cover the batches before
    assert summary["models"]["rls"]["predicted"] == summary["models"]["mean"]["predicted"]
    assert summary["records_predicted"] == 10_000 == summary["models"]["rls"]["predicted"]
    assert summary["models"]["RaisesAt"]["predicted"] == 2000
    assert summary["champion"] == "rls"
    last = summary["leaderboard"][-1]
    assert last["name"] == "RaisesAt" and last.get("failed") is True


def test_a_failed_model_is_never_champion_even_if_it_led() -> None:
    from streamlearn.learn.rls import RLS

    class LeadsThenFails(RLS):
        def test_then_train(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
            if self.n_learned >= 4000:
                raise FloatingPointError("overflow")
            return super().test_then_train(X, y)

    summary = run(
        Pipeline(
            "linear",
            task="regression",
            models=[LeadsThenFails(), "mean"],
            until="count:8000",
            batch_size=1000,
        )
    )
    led = summary["models"]["LeadsThenFails"]
    assert led["windowed_mse"] < summary["models"]["mean"]["windowed_mse"]  # best until it failed
    assert led["failed"]["record"] == 4001
    assert summary["champion"] == "mean"
    assert summary["significance"] is None  # one running model: nothing to compare


def test_fail_fast_stops_the_run_with_the_record_number() -> None:
    from streamlearn.evaluate.race import ModelFailedError

    with pytest.raises(ModelFailedError, match="failed at record 1,500") as caught:
        run(
            Pipeline(
                "linear",
                task="regression",
                models=["rls", _RaisesAt(1500)],
                until="count:5000",
                fail_fast=True,
            )
        )
    assert caught.value.exit_code == 4


# -- Kafka sinks across a restart -------------------------------------------------------------
def _dead_letter_batches(n_batches: int, per_batch: int) -> list[Any]:
    from streamlearn.records.batch import DeadLetter, RecordBatch
    from streamlearn.sinks.base import BatchResult

    out = []
    for b in range(n_batches):
        letters = [
            DeadLetter("src", 0, b * per_batch + i, f"bad {b}.{i}".encode(), "not a record")
            for i in range(per_batch)
        ]
        empty = RecordBatch({}, "src", np.zeros(0, np.int32), np.zeros(0, np.int64), b)
        out.append(BatchResult(b, empty, letters))
    return out


def _committed_keys(bootstrap: str, topic: str) -> list[bytes]:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "check",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    keys: list[bytes] = []
    quiet = time.monotonic()
    while time.monotonic() - quiet < 2.0:
        for msg in consumer.consume(1000, 0.2):
            if msg.error() is None:
                keys.append(msg.key())
                quiet = time.monotonic()
    consumer.close()
    return keys


@pytest.mark.kafka
def test_kafka_sink_batches_committed_after_the_checkpoint_are_not_written_twice(
    broker: Any, topic: str
) -> None:
    from streamlearn.kafka.sinks import KafkaDeadLetters

    batches = _dead_letter_batches(5, 40)
    first = KafkaDeadLetters(topic, broker.bootstrap)
    first.open(None)
    first.write(batches[0])
    checkpoint = first.snapshot()  # the checkpoint after batch 1
    first.write(batches[1])
    first.write(batches[2])  # committed, then the process dies before the next checkpoint
    # the resumed run replays batches 2 and 3 from the checkpoint, then goes on
    resumed = KafkaDeadLetters(topic, broker.bootstrap)
    resumed.open(checkpoint)
    for result in batches[1:]:
        resumed.write(result)
    resumed.close()
    keys = _committed_keys(broker.bootstrap, topic)
    assert resumed.skipped == 80
    assert len(keys) == 200 and len(set(keys)) == 200


@pytest.mark.kafka
@pytest.mark.xfail(
    strict=True,
    reason="Tansu 0.6 delivers the records of aborted transactions to read_committed consumers",
)
def test_kafka_sink_batch_cut_by_a_crash_is_hidden_from_committed_readers(
    broker: Any, topic: str
) -> None:
    from streamlearn.kafka.exactly_once import batch_headers
    from streamlearn.kafka.sinks import KafkaDeadLetters

    batches = _dead_letter_batches(3, 40)
    first = KafkaDeadLetters(topic, broker.bootstrap)
    first.open(None)
    first.write(batches[0])
    checkpoint = first.snapshot()
    # batch 2 is on its way, not committed, when the process dies
    first.writer.begin()
    first.writer.write([b"half"] * 10, [b"k"] * 10, headers=batch_headers(first.run, 2, 40))
    first.writer.flush()
    resumed = KafkaDeadLetters(topic, broker.bootstrap)
    resumed.open(checkpoint)  # fences the first writer: its transaction is aborted
    for result in batches[1:]:
        resumed.write(result)
    resumed.close()
    keys = _committed_keys(broker.bootstrap, topic)
    assert len(keys) == 120 and b"k" not in keys


@pytest.mark.kafka
def test_a_lost_broker_stops_a_label_join_in_time(workdir: Path) -> None:
    """With ``--labels``, the label topic's reader waits for the broker like the records'
    reader: one line naming the broker after ``--broker-timeout``, never an early error
    that leaves the exit waiting on a commit to the dead broker."""
    from streamlearn.kafka.broker import EmbeddedBroker

    with EmbeddedBroker() as broker:
        producer = _start([  # writing while the run reads: labels come in live
            "produce", "linear", "--count", "200000", "--rate", "2000", "--topic", "f",
            "--labels-topic", "l", "--label-delay", "0-1s", "--bootstrap", broker.bootstrap,
        ])  # fmt: skip
        time.sleep(2)
        args = [
            "run", "--source", "kafka:f", "--labels", "kafka:l", "--join-key", "id",
            "--bootstrap", broker.bootstrap, "--task", "regression", "--target", "y",
            "--model", "rls", "--batch-size", "200", "--until", "idle:30", "--quiet",
            "--broker-timeout", str(BROKER_TIMEOUT), "--checkpoint", "ck",
        ]  # fmt: skip
        proc = _start(args)
        _wait_for_batches(proc, workdir, 5)
        broker.stop()
        stopped = time.monotonic()
    producer.kill()
    producer.communicate(timeout=30)
    _, err = proc.communicate(timeout=90)
    assert proc.returncode == 4, err
    assert time.monotonic() - stopped <= BROKER_TIMEOUT + 10
    assert len(_error_lines(err)) == 1 and "lost the Kafka broker" in err
