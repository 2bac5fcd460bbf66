"""Spark fixtures: one local[2] session for the whole test run, and the engine fixture.

Load them with ``pytest_plugins = ["spark_fixtures"]`` in a test module (or in
``tests/conftest.py``). ``engine`` runs a test once per engine; its Spark case
carries ``@pytest.mark.spark``, so ``-m "not spark"`` keeps CI fast.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["engine", "spark_session"]

#: the master every Spark test uses: two cores, as in CI
MASTER = "local[2]"


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """The shared SparkSession (starting Spark costs seconds: once per run)."""
    pytest.importorskip("pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("the Spark engine needs Java 17")
    from streamlearn.engines.spark.session import get_session

    spark = get_session(MASTER)
    yield spark
    spark.stop()


@pytest.fixture(params=["local", pytest.param("spark", marks=pytest.mark.spark)])
def engine(request: pytest.FixtureRequest) -> str:
    """``"local"`` then ``"spark"``: pass it to ``streamlearn.run(..., engine=engine)``."""
    if request.param == "spark":
        request.getfixturevalue("spark_session")
    return str(request.param)
