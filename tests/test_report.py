"""The end-of-run report: report.html (offline, self-contained), metrics.json and PNG plots."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from streamlearn.cli import main

#: one headless Chromium for the whole session, shared by both browser test modules

PNG = b"\x89PNG\r\n\x1a\n"

#: anything that would make a browser fetch from the network
EXTERNAL = re.compile(
    r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//"""
    r"""|url\(\s*["']?\s*(?:https?:)?//|@import|<link[^>]+rel=["']?stylesheet"""
    r"""|fetch\(|XMLHttpRequest|importScripts|\bimport\(""",
    re.IGNORECASE,
)


#: damaged lines of the CSV below: (line number, the line)
DAMAGED = [
    (101, b"0.5,1.5"),  # too few fields
    (2_001, b"abc,0.1,0.2,sit"),  # not a number
    (5_001, b",0.1,0.2,walk"),  # empty value
    (9_001, b"inf,0.1,0.2,walk"),  # not finite
    (15_001, b"0.1,\xff\xfe,0.2,sit"),  # not UTF-8
]


def _activity_csv(path: Path, rows: int) -> Path:
    """Accelerometer-like rows whose label changes every 50 rows, with :data:`DAMAGED` lines."""
    rng = np.random.default_rng(3)
    runs = rng.integers(0, 4, rows // 50 + 1).repeat(50)[:rows]  # a new activity every 50 rows
    labels = np.array(["stand", "sit", "walk", "bike"])[runs]
    xyz = rng.normal(size=(rows, 3))
    lines = [b"x,y,z,gt"] + [
        f"{a:.4f},{b:.4f},{c:.4f},{g}".encode() for (a, b, c), g in zip(xyz, labels, strict=True)
    ]
    for number, line in DAMAGED:
        lines[number - 1] = line
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.fixture(scope="module")
def classification_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A classification race on a CSV with damaged lines, reported into ``out``."""
    folder = tmp_path_factory.mktemp("report")
    csv = _activity_csv(folder / "activity.csv", 20_000)
    out = folder / "out"
    rc = main(
        [
            "run",
            "--source",
            f"csv:{csv}",
            "--task",
            "classification",
            "--target",
            "gt",
            "--model",
            "majority",
            "--model",
            "last-class",
            "--batch-size",
            "500",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert rc == 0
    return out


def test_out_writes_report_metrics_and_plots(classification_out: Path):
    out = classification_out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["dead_letters"] == 5 and metrics["records_predicted"] == 19_995
    for name in ("accuracy.png", "windowed_accuracy.png", "throughput.png"):
        data = (out / "plots" / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 5_000, name
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html
    state = json.loads(re.search(r"window\.STREAMLEARN = (.*?);</script>", html).group(1))["state"]
    assert state["status"] == "finished"
    assert set(state["series"]["models"]) == {"majority", "last-class"}
    assert state["series"]["records"][-1] == 20_000
    assert len(state["dead_reasons"]) == 5
    assert state["summary"]["champion"] == metrics["champion"]


def test_report_loads_nothing_from_the_network(classification_out: Path):
    html = (classification_out / "report.html").read_text()
    assert EXTERNAL.search(html) is None, EXTERNAL.search(html)
    # the only URL-looking text is the SVG namespace name, which is never fetched
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls


def test_regression_report_plots_mse(tmp_path: Path):
    out = tmp_path / "out"
    rc = main(
        [
            "run",
            "--source",
            "linear",
            "--count",
            "5000",
            "--task",
            "regression",
            "--model",
            "mean",
            "--batch-size",
            "500",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert rc == 0
    assert (out / "plots" / "mse.png").read_bytes().startswith(PNG)
    assert (out / "plots" / "windowed_mse.png").is_file()
    assert json.loads((out / "metrics.json").read_text())["records_predicted"] == 5000


@pytest.mark.browser
def test_report_renders_offline_in_chromium(page: Any, classification_out: Path):
    attempted: list[str] = []

    def only_files(route: Any) -> None:
        url = route.request.url
        if url.startswith("file://"):
            route.continue_()
        else:  # the network is cut off: note the attempt, then refuse it
            attempted.append(url)
            route.abort()

    page.context.set_offline(True)
    page.route("**/*", only_files)
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto((classification_out / "report.html").as_uri())
    page.wait_for_selector("#chart-cumulative svg")
    assert attempted == []
    assert all(u.startswith(("file://", "data:")) for u in requested), requested
    assert page.errors == []
    for chart in ("chart-cumulative", "chart-windowed", "chart-rate", "chart-dead"):
        points = page.eval_on_selector_all(
            f"#{chart} path[data-series]", "ps => ps.map(p => +p.dataset.points)"
        )
        assert points and min(points) > 10, (chart, points)
    models = page.eval_on_selector_all(
        "#leaderboard tr[data-model]", "rs => rs.map(r => r.dataset.model)"
    )
    assert sorted(models) == ["last-class", "majority"]
    assert page.locator("#leaderboard tr.champion").count() == 1
    assert "%" in page.inner_text("#leaderboard")
    assert page.inner_text("#status") == "finished"
    assert page.locator("#dead-reasons tr").count() == 6  # a header and five reasons
    # the columns as the run read them: types and roles, decided from the data
    roles = page.eval_on_selector_all(
        "#schema tr", "rs => rs.slice(1).map(r => [...r.cells].slice(0, 3).map(c => c.textContent))"
    )
    assert roles == [
        ["x", "float", "feature"],
        ["y", "float", "feature"],
        ["z", "float", "feature"],
        ["gt", "str", "target"],
    ]
    assert 'delimiter ",", a header line' in page.inner_text("#schema-note")
    # the embedded PNGs decoded
    widths = page.eval_on_selector_all("#images img", "is => is.map(i => i.naturalWidth)")
    assert len(widths) == 3 and min(widths) > 100
    page.screenshot(path=str(classification_out / "report-screenshot.png"), full_page=True)


def test_report_shows_keyed_statistics(tmp_path: Path):
    from streamlearn import Pipeline, run
    from streamlearn.cli.reporting import with_reporting
    from streamlearn.engines.base import Observer
    from streamlearn.steps import KeyedStats

    step = KeyedStats(["mean", "var", "max"], key=None, columns=["x1", "x2"])
    pipeline = Pipeline(
        "linear", task="regression", models=["mean"], steps=[step], until="count:3000"
    )
    run(pipeline, observer=with_reporting(Observer(), out=tmp_path))
    html = (tmp_path / "report.html").read_text()
    state = json.loads(re.search(r"window\.STREAMLEARN = (.*?);</script>", html).group(1))["state"]
    assert state["stats"]["columns"] == ["step", "key", "column", "mean", "var", "max"]
    assert [row[2] for row in state["stats"]["rows"]] == ["x1", "x2"]
