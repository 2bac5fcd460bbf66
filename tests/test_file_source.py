"""Replaying CSV and JSON-lines files: line numbers, dead letters, CRLF, resume."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from streamlearn.codecs import CsvCodec, JsonCodec
from streamlearn.errors import SourceError
from streamlearn.records import HHAR_SCHEMA, RecordBatch
from streamlearn.records.batch import DeadLetter
from streamlearn.sources.files import FileSource
from streamlearn.sources.files import text as files
from streamlearn.sources.generators.activity import HHAR_HEADER, activity_rows, write_hhar_csv


def drain(
    src: FileSource, step: int, codec: CsvCodec | JsonCodec | None = None
) -> tuple[list[bytes], list[int], list[RecordBatch], list[DeadLetter]]:
    """Read a source to the end: payloads, offsets, and decoded batches and dead letters."""
    payloads: list[bytes] = []
    offsets: list[int] = []
    good: list[RecordBatch] = []
    dead: list[DeadLetter] = []
    while not src.exhausted:
        raw = src.read(step)
        payloads += raw.payloads
        offsets += raw.offsets.tolist()
        if codec is not None:
            batch, dl = codec.decode(raw)
            good.append(batch)
            dead += dl
    return payloads, offsets, good, dead


MALFORMED = {10: "too-few-fields", 500: "non-numeric-x", 1001: "empty-y"}


@pytest.mark.parametrize("step", [64, 1000])
def test_hhar_file_with_three_bad_lines(tmp_path: Path, step: int) -> None:
    path = tmp_path / "Phones_accelerometer.csv"
    assert write_hhar_csv(path, 1000, malformed=MALFORMED) == sorted(MALFORMED)
    src = FileSource(str(path))
    assert src.kind == "csv" and src.format == "csv" and src.position_kind == "line"
    assert src.header == HHAR_HEADER and src.schema is not None
    roles = (src.schema.target, src.schema.feature_names, src.schema.categorical_features)
    assert roles == (
        HHAR_SCHEMA.target,
        HHAR_SCHEMA.feature_names,
        HHAR_SCHEMA.categorical_features,
    )
    src.open()
    _, offsets, good, dead = drain(src, step, CsvCodec(replace(src.schema, decode_all=True)))
    assert offsets == list(range(2, 1002))
    assert sum(map(len, good)) == 997
    assert [d.position for d in dead] == [f"{path}:{n}" for n in sorted(MALFORMED)]
    assert [d.reason for d in dead] == [
        "expected 10 fields, got 7",
        "field 'x': not a number: 'abc'",
        "field 'y' is empty",
    ]
    rows = activity_rows(0, 1000)
    keep = np.setdiff1d(np.arange(1000), [n - 2 for n in MALFORMED])
    for name, col in rows.items():
        assert np.array_equal(np.concatenate([b.columns[name] for b in good]), col[keep]), name
    assert np.concatenate([b.offsets for b in good]).tolist() == (keep + 2).tolist()
    assert src.snapshot() == {"line": 1002, "byte": path.stat().st_size, "delivered": 1000}


@pytest.mark.parametrize("block", [50, 1 << 20])
def test_crlf_blank_lines_and_no_final_newline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    monkeypatch.setattr(files, "_BLOCK", block)
    bad = {3: "blank", 4: "blank", 7: "bad-utf8", 60: "blank"}
    path = tmp_path / "h.csv"
    write_hhar_csv(path, 80, malformed=bad, crlf=True)
    path.write_bytes(path.read_bytes()[:-2])  # no newline after the last line
    src = FileSource(path)
    assert src.header == HHAR_HEADER
    src.open()
    payloads, offsets, good, dead = drain(src, 9, CsvCodec())
    assert offsets == [n for n in range(2, 82) if n not in (3, 4, 60)]
    assert not any(p.endswith(b"\r") or not p for p in payloads)
    assert [d.offset for d in dead] == [7] and dead[0].reason.startswith("not valid UTF-8 at byte")
    assert sum(map(len, good)) == 76
    assert src.snapshot()["byte"] == path.stat().st_size


@pytest.mark.parametrize("block", [37, 1 << 20])
def test_resume_from_a_position(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    monkeypatch.setattr(files, "_BLOCK", block)
    path = tmp_path / "h.csv"
    write_hhar_csv(path, 300, malformed={50: "blank"}, crlf=True)
    whole = FileSource(path)
    whole.open()
    all_payloads, all_offsets, _, _ = drain(whole, 1000)
    src = FileSource(path)
    src.open()
    head = src.read(47).payloads + src.read(11).payloads
    pos = src.snapshot()
    assert pos["line"] == 2 + 47 + 1 + 11  # the blank line 50 was skipped, not counted
    again = FileSource(path)
    again.open(snapshot=pos)
    rest, offsets, _, _ = drain(again, 13)
    assert head + rest == all_payloads
    assert offsets == all_offsets[58:]
    assert again.progress().consumed == 299


def test_count_limits_and_exhaustion(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    write_hhar_csv(path, 20)
    src = FileSource(path, count=5)
    src.open()
    assert len(src.read(100)) == 5 and src.exhausted
    header_only = tmp_path / "empty.csv"
    header_only.write_bytes(HHAR_HEADER + b"\n")
    src = FileSource(header_only)
    src.open()
    assert src.exhausted and len(src.read(10)) == 0


def test_write_hhar_csv_breaks_a_number_of_lines(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    bad = write_hhar_csv(path, 500, seed=3, malformed=3)
    assert len(bad) == 3 and all(2 <= n <= 501 for n in bad)
    src = FileSource(path)
    src.open()
    _, _, _, dead = drain(src, 100, CsvCodec())
    assert [d.offset for d in dead] == bad
    reasons = " ".join(d.reason for d in dead)
    assert "fields" in reasons and "not a number" in reasons and "empty" in reasons


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"^file not found: nope/missing\.csv$"):
        FileSource("nope/missing.csv")
    with pytest.raises(SourceError):
        FileSource(tmp_path)


def test_json_lines(tmp_path: Path) -> None:
    rows = activity_rows(0, 200, seed=1)
    lines = JsonCodec(HHAR_SCHEMA).encode(rows)
    lines[20] = b'{"x": "oops"}'
    lines.insert(30, b"")
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    src = FileSource(path)
    assert src.kind == "json" and src.format == "json" and src.header is None
    assert src.schema is not None and src.schema.target == "gt"
    src.open()
    _, offsets, good, dead = drain(src, 64, JsonCodec(HHAR_SCHEMA))
    assert len(offsets) == 200 and 31 not in offsets
    # only the fields the run uses are checked: x is one, Index (missing too) is not
    assert [(d.offset, d.reason) for d in dead] == [
        (21, "field 'x': expected a number, got a string")
    ]
    assert sum(map(len, good)) == 199
    assert (
        np.concatenate([b.columns["x"] for b in good]).tolist() == np.delete(rows["x"], 20).tolist()
    )


def test_generic_csv_header(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text("id,temp,city,label\n1,20.5,Paris,hot\n2,7,Oslo,cold\n")
    src = FileSource(path, format="csv")
    assert src.schema is not None and src.schema.target == "label"
    src.open()
    batch, dead = CsvCodec(src.schema).decode(src.read(10))
    assert not dead and batch.columns["temp"].tolist() == [20.5, 7.0]
    assert batch.position(1) == f"{path}:3"
