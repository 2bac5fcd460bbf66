"""One quiet SparkSession per process, bound to 127.0.0.1.

Starting Spark takes seconds, so every run in a process shares one session
(``getOrCreate``). Logs are cut to errors, the UI is off, shuffles use few
partitions and every socket binds to the loopback interface.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from streamlearn.errors import ConfigError

__all__ = ["cores_of", "get_session", "kafka_connector_available", "package_zip"]

_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
logger.python.name = org.apache.spark.api.python
logger.python.level = error
# a failed query is reported by the engine, in one line, not as a JVM stack
logger.stream.name = org.apache.spark.sql.execution.streaming
logger.stream.level = off
logger.py4j.name = py4j
logger.py4j.level = off
# a failed task fails the query, which the engine reports in one line
logger.executor.name = org.apache.spark.executor.Executor
logger.executor.level = off
logger.tasks.name = org.apache.spark.scheduler.TaskSetManager
logger.tasks.level = off
"""

#: pandas >= 3 makes PySpark warn on every import, in every worker
_QUIET_PYTHON = "ignore:PySpark does not yet fully support pandas:FutureWarning"


def cores_of(master: str) -> int:
    """Cores of a ``local[N]`` master (``local[*]``: this machine's); 2 otherwise."""
    m = re.fullmatch(r"local(?:\[(\*|\d+)(?:,\d+)?\])?", master.strip())
    if m is None:
        return 2
    n = m.group(1)
    if n is None:
        return 1
    return os.cpu_count() or 2 if n == "*" else max(1, int(n))


def _user_paths() -> list[str]:
    """Folders on the driver's ``sys.path`` outside the Python installation.

    Local executors get them too, so that functions from the user's own
    modules (steps, update functions) unpickle there as they do here.
    """
    installed = {str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    out = []
    for entry in sys.path:
        path = Path(entry or ".").resolve()
        if path.is_dir() and not any(str(path).startswith(root) for root in installed):
            out.append(str(path))
    return out


def _log4j_file() -> str:
    path = Path(tempfile.gettempdir()) / f"streamlearn-log4j2-{os.getuid()}.properties"
    if not path.exists() or path.read_text() != _LOG4J:
        path.write_text(_LOG4J)
    return str(path)


def get_session(master: str = "local[2]", conf: dict[str, Any] | None = None) -> Any:
    """The process's SparkSession, created on first call.

    Parameters
    ----------
    master
        ``local[N]`` or ``spark://HOST:PORT``; ignored if a session exists.
    conf
        Extra Spark settings, applied over ours.
    """
    if not re.fullmatch(r"local(\[[^\]]+\])?|spark://[\w.\-]+(:\d+)?(,[\w.\-]+(:\d+)?)*", master):
        raise ConfigError(f"--master must be local[N] or spark://HOST:PORT, not {master!r}")
    # the JVM and the Python workers inherit these
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    known = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if master.startswith("local"):
        extra = [p for p in _user_paths() if p not in known]
    else:
        # the Python workers Spark starts on this machine (a data source's planner) may not
        # have streamlearn either: they inherit the JVM's PYTHONPATH, executors get addPyFile
        extra = [p for p in (package_zip(),) if p not in known]
    os.environ["PYTHONPATH"] = os.pathsep.join([*extra, *(k for k in known if k)])
    quiet = os.environ.get("PYTHONWARNINGS", "")
    if _QUIET_PYTHON not in quiet:
        os.environ["PYTHONWARNINGS"] = f"{quiet},{_QUIET_PYTHON}" if quiet else _QUIET_PYTHON
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    from pyspark.sql import SparkSession

    cores = cores_of(master)
    log4j = f"-Dlog4j.configurationFile=file:{_log4j_file()}"
    settings: dict[str, Any] = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.extraJavaOptions": log4j,
        "spark.executor.extraJavaOptions": log4j,
        "spark.sql.shuffle.partitions": str(cores),
        "spark.default.parallelism": str(cores),
        "spark.sql.streaming.numRecentProgressUpdates": "10",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # a processing-time timeout makes Spark run empty batches forever, so
        # AvailableNow never ends: idle keys are dropped in batches with records
        "spark.sql.streaming.noDataMicroBatches.enabled": "false",
        "spark.python.worker.reuse": "true",
        "spark.sql.session.timeZone": "UTC",
        # local checkpoints without Hadoop's .crc side files: Spark's offset and commit logs
        # take 24-26 ms per micro-batch instead of 45 (RLS race, batches of 100,000; writes
        # stay atomic renames)
        "spark.hadoop.fs.AbstractFileSystem.file.impl": "org.apache.hadoop.fs.local.RawLocalFs",
        "spark.hadoop.fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
        **(conf or {}),
    }
    builder = SparkSession.builder.master(master).appName("streamlearn")
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    if not master.startswith("local"):
        # executors of a cluster may not have streamlearn installed: ship this one
        spark.sparkContext.addPyFile(package_zip())
    _register(spark)
    return spark


def package_zip() -> str:
    """This streamlearn package as a zip for ``addPyFile`` (built once per process)."""
    global _ZIP
    if _ZIP is None or not Path(_ZIP).exists():
        import zipfile

        import streamlearn

        root = Path(streamlearn.__file__).parent
        folder = Path(tempfile.mkdtemp(prefix="streamlearn-ship-"))
        path = folder / "streamlearn.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(root.rglob("*")):
                if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc":
                    z.write(f, Path("streamlearn") / f.relative_to(root))
        _ZIP = str(path)
    return _ZIP


_ZIP: str | None = None


def _register(spark: Any) -> None:
    from streamlearn.engines.spark.datasource import StreamlearnDataSource
    from streamlearn.engines.spark.evictions import EvictionSource

    if not getattr(spark, "_streamlearn_registered", False):
        spark.dataSource.register(StreamlearnDataSource)
        spark.dataSource.register(EvictionSource)
        spark._streamlearn_registered = True


def kafka_connector_available(spark: Any) -> bool:
    """Whether the JVM Kafka connector (``format("kafka")``) is on the classpath."""
    try:
        # Spark's class loader: it also sees jars added with --jars or --packages
        utils = spark.sparkContext._jvm.org.apache.spark.util.Utils
        return bool(utils.classIsLoadable("org.apache.spark.sql.kafka010.KafkaSourceProvider"))
    except Exception:
        return False
