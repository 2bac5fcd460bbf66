"""The live dashboard: bounded history, the server on 127.0.0.1, and a real run in Chromium."""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from streamlearn import Pipeline, run
from streamlearn.cli.reporting import with_reporting
from streamlearn.dashboard import DashboardServer, History
from streamlearn.dashboard.page import render_page
from streamlearn.dashboard.tables import stats_table
from streamlearn.engines.base import Observer
from streamlearn.errors import ConfigError
from streamlearn.records.batch import DeadLetter
from streamlearn.sinks.base import BatchResult
from streamlearn.sources.base import Progress
from streamlearn.testing import ListSink

#: one headless Chromium for the whole session, shared by both browser test modules

REPO = Path(__file__).resolve().parents[1]


@functools.cache
def _real_run() -> tuple[BatchResult, ...]:
    """Batch results of a real run: the shapes the dashboard receives."""
    sink = ListSink()
    run(
        Pipeline("linear", task="regression", models=["mean"], batch_size=100, until="count:300"),
        sinks=[sink],
    )
    return tuple(sink.results)


def _result(
    batch: int, consumed: int, dead: list[DeadLetter] | None = None, **extra: Any
) -> BatchResult:
    """A real run's last batch result, moved to another point of the stream."""
    real = _real_run()[-1]
    summary = copy.deepcopy(real.summary)
    summary.update(
        records_consumed=consumed, records_predicted=consumed, batches=batch + 1, **extra
    )  # type: ignore[typeddict-item]
    model = summary["models"]["mean"]
    model.update(mse=1.0 / (batch + 1), windowed_mse=0.5, predicted=consumed)
    summary["leaderboard"][0].update(cumulative=1.0, windowed=0.5, predicted=consumed)
    return BatchResult(batch, real.records, dead or [], summary=summary)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, timeout: float = 5) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return bytes(resp.read())


# -- history --------------------------------------------------------------------------
def test_history_is_bounded_and_keeps_the_latest_point():
    clock = iter(float(i) / 10 for i in range(100_000))
    h = History("r", max_points=100, clock=lambda: next(clock))
    h.start({"kind": "linear"})
    for b in range(10_000):
        h.add(_result(b, 1000 * (b + 1)), Progress(1000 * (b + 1), total=10_000_000))
        assert len(h.points) < 100
    series = h.series()
    assert 50 <= len(series["records"]) <= 101
    assert series["records"][-1] == 10_000_000  # curves end where the run is
    assert series["batch"] == sorted(series["batch"])
    assert len(series["models"]["mean"]["cumulative"]) == len(series["records"])
    assert series["rate"][-1] == pytest.approx(10_000.0)  # 1,000 records per 0.1 s


def test_history_keeps_only_the_latest_dead_letter_reasons():
    h = History("r", max_reasons=20)
    letters = [DeadLetter("f.csv", 0, i, b"x" * 500, f"bad {i}", "line") for i in range(50)]
    h.add(_result(0, 50, letters), Progress(50))
    state = h.state()
    assert [d["reason"] for d in state["dead_reasons"]][:2] == ["bad 49", "bad 48"]
    assert len(state["dead_reasons"]) == 20
    assert len(state["dead_reasons"][0]["raw"]) == 160
    assert state["dead_reasons"][0]["position"] == "f.csv:49"


def test_history_finish_records_final_summary_and_status():
    h = History("r")
    h.start({})
    h.add(_result(0, 10), Progress(10))
    h.finish(
        {
            **_result(1, 20).summary,
            "interrupted": True,
            "elapsed_s": 2.0,
            "stats": {"s": {"keys": {"k": {"x": {"mean": 1.5}}}, "evicted_keys": 0}},
        }
    )
    state = h.state()
    assert state["status"] == "interrupted"
    assert state["series"]["records"][-1] == 20
    assert state["stats"]["rows"] == [["s", "k", "x", 1.5]]


def test_stats_table_flattens_keyed_steps_and_bounds_rows():
    keyed = {
        "stats": {
            "keys": {str(k): {"x": {"count": k, "mean": float("nan")}} for k in range(300)},
            "evicted_keys": 7,
        },
        "first": {"a": [1, 2, 3], "b": object()},
    }
    table = stats_table(keyed, max_rows=10)
    assert table is not None
    assert table["columns"] == ["step", "key", "column", "count", "mean"]
    assert table["rows"][0] == ["stats", "0", "x", 0, None]
    assert table["more"] == 292 and table["evicted"] == 7
    assert stats_table({}) is None
    assert stats_table({"first": {"a": [1, 2, 3]}})["rows"] == [["first", "a", "", "[3 values]"]]


def test_page_escapes_script_breaking_text_in_data():
    h = History("r")
    h.add(
        _result(0, 1, [DeadLetter("t", 0, 1, b"</script><script>alert(1)</script>", "</script>")]),
        Progress(1),
    )
    html = render_page("report", h.state())
    assert html.count("</script>") == 3  # the page's own three script elements
    assert "http://" not in html.replace('"http://www.w3.org/2000/svg"', "")


# -- server ---------------------------------------------------------------------------------
def test_server_serves_page_state_and_events_on_loopback():
    server = DashboardServer(0).start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        assert json.loads(_get(server.url + "state.json")) is None
        h = server.add_run(History("first"))
        h.start({"kind": "linear"})
        h.add(_result(0, 1000), Progress(1000))
        assert b"<svg" not in _get(server.url) and b"streamlearn" in _get(server.url)
        with urllib.request.urlopen(server.url + "events", timeout=5) as resp:
            assert resp.headers["Content-Type"].startswith("text/event-stream")
            line = b""
            while not line.startswith(b"data: "):
                line = resp.readline()
            state = json.loads(line[6:])
        assert state["name"] == "first" and state["runs"] == ["first"]
        assert state["series"]["records"] == [1000]
        again = server.add_run(History("first"))
        assert again.name == "first (2)"
        assert json.loads(_get(server.url + "state.json"))["name"] == "first (2)"
        assert json.loads(_get(server.url + "state.json?run=first"))["name"] == "first"
    finally:
        server.stop()
    assert not server.running
    with pytest.raises(OSError):
        _get(server.url, timeout=1)


def test_taken_port_is_one_clear_config_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        with pytest.raises(ConfigError, match=f"port {port} on 127.0.0.1 is not available"):
            DashboardServer(port).start()


def test_with_reporting_forwards_hooks_and_stops_its_server():
    calls: list[str] = []

    class Recorder(Observer):
        def on_start(self, info: dict[str, Any]) -> None:
            calls.append("start")

        def on_batch(self, result: BatchResult, progress: Progress) -> None:
            calls.append("batch")

        def on_idle(self, progress: Progress) -> None:
            calls.append("idle")

        def on_end(self, summary: dict[str, Any]) -> None:
            calls.append("end")

    obs = with_reporting(Recorder(), dashboard=True, port=0)
    server = obs.server  # type: ignore[attr-defined]
    obs.on_start({"kind": "linear"})
    obs.on_batch(_result(0, 10), Progress(10))
    obs.on_idle(Progress(10))
    assert json.loads(_get(server.url + "state.json"))["name"] == "linear"
    obs.on_end({**_result(1, 20).summary, "elapsed_s": 1.0})
    assert calls == ["start", "batch", "idle", "end"]
    assert not server.running


# -- a real run in Chromium ------------------------------------------------------------------
def _race() -> list[str]:
    """The run's arguments: RLS racing the mean, or two classifiers until RLS is registered."""
    from streamlearn.learn.registry import known_kinds

    if "rls" in known_kinds("regression"):
        return ["--source", "linear", "--task", "regression", "--model", "mean", "--model", "rls"]
    return [
        "--source",
        "activity",
        "--task",
        "classification",
        "--model",
        "majority",
        "--model",
        "last-class",
    ]


#: the longest curve of a chart and the leaderboard's "predicted" cell, read in one go
READ = """() => {
  const pts = (id) => Math.max(0, ...[...document.querySelectorAll(`#${id} path[data-series]`)]
                                      .map((p) => +p.dataset.points));
  const col = [...document.querySelectorAll('#leaderboard th')].findIndex((t) => t.textContent === 'predicted');
  const row = document.querySelector('#leaderboard tr[data-model]');
  return {cumulative: pts('chart-cumulative'), windowed: pts('chart-windowed'),
          predicted: row && col >= 0 ? +row.children[col].textContent.replace(/,/g, '') : 0};
}"""


@pytest.mark.browser
def test_dashboard_updates_live_during_a_real_run(page: Any, tmp_path: Path):
    port = _free_port()
    race = _race()
    models = sorted(race[i + 1] for i, arg in enumerate(race) if arg == "--model")
    cmd = [
        sys.executable,
        "-m",
        "streamlearn",
        "run",
        *race,
        "--count",
        "600000",
        "--rate",
        "20000",
        "--batch-size",
        "1000",
        "--quiet",
        "--dashboard",
        "--port",
        str(port),
    ]
    log = (tmp_path / "run.log").open("w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}/"
    requests: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "run.log").read_text()
            try:
                if json.loads(_get(url + "state.json", timeout=1)):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the dashboard never answered"
            time.sleep(0.2)
        page.on("request", lambda r: requests.append(r.url))
        page.goto(url)
        page.wait_for_function(
            "document.querySelectorAll('#chart-cumulative path[data-points]').length > 0"
        )
        page.wait_for_function(
            "document.querySelectorAll('#leaderboard tr[data-model]').length > 0"
        )
        before = page.evaluate(READ)
        # both from one later state: longer curves and more records predicted
        page.wait_for_function(
            f"b => {{ const now = ({READ})(); return now.cumulative > b.cumulative + 2 && "
            "now.windowed > b.windowed + 2 && now.predicted > b.predicted; }",
            arg=before,
            timeout=15_000,
        )
        after = page.evaluate(READ)
        assert (
            after["cumulative"] > before["cumulative"] and after["predicted"] > before["predicted"]
        )
        names = page.eval_on_selector_all(
            "#leaderboard tr[data-model]", "rs => rs.map(r => r.dataset.model)"
        )
        assert sorted(names) == models
        assert page.locator("#leaderboard tr.champion").count() == 1
        assert "p = " in page.inner_text("#significance")
        assert page.inner_text("#status") == "running"
        # a fuller picture for the README: wait for 100 points (about five seconds of the run)
        page.wait_for_function(f"() => ({READ})().cumulative >= 100", timeout=15_000)
        shot = tmp_path / "dashboard.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        if os.environ.get("STREAMLEARN_UPDATE_DOCS"):  # refresh the README's picture on request
            docs = REPO / "docs"
            docs.mkdir(exist_ok=True)
            shutil.copyfile(shot, docs / "dashboard.png")
    finally:
        proc.send_signal(signal.SIGTERM)  # a polite stop: summary, final state, server down
        proc.wait(timeout=30)
        log.close()
    # the final state reached the page before the server stopped (on a slow machine the
    # run may have ended by itself before the stop)
    page.wait_for_function(
        "/^(interrupted|finished)/.test(document.getElementById('status').textContent)"
    )
    assert proc.returncode in (0, 143), (tmp_path / "run.log").read_text()
    assert f"dashboard: {url}" in (tmp_path / "run.log").read_text()
    assert all(r.startswith(url) for r in requests), requests
    assert page.errors == []
    with socket.socket() as s:  # the port is free again
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


def test_one_server_shows_runs_in_sequence_for_demo():
    from streamlearn.cli.reporting import start_dashboard

    with start_dashboard(0) as server:
        for name in ("job 2: rls", "job 1: activity"):
            obs = with_reporting(Observer(), run_name=name, server=server)
            obs.on_start({"kind": "linear"})
            obs.on_batch(_result(0, 10), Progress(10))
            obs.on_end({**_result(1, 20).summary, "elapsed_s": 1.0})
            assert server.running  # a shared server outlives each run
        state = json.loads(_get(server.url + "state.json"))
        assert state["name"] == "job 1: activity" and state["status"] == "finished"
        assert state["runs"] == ["job 2: rls", "job 1: activity"]
    assert not server.running


def test_keyed_statistics_come_from_the_engine_hook_or_the_batch():
    clock = iter(range(1000))
    h = History("r", clock=lambda: float(next(clock)))
    h.start({"kind": "x", "keyed_summary": lambda: {"s": {"k1": 1.5}}})
    assert "keyed_summary" not in h.state()["info"]
    h.add(_result(0, 10), Progress(10))
    assert h.state()["stats"]["rows"] == [["s", "k1", "", 1.5]]
    result = _result(1, 20)
    result.summary["stats"] = {"s": {"keys": {"a": {"x": {"mean": 2.0}}}, "evicted_keys": 0}}
    h.add(result, Progress(20))
    assert h.state()["stats"]["rows"] == [["s", "a", "x", 2.0]]


def test_cli_with_a_taken_port_fails_with_one_line(capsys: pytest.CaptureFixture[str]):
    from streamlearn.cli import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        rc = main(
            [
                "run",
                "--source",
                "linear",
                "--count",
                "100",
                "--task",
                "regression",
                "--model",
                "mean",
                "--quiet",
                "--dashboard",
                "--port",
                str(port),
            ]
        )
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.splitlines() == [
        f"error: dashboard port {port} on 127.0.0.1 is not available "
        "(Address already in use); choose another with --port"
    ]
