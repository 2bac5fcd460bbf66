"""A Spark standalone cluster on 127.0.0.1: a master and two one-core workers, started by PID.

``tests/conftest.py`` loads this module with ``pytest_plugins``. The master's REST server
is off and every web UI binds to 127.0.0.1 on a free port; teardown stops the
processes it started, by process group.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["spark_cluster"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spark_class() -> Path:
    pyspark = pytest.importorskip("pyspark")
    return Path(pyspark.__file__).parent / "bin" / "spark-class"


def _wait_for(log: Path, text: str, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and log.read_text(errors="replace").count(text) >= count:
            return
        time.sleep(0.3)
    raise RuntimeError(f"Spark standalone cluster: {text!r} not seen in {log} after {timeout} s")


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``spark://127.0.0.1:PORT`` of a running master with two registered workers."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("a Spark cluster needs Java 17")
    spark_class = _spark_class()
    root = tmp_path_factory.mktemp("spark-cluster")
    # workers (and their executors) see only their own Python paths: streamlearn reaches
    # them the way it reaches a real cluster's, shipped by the driver
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        "SPARK_HOME": str(spark_class.parent.parent),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
        "SPARK_WORKER_DIR": str(root / "work"),
    }
    port = _free_port()
    master_url = f"spark://127.0.0.1:{port}"
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> Path:
        log = root / f"{name}.log"
        with log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [str(spark_class), *args],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
            )
        return log

    try:
        master_log = start(
            "master",
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(_free_port()),
        )
        _wait_for(master_log, "I have been elected leader", 1, 90)
        for i in range(2):
            start(
                f"worker{i}",
                "org.apache.spark.deploy.worker.Worker",
                master_url,
                "--host",
                "127.0.0.1",
                "--cores",
                "1",
                "--memory",
                "1g",
                "--webui-port",
                str(_free_port()),
                "--work-dir",
                str(root / "work"),
            )
        _wait_for(master_log, "Registering worker", 2, 90)
        yield master_url
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
