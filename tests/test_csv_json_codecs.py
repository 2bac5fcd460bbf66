"""CSV and JSON codecs: fast path, per-row reasons, round trips, factory."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamlearn.codecs import (
    CsvCodec,
    JsonCodec,
    LiteralCodec,
    infer_json_schema,
    make_codec,
    schema_from_header,
)
from streamlearn.errors import ConfigError
from streamlearn.records import HHAR_SCHEMA, Field, RawBatch, Schema
from streamlearn.sources.generators.activity import activity_payloads, activity_rows

#: HHAR's fields, all decoded and checked, whatever the roles
EVERY_FIELD = replace(HHAR_SCHEMA, decode_all=True)


def raw_batch(payloads: list[bytes], first: int = 0) -> RawBatch:
    n = len(payloads)
    return RawBatch(
        "t", payloads, np.zeros(n, np.int32), np.arange(first, first + n, dtype=np.int64)
    )


def assert_columns_equal(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    assert set(got) == set(want)
    for name, col in want.items():
        assert got[name].dtype == col.dtype, name
        assert np.array_equal(got[name], col), name


def damage(line: bytes, how: str) -> bytes:
    p = line.split(b",")
    if how == "too-few":
        p = p[:7]
    elif how == "x":
        p[3] = b"abc"
    elif how == "y":
        p[4] = b""
    return b",".join(p)


def test_hhar_batch_decodes_to_the_generated_columns() -> None:
    n = 60_000  # over 4 MB of text: pyarrow reads it in several chunks
    batch, dead = CsvCodec(EVERY_FIELD).decode(
        raw_batch(activity_payloads(0, n, seed=4), first=100)
    )
    assert dead == []
    assert_columns_equal(batch.columns, activity_rows(0, n, seed=4))
    assert batch.offsets.tolist() == list(range(100, n + 100))


@pytest.mark.parametrize("n", [1000, 20_000])
def test_malformed_rows_become_dead_letters_with_reasons(n: int) -> None:
    payloads = activity_payloads(0, n)
    bad = {7: "too-few", n // 2: "x", n - 1: "y"}
    for i, how in bad.items():
        payloads[i] = damage(payloads[i], how)
    batch, dead = CsvCodec(EVERY_FIELD).decode(raw_batch(payloads))
    assert len(batch) == n - 3
    assert [d.offset for d in dead] == sorted(bad)
    assert [d.reason for d in dead] == [
        "expected 10 fields, got 7",
        "field 'x': not a number: 'abc'",
        "field 'y' is empty",
    ]
    assert dead[1].raw == payloads[n // 2]
    keep = np.setdiff1d(np.arange(n), sorted(bad))
    want = {k: v[keep] for k, v in activity_rows(0, n).items()}
    assert_columns_equal(batch.columns, want)
    assert batch.offsets.tolist() == keep.tolist()


def test_other_faults_and_policies() -> None:
    good = activity_payloads(0, 1)[0]
    cases = {
        b"": "empty record",
        b",".join([*good.split(b",")[:6], b"\xff", *good.split(b",")[7:]]): "not valid UTF-8",
        damage(good, "x").replace(b"abc", b"inf"): "field 'x' is not finite: inf",
        good.rsplit(b",", 1)[0] + b",": "field 'gt' is empty",
        good.replace(b",", b",1,", 1): "expected 10 fields, got 11",
        b"1.5," + good.split(b",", 1)[1]: "field 'Index': not an integer: '1.5'",
        good + b"\n" + good: "record spans several lines",
    }
    payloads = [good, *cases, good + b"\r\n"]
    batch, dead = CsvCodec(EVERY_FIELD).decode(raw_batch(payloads))
    assert batch.offsets.tolist() == [0, len(payloads) - 1]
    for d, reason in zip(dead, cases.values(), strict=True):
        assert d.reason.startswith(reason), (d.raw, d.reason)
    keep = CsvCodec(Schema(HHAR_SCHEMA.fields, nonfinite="keep"))
    batch, dead = keep.decode(raw_batch([damage(good, "x").replace(b"abc", b"-inf")]))
    assert not dead and batch.columns["x"][0] == -math.inf


def test_only_the_fields_a_run_uses_are_validated() -> None:
    """HHAR's roles use x, y, z, User, Model, Device and gt: a bad Index is not the run's problem."""
    good = activity_payloads(0, 2)
    odd = b"1.5," + good[0].split(b",", 1)[1]
    sci = b",".join([*good[1].split(b",")[:2], b"1.42469663191325E+018", *good[1].split(b",")[3:]])
    batch, dead = CsvCodec().decode(raw_batch([odd, sci]))
    assert dead == [] and len(batch) == 2
    assert set(batch.columns) == {"x", "y", "z", "User", "Model", "Device", "gt"}
    _, dead = CsvCodec(EVERY_FIELD).decode(raw_batch([odd]))
    assert [d.reason for d in dead] == ["field 'Index': not an integer: '1.5'"]


def test_optional_fields_may_be_empty() -> None:
    schema = Schema(
        (Field("a"), Field("b", "float", True), Field("n", "int", True), Field("s", "str", True))
    )
    batch, dead = CsvCodec(schema).decode(raw_batch([b"1,,,", b"2,3.5,4,x", b",1,1,x"]))
    assert [d.reason for d in dead] == ["field 'a' is empty"]
    assert np.isnan(batch.columns["b"][0]) and batch.columns["b"][1] == 3.5
    assert batch.columns["n"].dtype == np.float64 and np.isnan(batch.columns["n"][0])
    assert batch.columns["s"].tolist() == ["", "x"]


def test_fast_and_per_row_paths_agree() -> None:
    schema = Schema((Field("i", "int"), Field("f"), Field("s", "str")))
    odd = [b"007,+1.5,a", b" 3 ,.5, b ", b'-4,1e3,"x,y"', b'5,-0.0,"say ""hi"""', b"6,1E-2,nan"]
    fast, dead = CsvCodec(schema).decode(raw_batch(odd))
    assert not dead
    slow, dead = CsvCodec(schema).decode(raw_batch([*odd, b"bad"]))
    assert [d.offset for d in dead] == [5]
    assert_columns_equal(slow.columns, fast.columns)
    assert fast.columns["s"].tolist() == ["a", " b ", "x,y", 'say "hi"', "nan"]
    assert fast.columns["f"].tolist() == [1.5, 0.5, 1000.0, -0.0, 0.01]


def test_encode_quotes_text_that_needs_it() -> None:
    schema = Schema((Field("f"), Field("s", "str")))
    codec = CsvCodec(schema)
    cols = {"f": np.array([0.1, 1e300]), "s": np.array(["a,b", 'q"q'], dtype=object)}
    lines = codec.encode(cols)
    assert lines == [b'0.1,"a,b"', b'1e+300,"q""q"']
    batch, dead = codec.decode(raw_batch(lines))
    assert not dead
    assert_columns_equal(batch.columns, cols)


def test_schema_from_header() -> None:
    assert (
        schema_from_header(
            b"\xef\xbb\xbfIndex,Arrival_Time,Creation_Time,x,y,z,User,Model,Device,gt\r\n"
        )
        is HHAR_SCHEMA
    )
    s = schema_from_header(
        "id,temp,city,label", ["1,20.5,Paris,hot", "2,,Oslo,cold", "3,7,Rome,mild"]
    )
    assert [(f.name, f.kind, f.optional) for f in s.fields] == [
        ("id", "int", False),
        ("temp", "float", True),
        ("city", "str", False),
        ("label", "str", False),
    ]
    assert (s.target, s.categorical, s.ignore) == ("label", ("city",), ("id",))
    with pytest.raises(ConfigError):
        schema_from_header("a,,b")


rows_strategy = st.lists(
    st.tuples(
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.text(
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), min_size=1
        ),
        st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
    ),
    min_size=1,
    max_size=30,
)
PROP_SCHEMA = Schema((Field("f"), Field("i", "int"), Field("s", "str"), Field("o", "float", True)))


def columns_of(rows: list[tuple]) -> dict[str, np.ndarray]:
    return {
        "f": np.array([r[0] for r in rows], dtype=np.float64),
        "i": np.array([r[1] for r in rows], dtype=np.int64),
        "s": np.array([r[2] for r in rows], dtype=object),
        "o": np.array([math.nan if r[3] is None else r[3] for r in rows], dtype=np.float64),
    }


def same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype.kind == "f":
        return np.array_equal(a, b, equal_nan=True)
    return a.dtype == b.dtype and np.array_equal(a, b)


@settings(max_examples=60, deadline=None)
@given(rows_strategy)
def test_property_good_rows_round_trip_through_csv(rows: list[tuple]) -> None:
    cols = columns_of(rows)
    codec = CsvCodec(PROP_SCHEMA)
    lines = codec.encode(cols)
    batch, dead = codec.decode(raw_batch(lines))
    assert dead == []
    assert all(same(batch.columns[k], v) for k, v in cols.items())
    # one bad row sends the batch down the per-row path, which must agree
    batch, dead = codec.decode(raw_batch([*lines, b"bad"]))
    assert [d.offset for d in dead] == [len(lines)]
    assert all(same(batch.columns[k], v) for k, v in cols.items())


@settings(max_examples=60, deadline=None)
@given(rows_strategy)
def test_property_good_rows_round_trip_through_json(rows: list[tuple]) -> None:
    cols = columns_of(rows)
    codec = JsonCodec(PROP_SCHEMA)
    batch, dead = codec.decode(raw_batch(codec.encode(cols)))
    assert dead == []
    assert all(same(batch.columns[k], v) for k, v in cols.items())


def test_json_round_trip_of_hhar_rows_and_inferred_schema() -> None:
    rows = activity_rows(0, 500, seed=2)
    schema = infer_json_schema(orjson.loads(JsonCodec(HHAR_SCHEMA).encode(rows)[0]))
    assert schema.target == "gt" and schema.categorical == ("User", "Model", "Device")
    assert schema.field("Index").kind == "float" and schema.field("User").kind == "str"
    batch, dead = JsonCodec(EVERY_FIELD).decode(raw_batch(JsonCodec(HHAR_SCHEMA).encode(rows)))
    assert dead == []
    assert_columns_equal(batch.columns, rows)


def test_json_dead_letters() -> None:
    schema = Schema((Field("x"), Field("n", "int"), Field("s", "str")))
    payloads = [
        b'{"x": 1, "n": 2, "s": "a", "extra": [1]}',
        b'{"x": 1, "s": "a"}',
        b'{"x": "1", "n": 2, "s": "a"}',
        b'{"x": true, "n": 2, "s": "a"}',
        b'{"x": 1, "n": 2.5, "s": "a"}',
        b'{"x": 1, "n": 2, "s": 3}',
        b'{"x": null, "n": 2, "s": "a"}',
        b"[1, 2, 3]",
        b"{not json",
        b"",
    ]
    batch, dead = JsonCodec(schema).decode(raw_batch(payloads))
    # a number written as text fits a number field, and a number fits a category
    assert batch.offsets.tolist() == [0, 2, 5]
    assert batch.columns["x"].tolist() == [1.0, 1.0, 1.0] and batch.columns["s"].tolist() == [
        "a",
        "a",
        "3",
    ]
    assert batch.columns["n"].dtype == np.int64
    assert [d.reason for d in dead][:5] == [
        "missing field 'n'",
        "field 'x': expected a number, got a boolean",
        "field 'n': not an integer: 2.5",
        "field 'x' is null",
        "not a JSON object but an array",
    ]
    assert dead[5].reason.startswith("not valid JSON") and dead[6].reason == "empty record"
    _, dead = JsonCodec(schema).decode(raw_batch([b'{"x": "one", "n": 2, "s": "a"}']))
    assert [d.reason for d in dead] == ["field 'x': expected a number, got a string"]


def test_make_codec() -> None:
    assert (
        isinstance(make_codec("csv", None), CsvCodec)
        and make_codec("CSV", None).schema is HHAR_SCHEMA
    )
    assert isinstance(make_codec("json", HHAR_SCHEMA), JsonCodec)
    assert isinstance(make_codec("literal", None), LiteralCodec)
    for fmt, schema in (("xml", None), ("json", None)):
        with pytest.raises(ConfigError) as err:
            make_codec(fmt, schema)
        assert "\n" not in str(err.value)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=64), kind=st.sampled_from(["offset", "line", "row"]))
def test_dead_letters_keep_any_bytes_exactly(raw: bytes, kind: str, tmp_path_factory) -> None:
    import orjson

    from streamlearn.records.batch import DeadLetter, RecordBatch
    from streamlearn.sinks.base import BatchResult
    from streamlearn.sinks.deadletters import DeadLetterFile

    letter = DeadLetter("data.csv", 0, 17, raw, "not a record", kind)  # type: ignore[arg-type]
    path = tmp_path_factory.mktemp("dl") / "dead.jsonl"
    sink = DeadLetterFile(path)
    sink.open()
    empty = RecordBatch({}, "data.csv", np.zeros(0, np.int32), np.zeros(0, np.int64), 0)
    sink.write(BatchResult(0, empty, [letter]))
    sink.close()
    line = orjson.loads(path.read_bytes())
    assert DeadLetter.from_dict(line) == letter
    # text stays readable; anything else is base64, flagged, never ambiguous
    try:
        assert line["raw"] == raw.decode("utf-8") and "raw_encoding" not in line
    except UnicodeDecodeError:
        assert line["raw_encoding"] == "base64"
