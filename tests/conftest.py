"""Shared fixtures: the Kafka, Spark and browser fixtures live in their own modules."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault(
    "NUMBA_CACHE_DIR",
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".numba-cache"),
)

pytest_plugins = ["kafka_fixtures", "browser_fixtures", "spark_fixtures", "cluster_fixtures"]


@pytest.fixture()
def workdir(tmp_path, monkeypatch):
    """Run in a fresh folder, as a user would in a new directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
