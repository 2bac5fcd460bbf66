"""The CLI end to end on the local engine: the runs the foundation issue must show."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from streamlearn.cli import main
from streamlearn.sources.generators.activity import write_hhar_csv


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streamlearn", *args], capture_output=True, text=True, timeout=300
    )


def test_linear_mean_counts(workdir: Path):
    rc = main(
        [
            "run",
            "--source",
            "linear",
            "--count",
            "100000",
            "--task",
            "regression",
            "--model",
            "mean",
            "--batch-size",
            "1000",
            "--metrics-json",
            "m.json",
            "--quiet",
        ]
    )
    assert rc == 0
    m = json.loads(Path("m.json").read_text())
    assert m["records_consumed"] == 100000
    assert m["records_predicted"] == 100000
    assert m["dead_letters"] == 0
    assert m["batches"] == 100
    assert m["models"]["mean"]["predicted"] == 100000
    assert m["cold_start"] == 1
    for key in ("elapsed_s", "records_per_s", "task", "champion", "source"):
        assert key in m
    assert m["source"]["kind"] == "linear"


def test_activity_race_prints_reference_lines_and_names_champion(workdir: Path):
    proc = _cli(
        "run",
        "--source",
        "activity",
        "--count",
        "200000",
        "--task",
        "classification",
        "--model",
        "majority",
        "--model",
        "last-class",
        "--batch-size",
        "10000",
        "--metrics-json",
        "m.json",
    )
    assert proc.returncode == 0, proc.stderr
    m = json.loads(Path("m.json").read_text())
    assert m["models"]["majority"]["predicted"] == 200000
    assert m["models"]["last-class"]["predicted"] == 200000
    # the champion leads on the windowed accuracy, and here it is far ahead of the majority
    best = max(m["models"], key=lambda k: m["models"][k]["windowed_accuracy"])
    assert m["champion"] == best == "last-class"
    assert m["models"]["last-class"]["accuracy"] > m["models"]["majority"]["accuracy"] + 0.5
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("(Batch: ")]
    assert len(lines) == 20
    assert lines[2].startswith("(Batch: 3) Current Accuracy: ")
    assert "total predicted: 30000," in lines[2] and "correct in batch: " in lines[2]
    assert m["significance"]["test"] == "mcnemar"
    assert 0.0 <= m["significance"]["p_value"] <= 1.0


def test_hhar_csv_with_malformed_lines(workdir: Path):
    path = workdir / "hhar.csv"
    bad_lines = write_hhar_csv(path, 1000, seed=3, malformed=3)
    proc = _cli(
        "run",
        "--source",
        f"csv:{path}",
        "--task",
        "classification",
        "--model",
        "majority",
        "--batch-size",
        "100",
        "--metrics-json",
        "m.json",
        "--dead-letter",
        "dead.jsonl",
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    m = json.loads(Path("m.json").read_text())
    assert m["dead_letters"] == 3
    assert m["records_predicted"] == 997
    assert m["records_consumed"] == 1000
    letters = [json.loads(x) for x in Path("dead.jsonl").read_text().splitlines()]
    assert sorted(d["offset"] for d in letters) == sorted(bad_lines)
    reasons = " ".join(d["reason"] for d in letters)
    assert "fields" in reasons and "not a number" in reasons and "empty" in reasons
    for d in letters:
        assert d["position"].endswith(f":{d['offset']}")
        assert d["raw"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            [
                "run",
                "--source",
                "linear",
                "--count",
                "10",
                "--task",
                "regression",
                "--model",
                "nope",
            ],
            "unknown model",
        ),
        (
            [
                "run",
                "--source",
                "linear",
                "--count",
                "10",
                "--task",
                "regression",
                "--model",
                "mean:x=1",
            ],
            "no parameter",
        ),
        (
            ["run", "--source", "csv:missing.csv", "--task", "regression", "--model", "mean"],
            "not found",
        ),
        (
            ["run", "--source", "linear", "--count", "10", "--task", "forecast", "--model", "mean"],
            "--task",
        ),
        (
            [
                "run",
                "--source",
                "linear",
                "--count",
                "10",
                "--task",
                "regression",
                "--model",
                "mean",
                "--batch-size",
                "x",
            ],
            "batch-size",
        ),
        (
            [
                "run",
                "--source",
                "linear",
                "--count",
                "10",
                "--task",
                "regression",
                "--model",
                "mean",
                "--until",
                "soon",
            ],
            "--until",
        ),
        (["run", "--source", "bogus", "--task", "regression", "--model", "mean"], "unknown source"),
        (
            [
                "run",
                "--source",
                "kafka:t",
                "--bootstrap",
                "127.0.0.1:notaport",
                "--task",
                "regression",
                "--model",
                "mean",
            ],
            "port 'notaport' is not a number",
        ),
        (
            [
                "run",
                "--source",
                "activity",
                "--count",
                "10",
                "--task",
                "classification",
                "--model",
                "hist:bins=abc",
            ],
            "bins='abc' is not",
        ),
        (
            [
                "run",
                "--source",
                "linear",
                "--count",
                "10",
                "--task",
                "classification",
                "--model",
                "mean",
            ],
            "does not do classification",
        ),
    ],
)
def test_bad_configuration_is_one_line_and_nonzero(workdir: Path, args: list[str], needle: str):
    proc = _cli(*args)
    assert proc.returncode == (4 if needle == "not found" else 2)  # a source that is not there: 4
    err = proc.stderr.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert needle in err


def test_user_step_error_names_step_batch_record_and_shows_user_traceback(workdir: Path):
    script = workdir / "job.py"
    script.write_text(
        "from streamlearn import Pipeline, run\n"
        "from streamlearn.steps import Map\n"
        "from streamlearn.testing import MemorySource\n"
        "def scale(r):\n"
        "    return {'z': 1.0 / (r['x'] - 7)}\n"
        "rows = [{'x': float(i), 'y': 1.0} for i in range(20)]\n"
        "p = Pipeline(MemorySource(rows), task='regression', target='y', models=['mean'], batch_size=5)\n"
        "p.then(Map(scale))\n"
        "from streamlearn.cli.main import report_errors\n"
        "raise SystemExit(report_errors(lambda: run(p)))\n"
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 4
    err = proc.stderr
    assert "step 'scale', batch 2" in err
    assert "memory[0]@7" in err
    assert "'x': 7.0" in err
    assert "ZeroDivisionError" in err
    assert "job.py" in err and "line 5" in err
    assert "engines" not in err  # no engine frames


def test_rls_race_reaches_the_noise_floor(workdir: Path):
    rc = main(
        [
            "run",
            "--source",
            "linear",
            "--count",
            "200000",
            "--task",
            "regression",
            "--model",
            "rls",
            "--model",
            "rls:forgetting=0.99",
            "--model",
            "window-linear:size=50",
            "--metrics-json",
            "m.json",
            "--quiet",
        ]
    )
    assert rc == 0
    m = json.loads(Path("m.json").read_text())
    noise_floor = 1.0 / 1200.0  # variance of 0.1 * U(0, 1); the intercept takes its mean
    best = min(m["models"]["rls"]["mse"], m["models"]["rls:forgetting=0.99"]["mse"])
    assert best <= 1.15 * noise_floor
    assert m["models"]["window-linear:size=50"]["predicted"] == 200000
    assert m["champion"].startswith("rls")
    assert m["significance"]["test"] == "diebold-mariano"


def test_river_race_names_a_champion_and_a_p_value(workdir: Path):
    proc = _cli(
        "run",
        "--source",
        "activity",
        "--count",
        "100000",
        "--task",
        "classification",
        "--model",
        "hoeffding",
        "--model",
        "logreg",
        "--model",
        "last-class",
        "--batch-size",
        "5000",
        "--metrics-json",
        "m.json",
    )
    assert proc.returncode == 0, proc.stderr
    m = json.loads(Path("m.json").read_text())
    board = m["leaderboard"]
    assert m["champion"] == board[0]["name"]
    assert [r["windowed"] for r in board] == sorted((r["windowed"] for r in board), reverse=True)
    assert (
        m["significance"]["champion"] == board[0]["name"]
        and m["significance"]["runner_up"] == board[1]["name"]
    )
    assert 0.0 <= m["significance"]["p_value"] <= 1.0
    assert "champion: " in proc.stdout and "p = " in proc.stdout
    assert all(v["predicted"] == 100000 for v in m["models"].values())


def test_ctrl_c_stops_cleanly_with_the_summary_so_far(workdir: Path):
    import signal
    import time

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlearn",
            "run",
            "--source",
            "linear",
            "--count",
            "1000000",
            "--rate",
            "20000",
            "--task",
            "regression",
            "--model",
            "rls",
            "--batch-size",
            "2000",
            "--metrics-json",
            "m.json",
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not Path("m.json").exists():
        time.sleep(0.5)
        if time.monotonic() > deadline - 110:  # a few seconds of streaming
            proc.send_signal(signal.SIGINT)
            break
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err  # interrupted, not completed
    m = json.loads(Path("m.json").read_text())
    assert m["interrupted"] is True and m["signal"] == "SIGINT"
    assert 0 < m["records_consumed"] < 1_000_000
    assert m["records_consumed"] == m["records_predicted"]
    assert "interrupted: summary so far" in out and "records consumed" in out


@pytest.mark.kafka
def test_demo_runs_both_jobs_and_writes_their_reports(workdir: Path):
    proc = _cli("demo", "--out", "demo", "--activity-rows", "30000", "--course-rows", "6000")
    assert proc.returncode == 0, proc.stderr
    for name in ("job2-rls", "job2-ml", "job1-activity"):
        m = json.loads(Path("demo", name, "metrics.json").read_text())
        assert m["records_predicted"] + m["dead_letters"] == m["records_consumed"] > 0
        assert Path("demo", name, "report.html").stat().st_size > 1000
        assert f"report: {Path('demo', name, 'report.html')}" in proc.stdout
    assert (
        json.loads(Path("demo", "job1-activity", "metrics.json").read_text())["records_consumed"]
        == 30000
    )
    assert "demo finished in" in proc.stdout
