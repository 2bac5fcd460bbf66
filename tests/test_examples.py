"""The examples in examples/ run as users would run them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.kafka
def test_course_lab_example_runs_every_step(tmp_path: Path):
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "course_lab.py"),
            "--count",
            "3000",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "saved 3 batch files" in out
    assert "first_value: {'*': 0.14116957}" in out  # x1 of the course's first message
    assert "RLS race: champion rls" in out
    assert "ML race: champion window-" in out


@pytest.mark.kafka
def test_the_course_lab_notebook_executes_and_agrees_with_the_lab(tmp_path: Path) -> None:
    """examples/course_lab.ipynb runs headless, every cell, and its checks hold."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(ROOT / "examples" / "course_lab.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # a failing check in a cell raises CellExecutionError
    text = "".join(
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("name") == "stdout"
    )
    images = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert "the first 200 messages are byte-identical" in text
    assert "parse, max and mean: equal to the lab's" in text
    gaps = [float(g) for g in re.findall(r"max \|prediction - lab's\| = (\S+)", text)]
    assert len(gaps) == 2 and max(gaps) <= 1e-9
    assert "socket: consumed 2000, dead letters 0" in text
    assert len(images) == 1  # the running-MSE plot, inline
