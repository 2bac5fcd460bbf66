"""The examples in examples/ run as users would run them."""

from __future__ import annotations

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
