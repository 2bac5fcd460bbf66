"""A Spark standalone cluster on 127.0.0.1: a master and N workers, started and stopped by PID.

For trying ``--master spark://...`` on one machine, for the tests and for
``benchmarks/scale.py``. It uses pyspark's own ``bin/spark-class``; the
master's REST server is off, every web UI binds to 127.0.0.1 on a free port,
and the workers see no ``PYTHONPATH`` of ours: streamlearn reaches their
executors the way it reaches a real cluster's, shipped by the driver.

Examples
--------
>>> with local_cluster(workers=2) as master:  # doctest: +SKIP
...     run(pipeline, engine="spark", master=master)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from streamlearn.errors import ConfigError

__all__ = ["local_cluster"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(log: Path, text: str, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and log.read_text(errors="replace").count(text) >= count:
            return
        time.sleep(0.3)
    raise RuntimeError(f"Spark standalone cluster: {text!r} not seen in {log} after {timeout} s")


@contextlib.contextmanager
def local_cluster(
    workers: int = 2, cores: int = 1, memory: str = "1g", root: Path | None = None
) -> Iterator[str]:
    """``spark://127.0.0.1:PORT`` of a master with ``workers`` registered workers."""
    import pyspark

    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise ConfigError("a Spark cluster needs Java 17")
    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    folder = Path(root or tempfile.mkdtemp(prefix="streamlearn-cluster-"))
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        "SPARK_HOME": str(spark_class.parent.parent),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
        "SPARK_WORKER_DIR": str(folder / "work"),
    }
    port = _free_port()
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> Path:
        log = folder / f"{name}.log"
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
            *("--host", "127.0.0.1", "--port", str(port), "--webui-port", str(_free_port())),
        )
        _wait_for(master_log, "I have been elected leader", 1, 90)
        for i in range(workers):
            start(
                f"worker{i}",
                "org.apache.spark.deploy.worker.Worker",
                f"spark://127.0.0.1:{port}",
                *("--host", "127.0.0.1", "--cores", str(cores), "--memory", memory),
                *("--webui-port", str(_free_port()), "--work-dir", str(folder / "work")),
            )
        _wait_for(master_log, "Registering worker", workers, 90)
        yield f"spark://127.0.0.1:{port}"
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
