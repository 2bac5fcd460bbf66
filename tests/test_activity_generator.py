"""The HHAR-shaped activity generator: shape, determinism, chunking, resume, realism."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from streamlearn.codecs.delimited import CsvCodec
from streamlearn.errors import ConfigError
from streamlearn.records import HHAR_SCHEMA, RawBatch
from streamlearn.sources.generators import activity_sessions
from streamlearn.sources.generators.activity import (
    DEVICES,
    LABELS,
    MODELS,
    USERS,
    ActivitySource,
    activity_payloads,
    activity_rows,
)


def read_all(src: ActivitySource, step: int) -> list[bytes]:
    out: list[bytes] = []
    while not src.exhausted:
        out += src.read(step).payloads
    return out


def test_rows_have_the_hhar_shape() -> None:
    rows = activity_rows(0, 20_000, seed=1)
    assert tuple(rows) == HHAR_SCHEMA.names
    assert rows["Index"].tolist() == list(range(20_000))
    assert set(rows["User"]) <= set(USERS) and set(rows["gt"]) <= set(LABELS)
    assert set(rows["Model"]) <= set(MODELS) and set(rows["Device"]) <= set(DEVICES)
    assert all(d.rsplit("_", 1)[0] == m for d, m in zip(rows["Device"], rows["Model"], strict=True))
    # Arrival_Time in ms, Creation_Time in ns, both in Feb 2015 like HHAR
    assert rows["Arrival_Time"].min() > 1.42e12 and rows["Arrival_Time"].max() < 1.43e12
    assert rows["Creation_Time"].min() > 1.42e18 and rows["Creation_Time"].max() < 1.43e18
    assert 8.0 < np.median(np.sqrt(rows["x"] ** 2 + rows["y"] ** 2 + rows["z"] ** 2)) < 11.5


def test_payloads_are_hhar_csv_lines_of_the_same_rows() -> None:
    payloads = activity_payloads(5_000, 2_000, seed=3)
    assert payloads[0].count(b",") == 9 and not payloads[0].endswith(b"\n")
    raw = RawBatch("a", payloads, np.zeros(2_000, np.int32), np.arange(5_000, 7_000))
    batch, dead = CsvCodec(replace(HHAR_SCHEMA, decode_all=True)).decode(raw)
    assert dead == []
    for name, col in activity_rows(5_000, 2_000, seed=3).items():
        assert np.array_equal(batch.columns[name], col), name


def test_deterministic_and_seeded() -> None:
    assert activity_payloads(0, 3_000, seed=7) == activity_payloads(0, 3_000, seed=7)
    assert activity_payloads(0, 3_000, seed=7) != activity_payloads(0, 3_000, seed=8)
    # any slice equals the same rows of a longer run
    assert activity_payloads(70_000, 10, seed=7) == activity_payloads(0, 70_010, seed=7)[70_000:]
    # far rows, and early rows again after their session blocks were dropped,
    # or in a fresh process (no cached sessions), are the same
    far, early = activity_payloads(2_500_000, 5, seed=7), activity_payloads(0, 5, seed=7)
    activity_sessions._TABLES.clear()
    assert activity_payloads(2_500_000, 5, seed=7) == far
    assert activity_payloads(0, 5, seed=7) == early


def test_reads_are_independent_of_chunking() -> None:
    n = 140_000  # spans several internal chunks and session blocks
    whole = read_all(_opened(n), 100_000)
    assert len(whole) == n
    assert read_all(_opened(n), 1_000) == whole
    assert read_all(_opened(n), 777) == whole


def _opened(count: int, **kw: object) -> ActivitySource:
    src = ActivitySource(count=count, seed=5, **kw)  # type: ignore[arg-type]
    src.open()
    return src


def test_resume_gives_the_same_bytes_as_an_uninterrupted_read() -> None:
    n = 60_000
    whole = read_all(_opened(n), 10_000)
    src = _opened(n)
    first = src.read(12_345).payloads + src.read(20_000).payloads
    pos = src.snapshot()
    assert pos == {"next": 32_345}
    again = ActivitySource(count=n, seed=5)
    again.open(snapshot=pos)
    rest = read_all(again, 9_999)
    assert first + rest == whole
    assert again.progress().consumed == n and again.progress().total == n
    with pytest.raises(ConfigError):
        again.open(snapshot={"next": n + 1})


def test_offsets_count_and_describe() -> None:
    src = _opened(25)
    raw = src.read(10)
    assert raw.origin == "activity" and raw.partitions.tolist() == [0] * 10
    assert raw.offsets.tolist() == list(range(10)) and raw.position_kind == "offset"
    assert len(src.read(100)) == 15 and src.exhausted and len(src.read(100)) == 0
    assert src.describe()["kind"] == "activity" and src.format == "csv"
    assert src.schema is HHAR_SCHEMA
    endless = ActivitySource(count=None)
    endless.open()
    assert len(endless.read(5)) == 5 and not endless.exhausted


def test_rate_paces_the_records() -> None:
    src = _opened(300, rate=3_000.0)
    t0 = time.monotonic()
    got = 0
    while not src.exhausted:
        got += len(src.read(1_000, timeout_s=0.5))
    elapsed = time.monotonic() - t0
    assert got == 300
    assert elapsed >= 0.09  # 300 records at 3000/s take 0.1 s
    with pytest.raises(ConfigError):
        ActivitySource(rate=0)


def test_classes_are_balanced_enough() -> None:
    labels = activity_rows(0, 400_000, seed=0)["gt"]
    values, counts = np.unique(labels.astype(str), return_counts=True)
    share = dict(zip(values.tolist(), (counts / counts.sum()).tolist(), strict=True))
    assert set(share) == set(LABELS)
    assert all(0.05 < s < 0.25 for s in share.values()), share


def test_per_row_classification_is_neither_trivial_nor_hopeless() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    n = 30_000
    rows = activity_rows(0, 2 * n, seed=0)
    codes = [
        np.unique(rows[c].astype(str), return_inverse=True)[1] for c in ("User", "Model", "Device")
    ]
    X = np.column_stack([rows["x"], rows["y"], rows["z"], *codes])
    y = rows["gt"].astype(str)
    clf = HistGradientBoostingClassifier(
        max_iter=25, categorical_features=[3, 4, 5], early_stopping=False, random_state=0
    )
    with threadpool_limits(limits=1):  # many threads on a busy machine are far slower
        clf.fit(X[:n], y[:n])
        accuracy = float((clf.predict(X[n:]) == y[n:]).mean())
    majority = np.unique(y[n:], return_counts=True)[1].max() / n
    assert 0.55 <= accuracy <= 0.85, accuracy
    assert majority < accuracy - 0.25, (majority, accuracy)
