"""A Spark standalone cluster on 127.0.0.1: a master and two one-core workers, started by PID.

``tests/conftest.py`` loads this module with ``pytest_plugins``. The cluster is
:func:`streamlearn.engines.spark.standalone.local_cluster`: the master's REST
server is off, every web UI binds to 127.0.0.1 on a free port, and teardown
stops the processes it started, by process group.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

__all__ = ["spark_cluster"]


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``spark://127.0.0.1:PORT`` of a running master with two registered workers."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("a Spark cluster needs Java 17")
    pytest.importorskip("pyspark")
    from streamlearn.engines.spark.standalone import local_cluster

    with local_cluster(workers=2, root=tmp_path_factory.mktemp("spark-cluster")) as master:
        yield master
