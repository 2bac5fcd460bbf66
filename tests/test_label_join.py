"""Labels on their own topic (``--labels kafka:TOPIC --join-key``), and ``--delay SECONDS``.

Features are predicted on arrival and wait; labels are applied in event-time
order; when a record's label comes the models learn and the prediction made
at arrival is scored. Checked against an offline computation on the same
topics, across SIGKILLs, and for every count reconciling.
"""

from __future__ import annotations

import subprocess
import sys
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import cli, metrics, uninterrupted_and_resumed
from streamlearn import Pipeline, run
from streamlearn.errors import ConfigError
from streamlearn.evaluate.joined import JoinedRace
from streamlearn.learn.baselines import Mean
from streamlearn.learn.registry import build_models
from streamlearn.sources.registry import parse_source
from streamlearn.testing import ListSink

FEATURES = [f"x{i}" for i in range(1, 11)]


def _produce(bootstrap: str, features: str, labels: str, *extra: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "streamlearn", "produce", "linear", "--bootstrap", bootstrap,
         "--topic", features, "--labels-topic", labels, *extra],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def _read(bootstrap: str, topic: str) -> list[tuple[int, dict[str, Any]]]:
    """Every message of a one-partition topic: (timestamp ms, JSON object), in offset order."""
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "check", "enable.auto.commit": False})
    _low, high = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    c.assign([TopicPartition(topic, 0, 0)])
    out: list[tuple[int, dict[str, Any]]] = []
    while len(out) < high:
        for m in c.consume(1000, 1.0):
            if m.error() is None:
                out.append((m.timestamp()[1], orjson.loads(m.value())))
    c.close()
    return out


def _offline(
    records: list[tuple[int, dict[str, Any]]],
    labels: list[tuple[int, dict[str, Any]]],
    spec: str,
    timeout_ms: int | None,
) -> dict[str, Any]:
    """Delayed-label prequential evaluation written out: labels applied in (time, offset)
    order, each before any record stamped at or after it; records wait under their id."""
    (model,) = build_models([spec], "regression").values()
    model.set_features(tuple(FEATURES), np.zeros(len(FEATURES), dtype=bool))
    due = sorted((t, i, lab["id"], lab["y"]) for i, (t, lab) in enumerate(labels))
    due.reverse()
    waiting: OrderedDict[int, tuple[int, np.ndarray, float]] = OrderedDict()
    early: dict[int, tuple[int, float]] = {}
    done: set[int] = set()
    now, expired, sq = -(2**62), 0, []

    def expire() -> None:
        nonlocal expired
        while timeout_ms is not None and waiting:
            key, (t, _x, _p) = next(iter(waiting.items()))
            if t >= now - timeout_ms:
                break
            del waiting[key]
            expired += 1
            done.add(key)

    def learn(x: np.ndarray, pred: float, y: float) -> None:
        model.learn_one(x, y)
        sq.append((pred - y) ** 2)

    def advance(t: int) -> None:
        nonlocal now
        while due and due[-1][0] <= t:
            lt, _i, key, y = due.pop()
            now = max(now, lt)
            expire()
            if key in waiting:
                _t, x, pred = waiting.pop(key)
                learn(x, pred, y)
                done.add(key)
            elif key not in done and key not in early:
                early[key] = (lt, y)
        now = max(now, t)
        expire()

    for t, rec in records:
        advance(t)
        x = np.array([rec[f] for f in FEATURES], dtype=float)
        pred = model.predict_one(x)
        if rec["id"] in early:
            learn(x, pred, early.pop(rec["id"])[1])
            done.add(rec["id"])
        else:
            waiting[rec["id"]] = (t, x, pred)
    advance(2**62)
    return {
        "mse": float(np.mean(sq)),
        "labelled": len(sq),
        "expired": expired,
        "pending": len(waiting),
    }


def _args(bootstrap: str, features: str, labels: str, *extra: str) -> list[str]:
    return [
        "run", "--source", f"kafka:{features}", "--bootstrap", bootstrap,
        "--labels", f"kafka:{labels}", "--join-key", "id",
        "--task", "regression", "--target", "y", "--features", ",".join(FEATURES),
        "--model", "rls", "--batch-size", "250", "-q", *extra,
    ]  # fmt: skip


def _reconciles(summary: dict[str, Any]) -> None:
    lab = summary["labels"]
    parts = lab["labelled"] + lab["unlabeled_expired"] + lab["pending"] + lab["evicted"]
    assert summary["records_predicted"] == parts + lab["unlabelled"]


@pytest.mark.kafka
def test_labels_on_their_own_topic_equal_an_offline_computation(
    broker: Any, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    """Labels 0-5 s late, 3% never: every count reconciles, and the MSE is the offline one."""
    features, labels = make_topic(), make_topic()
    _produce(broker.bootstrap, features, labels, "--count", "3000", "--rate", "1500",
             "--label-delay", "0-5s", "--label-loss", "0.03", "--seed", "4")  # fmt: skip
    records, label_rows = _read(broker.bootstrap, features), _read(broker.bootstrap, labels)
    assert len(records) == 3000 and 2850 <= len(label_rows) <= 2960
    out = cli(*_args(broker.bootstrap, features, labels, "--label-timeout", "3",
                     "--metrics-json", str(tmp_path / "m.json")))  # fmt: skip
    assert out.returncode == 0, out.stderr
    summary = metrics(tmp_path / "m.json")
    lab = summary["labels"]
    _reconciles(summary)
    offline = _offline(records, label_rows, "rls", timeout_ms=3000)
    assert lab["labelled"] == offline["labelled"]
    assert lab["unlabeled_expired"] == offline["expired"] > 0.03 * 3000 * 0.5
    assert lab["pending"] == offline["pending"]
    assert summary["models"]["rls"]["mse"] == pytest.approx(offline["mse"], rel=1e-9)
    # labels later than the timeout came after their record expired: dead-lettered
    assert lab["unknown_keys"] == len(label_rows) - lab["labelled"] - lab["duplicates"]
    assert lab["label_records"] == len(label_rows) and lab["malformed_labels"] == 0
    # the delays joined: uniform on 0-5 s, cut at the 3 s timeout
    assert 1.2 < lab["delay_s"]["p50_s"] < 1.8 and 2.8 < lab["delay_s"]["max_s"] <= 3.0


@pytest.mark.kafka
@pytest.mark.faults
def test_three_sigkills_then_resume_equal_the_uninterrupted_run(
    broker: Any, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    features, labels = make_topic(), make_topic()
    _produce(broker.bootstrap, features, labels, "--count", "40000", "--label-delay", "0-2s",
             "--label-loss", "0.03", "--seed", "9")  # fmt: skip
    rng = np.random.default_rng(7)
    kills = sorted(rng.uniform(1.0, 2.2, size=3).tolist())
    args = _args(broker.bootstrap, features, labels, "--label-timeout", "1.5",
                 "--max-pending", "40000", "--model", "sgd", "--batch-size", "500")  # fmt: skip
    whole, resumed = uninterrupted_and_resumed(args, tmp_path, kills)
    for key in ("records_predicted", "labels", "champion", "dead_letters"):
        assert resumed[key] == whole[key], key
    for name in ("rls", "sgd"):
        assert resumed["models"][name]["mse"] == whole["models"][name]["mse"]
    _reconciles(whole)
    lab = whole["labels"]
    assert lab["unlabeled_expired"] > 0 and lab["labelled"] > 20_000 and lab["unknown_keys"] > 0


@pytest.mark.kafka
def test_records_without_a_join_key_are_served_not_learned(
    broker: Any, make_topic: Callable[..., str]
) -> None:
    from streamlearn.kafka.producer import KafkaWriter

    features, labels = make_topic(), make_topic()
    rows = [{"id": i, "x1": float(i % 7), "y": None} for i in range(200)]
    for r in rows[::4]:
        del r["id"]  # no key: nothing will ever label it
    with KafkaWriter(broker.bootstrap, features) as w:
        w.write_stamped(
            [orjson.dumps(r) for r in rows], [b"k"] * 200, [1000 + i for i in range(200)]
        )
    with KafkaWriter(broker.bootstrap, labels) as w:
        w.write_stamped(
            [orjson.dumps({"id": i, "y": 2.0 * (i % 7)}) for i in range(200) if i % 4],
            [b"k"] * 150,
            [1005 + i for i in range(200) if i % 4],
        )
    sink = ListSink()
    s = run(
        Pipeline(
            parse_source(f"kafka:{features}", bootstrap=broker.bootstrap),
            task="regression",
            target="y",
            features=["x1"],
            models=["mean"],
            labels=f"kafka:{labels}",
            join_key="id",
        ),
        sinks=[sink],
    )
    assert s["records_predicted"] == 200 and s["labels"]["unlabelled"] == 50
    assert s["labels"]["labelled"] == 150 and s["labels"]["pending"] == 0
    assert sum(len(r.predictions.get("mean", ())) for r in sink.results) == 200
    # the mean learned only the 150 labels: their mean
    assert s["models"]["mean"]["predicted"] == 150


def _stamped_linear(bootstrap: str, topic: str, n: int, step_ms: int) -> None:
    """The course's linear rows, stamped ``step_ms`` apart."""
    from streamlearn.kafka.producer import KafkaWriter
    from streamlearn.sources.generators.course import course_payloads

    payloads = list(course_payloads("linear", 0, n))
    with KafkaWriter(bootstrap, topic) as w:
        w.write_stamped(payloads, [b"k"] * n, [10_000 + i * step_ms for i in range(n)])


@pytest.mark.kafka
def test_delay_in_seconds_is_the_delay_in_records_the_timestamps_imply(
    broker: Any, topic: str
) -> None:
    """Records 10 ms apart: a label 1 s late comes right before record i + 100 is predicted,
    as with ``--delay 99`` records, so every prediction is the same. Only the last label
    differs: ``--delay 99`` applies it after the last record, while 1 s after the last
    record has not come yet. ``--delay 0s`` is the plain run."""
    _stamped_linear(broker.bootstrap, topic, 3000, 10)
    src = parse_source(f"kafka:{topic}", bootstrap=broker.bootstrap)

    def go(delay: int | str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        sink = ListSink()
        p = Pipeline(src, task="regression", models=["rls", "sgd"], delay=delay, batch_size=300)
        s = dict(run(p, sinks=[sink]))
        preds = {
            n: np.concatenate([r.predictions[n] for r in sink.results]) for n in ("rls", "sgd")
        }
        return s, preds

    for seconds, records, late in (("1s", 99, 1), ("0s", 0, 0)):
        (a, a_preds), (b, b_preds) = go(seconds), go(records)
        for name in ("rls", "sgd"):
            assert np.array_equal(a_preds[name], b_preds[name])
        assert a["labels"]["labelled"] == b["labels"]["labelled"] - late
        assert a["labels"]["pending"] == b["labels"]["pending"] + late
        assert a["labels"]["delay_seconds"] == float(seconds[:-1])
        assert a["labels"]["delay_s"]["p50_s"] == float(seconds[:-1])
    # seconds of delay cost accuracy as records of delay do
    assert a["models"]["rls"]["mse"] < go("1s")[0]["models"]["rls"]["mse"]


def test_label_flags_are_checked_before_any_record() -> None:
    with pytest.raises(ConfigError, match="kafka:TOPIC source"):
        Pipeline("linear", task="regression", models=["rls"], delay="5s")
    with pytest.raises(ConfigError, match="--join-key"):
        Pipeline("kafka:f", task="regression", models=["rls"], labels="kafka:l")
    with pytest.raises(ConfigError, match="takes kafka:TOPIC"):
        Pipeline("kafka:f", task="regression", models=["rls"], labels="l.csv", join_key="id")
    with pytest.raises(ConfigError, match="--delay must be"):
        Pipeline("linear", task="regression", models=["rls"], delay="soon")
    out = cli("run", "--source", "linear", "--task", "regression", "--delay", "2s")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


# -- the join itself, without a broker ---------------------------------------------------
events = st.lists(
    st.tuples(st.integers(0, 30), st.integers(0, 2_000), st.booleans()), min_size=1, max_size=120
)


def _race(timeout: int | None, max_pending: int) -> JoinedRace:
    race = JoinedRace({"mean": Mean()}, "regression", timeout_ms=timeout, max_pending=max_pending)
    race.set_features(("x",), np.zeros(1, dtype=bool))
    return race


@settings(max_examples=60, deadline=None)
@given(
    rows=events,
    cuts=st.lists(st.integers(1, 40), min_size=1, max_size=10),
    timeout=st.one_of(st.none(), st.integers(0, 500)),
    max_pending=st.integers(1, 50),
)
def test_every_record_is_accounted_for_and_batching_changes_nothing(
    rows: list[tuple[int, int, bool]], cuts: list[int], timeout: int | None, max_pending: int
) -> None:
    """(key, time, labelled) rows, times increasing; each label comes 0-300 ms late."""
    rows = [(k, t, lab) for (k, _t, lab), t in zip(rows, sorted(r[1] for r in rows), strict=True)]
    keys = [str(k) for k, _t, _l in rows]
    ts = np.array([t for _k, t, _l in rows])
    X = np.array([[float(k)] for k, _t, _l in rows])
    due = [(t + (k * 37) % 300, str(k), float(k)) for k, t, lab in rows if lab]

    def go(sizes: list[int]) -> JoinedRace:
        race = _race(timeout, max_pending)
        lab = sorted(due)
        race.schedule(np.array([d[0] for d in lab], dtype=np.int64), [d[1] for d in lab],
                      [d[2] for d in lab], [("labels", 0, j, b"") for j in range(len(lab))])  # fmt: skip
        i = j = 0
        while i < len(rows):
            size = sizes[j % len(sizes)]
            race.step_joined(X[i : i + size], keys[i : i + size], ts[i : i + size])
            i, j = i + size, j + 1
        race.drain()
        return race

    one, many = go([len(rows)]), go(cuts)
    counts = one.label_counts()
    assert counts == many.label_counts()
    a, b = one.metrics()["mean"], many.metrics()["mean"]
    assert a.keys() == b.keys()
    for k, v in a.items():  # NaN before any label; faded sums round differently by batch
        if isinstance(v, float) and v == v:
            assert b[k] == pytest.approx(v, rel=1e-9), k  # type: ignore[literal-required]
        else:
            assert repr(v) == repr(b[k]), k  # type: ignore[literal-required]
    held = counts["labelled"] + counts["pending"] + counts["unlabeled_expired"]
    assert held + counts["evicted"] + counts["unlabelled"] == len(rows)
    assert counts["max_pending"] <= max_pending
    assert counts["labelled"] == counts["delay_s"]["count"]


def test_a_label_that_came_first_joins_its_record_and_duplicates_lose() -> None:
    race = _race(None, 10)
    race.schedule(np.array([5, 6, 7]), ["a", "a", "zz"], [10.0, 99.0, 1.0], [None] * 3)
    race.step_joined(np.array([[1.0]]), ["a"], np.array([10]))
    counts = race.label_counts()
    assert counts["labelled"] == 1 and counts["duplicates"] == 1 and counts["early_labels"] == 1
    assert race.models["mean"].predict_one(np.array([0.0])) == 10.0  # the first label won


def test_a_label_after_its_record_expired_is_dead_lettered_with_its_bytes() -> None:
    race = _race(100, 10)
    race.step_joined(np.array([[1.0]]), ["a"], np.array([0]))
    race.step_joined(np.array([[1.0]]), ["b"], np.array([500]))  # "a" expires here
    race.schedule(np.array([600]), ["a"], [1.0], [("labels", 0, 41, b'{"id":"a","y":1}')])
    race.drain()
    (letter,) = race.take_dead_letters()
    assert (letter.partition, letter.offset, letter.raw) == (0, 41, b'{"id":"a","y":1}')
    assert "expired" in letter.reason
    assert race.label_counts()["unlabeled_expired"] == 1


@pytest.mark.kafka
def test_the_report_and_console_show_what_became_of_the_labels(
    broker: Any, make_topic: Callable[..., str], tmp_path: Path, page: Any
) -> None:
    features, labels = make_topic(), make_topic()
    _produce(broker.bootstrap, features, labels, "--count", "1500", "--rate", "3000",
             "--label-delay", "0-1s", "--label-loss", "0.05", "--seed", "2")  # fmt: skip
    out = cli(*[a for a in _args(broker.bootstrap, features, labels) if a != "-q"],
              "--label-timeout", "0.8", "--out", str(tmp_path / "out"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    summary = metrics(tmp_path / "out" / "metrics.json")
    lab = summary["labels"]
    assert f"{lab['labelled']:,} learned and scored" in out.stdout
    assert "label delay: median" in out.stdout
    assert (tmp_path / "out" / "plots" / "label_delays.png").stat().st_size > 5_000
    page.goto((tmp_path / "out" / "report.html").as_uri())
    page.wait_for_selector("#labels-delays .bar")
    assert page.errors == []
    counts = page.inner_text("#labels-counts")
    assert f"{lab['labelled']:,}" in counts and f"{lab['unlabeled_expired']:,}" in counts
    # the bins in 1-2-5 steps: 0-1 s is at most 3 per decade over 1 ms..1 s, plus one
    bars = page.eval_on_selector_all("#labels-delays tr", "rs => rs.map(r => r.innerText)")
    cells = [r.split("\t") for r in bars if r.count("\t") >= 2][1:]  # below the header
    counts_shown = [int(c[1].replace(",", "")) for c in cells]
    assert sum(counts_shown) == lab["delay_s"]["count"] and 4 <= len(counts_shown) <= 11


@pytest.mark.kafka
def test_the_predictions_topic_is_a_live_feed_keyed_by_record_with_the_champion_marked(
    broker: Any, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    from confluent_kafka import Consumer, TopicPartition

    features, labels, predictions = make_topic(), make_topic(), make_topic()
    _produce(broker.bootstrap, features, labels, "--count", "1200", "--label-delay", "0-0.5s",
             "--seed", "3")  # fmt: skip
    out = cli(*_args(broker.bootstrap, features, labels, "--model", "mean",
                     "--predictions", f"kafka:{predictions}",
                     "--metrics-json", str(tmp_path / "m.json")))  # fmt: skip
    assert out.returncode == 0, out.stderr
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "feed"})
    c.assign([TopicPartition(predictions, 0, 0)])
    got: list[Any] = []
    while len(got) < 1200:
        got += [m for m in c.consume(500, 2.0) if m.error() is None]
    c.close()
    ids = [int(m.key()) for m in got]
    assert sorted(ids) == list(range(1200))  # every record, keyed by its id
    champions = set()
    for m in got:
        doc = orjson.loads(m.value())
        assert doc["key"] == int(m.key())
        assert doc["prediction"] == doc["predictions"][doc["champion"]]
        champions.add(doc["champion"])
    # before any label the first model serves; the winner of the race serves later
    assert metrics(tmp_path / "m.json")["champion"] in champions


@pytest.mark.kafka
def test_a_live_run_joins_as_a_later_run_over_the_finished_topics(
    broker: Any, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    """The run reads while the producer writes features now and labels later; a second run
    over the same topics once written gives the same figures: the order is event time."""
    from helpers import start_cli

    features, labels = make_topic(), make_topic()
    args = _args(broker.bootstrap, features, labels, "--label-timeout", "1.5",
                 "--until", "idle:4")  # fmt: skip
    live = start_cli(*args, "--metrics-json", str(tmp_path / "live.json"))
    _produce(broker.bootstrap, features, labels, "--count", "4000", "--rate", "1000",
             "--label-delay", "0-2s", "--label-loss", "0.03", "--seed", "5")  # fmt: skip
    assert live.wait(120) == 0, live.stderr.read() if live.stderr else ""
    later = cli(*args, "--metrics-json", str(tmp_path / "later.json"))
    assert later.returncode == 0, later.stderr
    a, b = metrics(tmp_path / "live.json"), metrics(tmp_path / "later.json")
    _reconciles(a)
    assert a["records_predicted"] == 4000 and a["labels"]["labelled"] > 2500  # 3% lost, 25% late
    assert a["labels"] == b["labels"]
    assert a["models"]["rls"]["mse"] == b["models"]["rls"]["mse"]


@pytest.mark.kafka
def test_labels_spread_over_partitions_join_the_same_way_every_time(
    broker: Any, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    features, labels = make_topic(), make_topic(partitions=3)
    _produce(broker.bootstrap, features, labels, "--count", "3000", "--rate", "2000",
             "--label-delay", "0-2s", "--label-loss", "0.03", "--seed", "8")  # fmt: skip
    records = _read(broker.bootstrap, features)
    runs = []
    for tag in ("a", "b"):
        out = cli(*_args(broker.bootstrap, features, labels, "--label-timeout", "1.5",
                         "--metrics-json", str(tmp_path / f"{tag}.json")))  # fmt: skip
        assert out.returncode == 0, out.stderr
        runs.append(metrics(tmp_path / f"{tag}.json"))
    a, b = runs
    _reconciles(a)
    assert a["labels"] == b["labels"] and a["models"] == b["models"]
    # the same counts as the offline join of the labels, whatever their partition
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "all"})
    c.assign([TopicPartition(labels, p, 0) for p in range(3)])
    label_rows: list[tuple[int, dict[str, Any]]] = []
    while len(label_rows) < a["labels"]["label_records"]:
        label_rows += [(m.timestamp()[1], orjson.loads(m.value())) for m in c.consume(1000, 1.0)
                       if m.error() is None]  # fmt: skip
    c.close()
    offline = _offline(records, sorted(label_rows, key=lambda r: r[0]), "rls", timeout_ms=1500)
    lab = a["labels"]
    assert (lab["labelled"], lab["unlabeled_expired"], lab["pending"]) == (
        offline["labelled"], offline["expired"], offline["pending"])  # fmt: skip


def test_a_delay_in_seconds_survives_a_copy_of_the_pipeline() -> None:
    import dataclasses

    p = Pipeline("kafka:f", task="regression", models=["rls"], delay="1.5s")
    q = dataclasses.replace(p, format="json")
    assert (p.delay_seconds, q.delay_seconds) == (1.5, 1.5)
    assert Pipeline("linear", task="regression", models=["rls"], delay="20").delay == 20


def test_own_labels_of_evicted_records_do_not_pile_up() -> None:
    """``--delay SECONDS`` with a small ``--max-pending``: the schedule stays bounded too."""
    race = _race(None, 10)
    X = np.zeros((100, 1))
    for b in range(20):
        keys = [str(b * 100 + i) for i in range(100)]
        ts = np.arange(b * 100, b * 100 + 100)
        race.schedule(ts + 1_000_000, keys, [1.0] * 100, [None] * 100)  # due much later
        race.step_joined(X, keys, ts)
        assert len(race.scheduled) <= 2 * 10 + 100
    counts = race.label_counts()
    assert counts["evicted"] == 2000 - 10 and counts["pending"] == 10
    assert counts["unknown_keys"] == 0  # a record's own label is not an unknown key


@pytest.mark.kafka
def test_producing_labels_from_a_real_file_skips_bad_lines_and_keeps_its_id_column(
    broker: Any, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    rows = ["id,x,label", *(f"{100 + i},{i * 0.5},{'up' if i % 2 else 'down'}" for i in range(40))]
    rows[7] = "103,not-a-number,up"  # a bad line
    rows[9] = "105,4.0,"  # no label: written to be served
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(rows) + "\n")
    features, labels = make_topic(), make_topic()
    base = ["produce", f"csv:{path}", "--bootstrap", broker.bootstrap, "--topic", features,
            "--labels-topic", labels, "--label-delay", "0s", "--target", "label"]  # fmt: skip
    clash = cli(*base)
    assert clash.returncode == 2 and "--id-field" in clash.stderr
    assert "Traceback" not in clash.stderr and len(clash.stderr.strip().splitlines()) == 1
    done = cli(*base, "--id-field", "rid")
    assert done.returncode == 0, done.stderr
    assert "39 records" in done.stdout and "1 records skipped" in done.stdout
    written = _read(broker.bootstrap, features)
    assert [r["id"] for _t, r in written][:3] == [100, 101, 102]  # the file's own ids kept
    assert len(_read(broker.bootstrap, labels)) == 38  # the unlabelled row gets none
