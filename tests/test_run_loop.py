"""The shared run loop: sink ids, checkpoints, batch intervals, non-finite values, overflow."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import cli, kill_when, metrics, start_cli
from streamlearn import Pipeline, parse_source, run
from streamlearn.checkpoint import Checkpointer, read_header
from streamlearn.errors import ConfigError
from streamlearn.sinks.deadletters import DeadLetterFile
from streamlearn.testing import ListSink, MemorySource


def _row(i: int, x1: str | None = None) -> bytes:
    """A literal list in the course layout: ``[i, y, x1, ..., x10]``."""
    xs = [x1 or str(i % 7), *(str((i * k) % 5) for k in range(2, 11))]
    return f"[{i}, {0.5 * i}, {', '.join(xs)}]".encode()


def _rows(n: int, bad_every: int = 0) -> list[bytes]:
    """Literal lists; every ``bad_every``-th one broken."""
    return [b"[broken" if bad_every and i % bad_every == 0 else _row(i) for i in range(n)]


def _pipeline(rows: list[bytes], batch_size: int = 100) -> Pipeline:
    return Pipeline(
        MemorySource(rows), task="regression", models=["mean", "rls"], batch_size=batch_size
    )


# -- identity -------------------------------------------------------------------------------
def test_two_sinks_with_one_id_are_refused_before_anything_is_read(tmp_path: Path) -> None:
    """A user's dead-letter file and ``dead_letters=`` both default to the id ``dead_letters``.

    Before sinks had ids, their checkpointed positions shared one key and a
    resume truncated the user's file to the other file's length.
    """
    mine, theirs = tmp_path / "mine.jsonl", tmp_path / "theirs.jsonl"
    with pytest.raises(ConfigError, match="two sinks have the id 'dead_letters'"):
        run(
            _pipeline(_rows(1000, 10)),
            sinks=[DeadLetterFile(mine)],
            dead_letters=theirs,
            checkpoint=tmp_path / "ck",
        )
    assert not mine.exists() and not theirs.exists()


def test_sinks_with_their_own_ids_resume_without_losing_a_line(tmp_path: Path) -> None:
    rows = _rows(1000, 10)
    mine, theirs, ck = tmp_path / "mine.jsonl", tmp_path / "theirs.jsonl", tmp_path / "ck"
    # a first run stops after 600 records (as if killed after its checkpoint), a second resumes
    first = Pipeline(
        MemorySource(rows), task="regression", models=["mean"], batch_size=100, until="count:600"
    )
    run(first, sinks=[DeadLetterFile(mine, sink_id="mine")], dead_letters=theirs, checkpoint=ck)
    assert len(mine.read_text().splitlines()) == 60
    whole = Pipeline(
        MemorySource(rows), task="regression", models=["mean"], batch_size=100, until="count:600"
    )
    whole.until = type(whole.until)("end")
    summary = run(
        whole, sinks=[DeadLetterFile(mine, sink_id="mine")], dead_letters=theirs, checkpoint=ck
    )
    assert summary["dead_letters"] == 100
    assert len(mine.read_text().splitlines()) == len(theirs.read_text().splitlines()) == 100
    assert [json.loads(x)["offset"] for x in mine.read_text().splitlines()] == list(
        range(0, 1000, 10)
    )


@pytest.mark.kafka
def test_file_and_kafka_dead_letters_resume_without_truncating_the_file(
    broker, tmp_path: Path
) -> None:
    """The review's case: before sink ids, resuming truncated the file to 0 bytes (60 of 100 lines lost)."""
    from streamlearn.kafka.sinks import KafkaDeadLetters

    rows, mine, ck = _rows(1000, 10), tmp_path / "mine.jsonl", tmp_path / "ck"

    def sinks(file_id: str | None) -> list:
        return [DeadLetterFile(mine, sink_id=file_id), KafkaDeadLetters("dead", broker.bootstrap)]

    with pytest.raises(ConfigError, match="two sinks have the id 'dead_letters'"):
        run(_pipeline(rows), sinks=sinks(None), checkpoint=ck)
    first = Pipeline(
        MemorySource(rows), task="regression", models=["mean"], batch_size=100, until="count:600"
    )
    run(first, sinks=sinks("mine"), checkpoint=ck)
    run(
        Pipeline(MemorySource(rows), task="regression", models=["mean"], batch_size=100),
        sinks=sinks("mine"),
        checkpoint=ck,
    )
    assert [json.loads(x)["offset"] for x in mine.read_text().splitlines()] == list(
        range(0, 1000, 10)
    )


def test_two_steps_with_one_id_are_refused() -> None:
    from streamlearn.steps import KeyedStats

    with pytest.raises(ConfigError, match="two steps have the id 'stats'"):
        Pipeline("linear", steps=[KeyedStats(["mean"]), KeyedStats(["var"])])
    p = Pipeline("linear", steps=[KeyedStats(["mean"]), KeyedStats(["var"], step_id="var")])
    with pytest.raises(ConfigError, match="two steps have the id 'var'"):
        p.then(KeyedStats(["max"], step_id="var"))


def test_two_keyed_stats_keep_their_own_summaries() -> None:
    from streamlearn.steps import KeyedStats

    p = Pipeline(
        "linear",
        until="count:500",
        steps=[
            KeyedStats(["mean"], columns=["x1"]),
            KeyedStats(["max"], columns=["x2"], step_id="x2max"),
        ],
    )
    stats = run(p)["stats"]
    assert set(stats) == {"stats", "x2max"}
    assert set(stats["stats"]["keys"]["*"]["x1"]) == {"mean"}
    assert set(stats["x2max"]["keys"]["*"]["x2"]) == {"max"}


# -- checkpoints ------------------------------------------------------------------------------
@pytest.mark.faults
def test_checkpoint_of_another_pipeline_is_refused(tmp_path: Path) -> None:
    run(_pipeline(_rows(500)), checkpoint=tmp_path / "ck")
    other = Pipeline(MemorySource(_rows(500)), task="regression", models=["mean"], batch_size=100)
    with pytest.raises(ConfigError, match="belongs to a different pipeline"):
        run(other, checkpoint=tmp_path / "ck")


def _saved(tmp_path: Path) -> Path:
    run(_pipeline(_rows(500)), checkpoint=tmp_path / "ck")
    return tmp_path / "ck" / Checkpointer.FILE


@pytest.mark.faults
def test_truncated_or_altered_checkpoint_is_refused(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    good = path.read_bytes()
    for damaged, why in (
        (good[: len(good) // 2], "damaged"),
        (good[:-1] + bytes([good[-1] ^ 0x01]), "damaged"),
        (b"not a checkpoint at all", "not a streamlearn checkpoint"),
    ):
        path.write_bytes(damaged)
        with pytest.raises(ConfigError, match=why):
            run(_pipeline(_rows(500)), checkpoint=tmp_path / "ck")


@pytest.mark.faults
def test_a_crafted_pickle_is_never_unpickled(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    marker = tmp_path / "pwned"
    header = read_header(path)

    class Exploit:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    import pickle

    evil = pickle.dumps(Exploit())
    # the attacker keeps the header (right fingerprint) but cannot match the digest
    raw = path.read_bytes()
    start = raw.index(b"\n", raw.index(b"\n") + 1) + 1
    path.write_bytes(raw[:start] + evil)
    assert header["next_batch"] == 5
    with pytest.raises(ConfigError, match="damaged"):
        run(_pipeline(_rows(500)), checkpoint=tmp_path / "ck")
    assert not marker.exists()


@pytest.mark.faults
def test_checkpoint_writable_by_others_is_refused(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    path.chmod(0o666)
    with pytest.raises(ConfigError, match="writable by other users"):
        run(_pipeline(_rows(500)), checkpoint=tmp_path / "ck")
    path.chmod(0o600)
    (tmp_path / "ck").chmod(0o777)
    with pytest.raises(ConfigError, match="writable by other users"):
        run(_pipeline(_rows(500)), checkpoint=tmp_path / "ck")


@pytest.mark.faults
@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_checkpoint_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    os.chown(path, 12345, 12345)
    with pytest.raises(ConfigError, match="belongs to another user"):
        run(_pipeline(_rows(500)), checkpoint=tmp_path / "ck")


def _write_csv(path: Path, n: int) -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(n, 3))
    y = x @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=n)
    lines = [
        "a,b,c,y",
        *(f"{a:.6f},{b:.6f},{c:.6f},{t:.6f}" for (a, b, c), t in zip(x, y, strict=True)),
    ]
    path.write_text("\n".join(lines) + "\n")


def _file_run(tag: str, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    return (
        "run", "--source", "csv:data.csv", "--task", "regression", "--target", "y",
        "--model", "rls", "--model", "mean", "--batch-size", "2000", "--quiet",
        "--metrics-json", f"m-{tag}.json", "--predictions", f"preds-{tag}", *extra,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.faults
def test_checkpoint_every_3_after_kills_equals_the_uninterrupted_run(workdir: Path) -> None:
    _write_csv(workdir / "data.csv", 400_000)
    ref = cli(*_file_run("ref"))
    assert ref.returncode == 0, ref.stderr
    ck = workdir / "ck"
    run_args = _file_run("kill", ("--checkpoint", str(ck), "--checkpoint-every", "3"))
    rng = np.random.default_rng(int(os.environ.get("STREAMLEARN_KILL_SEED", "3")))
    kills = 0
    for target in sorted(rng.choice(np.arange(9, 180, 3), 3, replace=False).tolist()):
        proc = start_cli(*run_args)

        def at_target(target: int = target) -> bool:
            try:
                return int(read_header(ck / Checkpointer.FILE)["next_batch"]) >= target
            except (FileNotFoundError, ConfigError):
                return False

        # a checkpoint every 3 batches: the kill lands between checkpoints, so batches are replayed
        kills += kill_when(
            proc, lambda at_target=at_target: at_target() and time.sleep(0.05) is None
        )
    assert kills == 3, "the run ended before it could be killed three times"
    final = cli(*run_args)
    assert final.returncode == 0, final.stderr
    a, b = metrics("m-ref.json"), metrics("m-kill.json")
    for key in ("records_consumed", "records_predicted", "dead_letters", "batches", "champion"):
        assert a[key] == b[key], key
    for name, ma in a["models"].items():
        assert b["models"][name]["mse"] == pytest.approx(ma["mse"], rel=1e-12)
    ref_files = sorted(p.name for p in Path("preds-ref").iterdir())
    assert ref_files == sorted(p.name for p in Path("preds-kill").iterdir())
    for name in ref_files:
        assert Path("preds-ref", name).read_bytes() == Path("preds-kill", name).read_bytes()


# -- batches by time, non-finite values, category overflow -----------------------------------
def test_batch_interval_cuts_batches_by_time() -> None:
    sink = ListSink()
    paced = parse_source("linear", rate=5000.0, count=3000)
    pipeline = Pipeline(
        paced, task="regression", models=["mean"], batch_size=100_000, batch_interval=0.2
    )
    t0 = time.monotonic()
    summary = run(pipeline, sinks=[sink])
    took = time.monotonic() - t0
    sizes = [len(r.records) for r in sink.results]
    assert sum(sizes) == summary["records_predicted"] == 3000
    # 3000 records at 5000/s in batches of 0.2 s: about 1000 each, never the 100,000 limit
    assert len(sizes) >= 3 and max(sizes) <= 1500
    assert 0.5 <= took < 10


def test_nonfinite_keep_predicts_them_and_rls_does_not_learn_them(tmp_path: Path) -> None:
    rows = [_row(i, "nan" if i % 50 == 0 else None) for i in range(1000)]
    kept = run(
        Pipeline(
            MemorySource(rows), task="regression", models=["rls"], batch_size=100, nonfinite="keep"
        ),
    )
    assert kept["records_predicted"] == 1000 and kept["dead_letters"] == 0
    assert kept["models"]["rls"]["diagnostics"] == {"capped": 0, "skipped": 20}
    strict = run(Pipeline(MemorySource(rows), task="regression", models=["rls"], batch_size=100))
    assert strict["records_predicted"] == 980 and strict["dead_letters"] == 20
    assert strict["models"]["rls"]["diagnostics"]["skipped"] == 0


def test_category_overflow_is_counted_and_the_race_goes_on() -> None:
    from streamlearn.learn.features import CategoryIndex

    limit = CategoryIndex().max_categories
    rows = [
        {"user": f"u{i}", "x": float(i % 5), "label": "odd" if i % 2 else "even"}
        for i in range(limit + 500)
    ]
    summary = run(
        Pipeline(
            MemorySource(rows),
            task="classification",
            target="label",
            features=["user", "x"],  # a text column with a new value on every row: asked for
            models=["nb", "majority"],
            batch_size=1000,
        )
    )
    assert summary["records_predicted"] == limit + 500
    assert summary["category_overflow"] == {"user": 500}
