"""Pipelines on a Spark standalone cluster (a master and two workers on 127.0.0.1).

Each run is a CLI process with ``--master spark://...``: a test process
holds one SparkContext (the local[2] one of the other Spark tests).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import orjson
import pytest

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "streamlearn", *args, "--quiet", "--metrics-json", "m.json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return orjson.loads((cwd / "m.json").read_bytes())


def test_a_race_on_the_cluster_equals_the_local_engine(spark_cluster: str, tmp_path: Path) -> None:
    args = [
        "run",
        "--source",
        "linear",
        "--count",
        "6000",
        "--task",
        "regression",
        "--model",
        "course-rls",
        "--batch-size",
        "2000",
    ]
    cluster = _run([*args, "--engine", "spark", "--master", spark_cluster], tmp_path)
    local = _run(args, tmp_path)
    assert cluster["engine"] == "spark" and cluster.get("master") == spark_cluster
    assert {k: v["mse"] for k, v in cluster["models"].items()} == {
        k: v["mse"] for k, v in local["models"].items()
    }


def test_per_key_statistics_on_the_cluster_equal_local(spark_cluster: str, tmp_path: Path) -> None:
    args = [
        "stats",
        "--source",
        "activity",
        "--count",
        "6000",
        "--key",
        "Device",
        "--stat",
        "mean,var,max",
        "--batch-size",
        "2000",
    ]
    cluster = _run([*args, "--engine", "spark", "--master", spark_cluster], tmp_path)
    local = _run(args, tmp_path)
    assert cluster["stats"] == local["stats"]


def _without_pythonpath() -> dict[str, str]:
    """This process's environment without PYTHONPATH (a local Spark session sets one)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _python_without_streamlearn(root: Path) -> str:
    """A virtual environment that sees this one's packages, but not streamlearn."""
    venv.create(root, with_pip=False)
    site = next((root / "lib").glob("python3*/site-packages"))
    import numpy

    ours = Path(numpy.__file__).parent.parent  # a plain path: its .pth files are not run
    (site / "packages_of_the_driver.pth").write_text(f"{ours}\n")
    python = str(root / "bin" / "python")
    check = subprocess.run(
        [python, "-c", "import streamlearn"], capture_output=True, env=_without_pythonpath()
    )
    assert check.returncode != 0, "the executors' Python must not have streamlearn"
    return python


def test_executors_without_streamlearn_get_it_shipped(spark_cluster: str, tmp_path: Path) -> None:
    python = _python_without_streamlearn(tmp_path / "bare")
    env = {**_without_pythonpath(), "PYSPARK_PYTHON": python}
    args = [
        "run",
        "--source",
        "activity",
        "--count",
        "4000",
        "--task",
        "classification",
        "--model",
        "logreg",
        "--model",
        "majority",
        "--batch-size",
        "2000",
    ]
    cluster = _run([*args, "--engine", "spark", "--master", spark_cluster], tmp_path, env)
    local = _run(args, tmp_path)
    assert cluster["models"]["logreg"]["accuracy"] == local["models"]["logreg"]["accuracy"]
    assert cluster["records_predicted"] == 4000


def test_per_key_races_learn_on_the_cluster_s_executors(spark_cluster: str, tmp_path: Path) -> None:
    """One race per device, each in Spark's state store on a worker whose Python has no
    streamlearn (it is shipped), equal to the local engine."""
    python = _python_without_streamlearn(tmp_path / "bare")
    env = {**_without_pythonpath(), "PYSPARK_PYTHON": python}
    args = [
        "run", "--source", "activity", "--count", "6000", "--task", "classification",
        "--features", "x,y,z", "--model", "logreg", "--model", "majority",
        "--per-key", "Device", "--batch-size", "2000",
    ]  # fmt: skip
    cluster = _run([*args, "--engine", "spark", "--master", spark_cluster], tmp_path, env)
    local = _run(args, tmp_path)
    assert cluster["spark"]["per_key_races"] == "executors"
    assert cluster["per_key"] == local["per_key"] and len(local["per_key"]["keys"]) >= 2
    assert cluster["models"]["logreg"]["accuracy"] == local["models"]["logreg"]["accuracy"]
