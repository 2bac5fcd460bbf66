"""The literal-list format: a formatter identical to np.array2string, a safe parser, the codec."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamlearn.codecs.literal import LiteralCodec, LiteralError, parse_literal, parse_rows
from streamlearn.codecs.literal_format import format_row, format_rows
from streamlearn.errors import ConfigError
from streamlearn.records.batch import RawBatch
from streamlearn.records.schema import literal_schema

SPECIALS = [
    0.0,
    -0.0,
    math.nan,
    math.inf,
    -math.inf,
    0.001953125,
    1e-4,
    9.9999e-5,
    1e8,
    99999999.99999999,
    2.0**26,
    2.0**26 - 0.5,
    5e-324,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    0.5,
    1.5,
    1e-14,
    1e-15,
    1e30,
    1e31,
    123456789.5,
    9.999999995,
    1000.0,
]
values = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6),
    st.builds(lambda m, k: m / 10.0**k, st.integers(-(10**9), 10**9), st.integers(0, 12)),
    st.builds(lambda m, e: m * 10.0**e, st.floats(-10, 10), st.integers(-16, 32)),
    st.sampled_from(SPECIALS),
    st.floats(),  # anything: subnormal, huge, nan, inf
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BATCH_SETTINGS = settings(SETTINGS, max_examples=100)


def raw(payloads: list[bytes], origin: str = "t") -> RawBatch:
    n = len(payloads)
    return RawBatch(
        origin, payloads, np.zeros(n, np.int32), np.arange(100, 100 + n, dtype=np.int64)
    )


# -- formatter ----------------------------------------------------------------------


@SETTINGS
@given(st.lists(values, min_size=1, max_size=20))
def test_formatter_equals_array2string(row: list[float]) -> None:
    arr = np.array(row, dtype=np.float64)
    assert format_row(arr) == np.array2string(arr, separator=",")


@BATCH_SETTINGS
@given(
    st.integers(1, 20).flatmap(
        lambda m: st.lists(st.lists(values, min_size=m, max_size=m), min_size=1, max_size=8)
    )
)
def test_batch_formatter_equals_array2string(rows: list[list[float]]) -> None:
    arr = np.array(rows, dtype=np.float64)
    assert format_rows(arr) == [np.array2string(r, separator=",").encode() for r in arr]


@pytest.mark.parametrize(
    "row",
    [
        [0.0],
        [-0.0],
        [math.nan],
        [math.inf, math.nan],
        [1.0, -math.inf],
        [-0.0, 1e-5],
        [1.0000000050000000, 1.0],
        [0.001953125, 3.0],
        list(np.arange(40.0)),
        list(np.arange(1001.0)),
        [1e300, 1e-300, 5e-324],
        [1e22, 1.5],
        [123456789.0, 0.5],
    ],
)
def test_formatter_edge_cases(row: list[float]) -> None:
    arr = np.array(row)
    assert format_row(arr) == np.array2string(arr, separator=",")


def test_formatter_near_rounding_ties() -> None:
    """Values a few ulps from a rounding tie or a power of ten take the exact path."""
    rng = np.random.default_rng(5)
    n = 1500
    frac = (rng.integers(0, 10**8, n) + 0.5) / 1e8
    pos = rng.integers(0, 3000, n) + frac
    sci = (rng.integers(10**8, 10**9, n) + 0.5) * 10.0 ** rng.integers(-22, 23, n).astype(float)
    p10 = 10.0 ** rng.integers(-14, 31, n).astype(float)
    for v, other in ((pos, 1.5), (sci, 1e-6), (p10, 3e-7)):
        v = v + rng.integers(-3, 4, n) * np.spacing(v)
        rows = np.stack([v, np.full(n, other)], axis=1)
        assert format_rows(rows) == [np.array2string(r, separator=",").encode() for r in rows]


def test_formatter_ignores_global_print_options() -> None:
    arr = np.array([np.nan, 1.23456789123, 1e-7])
    expected = np.array2string(arr, separator=",")
    with np.printoptions(precision=3, nanstr="NaN", linewidth=20):
        assert format_row(arr) == expected


# -- parser -------------------------------------------------------------------------


@BATCH_SETTINGS
@given(
    st.integers(1, 20).flatmap(
        lambda m: st.lists(st.lists(values, min_size=m, max_size=m), min_size=1, max_size=8)
    )
)
def test_parse_round_trips(rows: list[list[float]]) -> None:
    arr = np.array(rows, dtype=np.float64)
    text = format_rows(arr)
    parsed, ok = parse_rows(text, arr.shape[1])
    slow = np.array([parse_literal(t, arr.shape[1]) for t in text])
    # the compiled parser may defer odd numbers to Python, never disagree with it
    assert np.array_equal(parsed[ok], slow[ok], equal_nan=True)
    assert format_rows(slow) == text
    # what the text shows is what comes back
    assert np.array_equal(np.isnan(slow), np.isnan(arr))
    assert np.array_equal(slow[np.isinf(arr)], arr[np.isinf(arr)])


def test_parse_accepts_layout_variants() -> None:
    payloads = [
        b"[1,2,3]",
        b" [ 1. ,\n  2.5e+00 ,-3.] \n",
        b"[1E2,+2,.5]",
        b"[NaN,-inf,Infinity]",
        b"[0.12345678901234567890123,2,3]",  # more digits than the fast path takes
    ]
    values, ok = parse_rows(payloads, 3)
    assert ok[:4].all() and not ok[4]
    assert values[1].tolist() == [1.0, 2.5, -3.0]
    assert values[2].tolist() == [100.0, 2.0, 0.5]
    assert np.isnan(values[3, 0]) and values[3, 1:].tolist() == [-math.inf, math.inf]
    assert parse_literal(payloads[4], 3)[0] == 0.12345678901234567890123


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "empty payload"),
        (b"  \n", "empty payload"),
        (b"1,2,3]", "missing '['"),
        (b"[1,2,3", "missing ']'"),
        (b"[1,2]", "expected 3 values, got 2"),
        (b"[]", "expected 3 values, got 0"),
        (b"[1,abc,3]", "not a number: 'abc' at index 1"),
        (b"[1,,3]", "empty value at index 1"),
        (b"[1,2 3,4]", "not a number: '2 3' at index 1"),
        (b"[1,0x10,3]", "not a number: '0x10' at index 1"),
        (b"[1,__import__('os'),3]", "not a number"),
        (b"[1,1_000,3]", "not a number: '1_000'"),
        (b"[1,\xff,3]", "not valid UTF-8"),
        (b"[1,\xd9\xa3,3]", "not a number"),  # an Arabic-Indic digit: float() would take it
    ],
)
def test_parse_literal_reasons(payload: bytes, reason: str) -> None:
    with pytest.raises(LiteralError, match=reason.replace("(", r"\(").replace("[", r"\[")):
        parse_literal(payload, 3)
    _, ok = parse_rows([payload], 3)
    assert not ok[0]


# -- codec --------------------------------------------------------------------------


def course_like(n: int, start: int = 0) -> np.ndarray:
    rng = np.random.default_rng(start)
    rows = rng.normal(size=(n, 12))
    rows[:, 0] = np.arange(start, start + n)
    return rows


def test_codec_decodes_and_encodes() -> None:
    codec = LiteralCodec()
    assert codec.name == "literal" and codec.n_values == 12
    rows = course_like(50)
    payloads = format_rows(rows)
    batch, dead = codec.decode(raw(payloads))
    assert dead == [] and len(batch) == 50
    assert list(batch.columns) == ["counter", "y", *(f"x{i}" for i in range(1, 11))]
    assert batch.column("counter").dtype == np.int64
    assert batch.column("counter").tolist() == list(range(50))
    assert batch.column("x3").dtype == np.float64
    np.testing.assert_allclose(batch.column("x3"), rows[:, 4], rtol=0, atol=5e-9)
    assert batch.offsets.tolist() == list(range(100, 150))
    assert codec.encode(batch.columns) == payloads


def test_codec_dead_letters_keep_order_and_position() -> None:
    good = format_rows(course_like(6))
    payloads = [
        good[0],
        b"[1,2,3,4,5]",
        good[1],
        b"[0,1,2,abc,4,5,6,7,8,9,10,11]",
        good[2],
        b"",
        b"\xff\xfe",
        good[3],
        b"0,1,2,3,4,5,6,7,8,9,10,11",
        good[4],
        b"[1.5,1,2,3,4,5,6,7,8,9,10,11]",
        b"[0,1,2,3,4,5,6,7,8,9,nan,11]",
        good[5],
    ]
    batch, dead = LiteralCodec().decode(raw(payloads, "dataLinearModel"))
    assert batch.column("counter").tolist() == [0, 1, 2, 3, 4, 5]
    assert batch.offsets.tolist() == [100, 102, 104, 107, 109, 112]
    assert [d.offset for d in dead] == [101, 103, 105, 106, 108, 110, 111]
    reasons = [d.reason for d in dead]
    assert reasons[0] == "expected 12 values, got 5"
    assert reasons[1] == "not a number: 'abc' at index 3"
    assert reasons[2] == "empty payload"
    assert reasons[3].startswith("not valid UTF-8")
    assert reasons[4].startswith("missing '['")
    assert reasons[5] == "field 'counter' is not an integer: 1.5"
    assert reasons[6] == "non-finite value in field 'x9': nan"
    assert dead[0].position == "dataLinearModel[0]@101" and dead[0].raw == b"[1,2,3,4,5]"


def test_codec_nonfinite_policy() -> None:
    payloads = [b"[0,inf,1]", b"[1,2,-inf]", b"[2,nan,3]", b"[nan,1,2]", b"[3,1,2]"]
    _, dead = LiteralCodec(n_features=1).decode(raw(payloads))
    assert [d.offset for d in dead] == [100, 101, 102, 103]
    assert dead[1].reason == "non-finite value in field 'x1': -inf"
    keep = LiteralCodec(replace(literal_schema(1), nonfinite="keep"))
    batch, dead = keep.decode(raw(payloads))
    assert [d.reason for d in dead] == ["non-finite value in integer field 'counter': nan"]
    assert batch.column("counter").tolist() == [0, 1, 2, 3]
    assert batch.column("y")[0] == math.inf and math.isnan(batch.column("y")[2])


def test_codec_infers_feature_count() -> None:
    codec = LiteralCodec(n_features=None)
    assert codec.n_values is None
    batch, dead = codec.decode(raw([b"[1,2]", b"oops"]))
    assert len(batch) == 0 and [d.reason for d in dead] == [
        "expected at least 3 values, got 2",
        "missing '[' at the start: 'oops'",
    ]
    batch, dead = codec.decode(raw([b"[1,2]", b"[0,1,2,3]", b"[1,1,2,3,4]", b"[2,1,2,3]"]))
    assert codec.n_values == 4 and codec.schema.names == ("counter", "y", "x1", "x2")
    assert batch.column("counter").tolist() == [0, 2]
    assert [d.reason for d in dead] == ["expected 4 values, got 2", "expected 4 values, got 5"]
    # as make_codec("literal", n_features=None) builds it: infer, keep the schema's policy
    keep = LiteralCodec(replace(literal_schema(), nonfinite="keep"), n_features=None)
    batch, dead = keep.decode(raw([b"[0,nan,1,2]"]))
    assert dead == [] and keep.n_values == 4 and keep.schema.nonfinite == "keep"


def test_codec_empty_batch_and_schema_argument() -> None:
    codec = LiteralCodec(literal_schema(3))
    batch, dead = codec.decode(raw([]))
    assert len(batch) == 0 and dead == [] and list(batch.columns)[-1] == "x3"
    assert codec.encode({"counter": [7], "y": [0.5], "x1": [1.0], "x2": [-2.0], "x3": [0.0]}) == [
        b"[ 7. , 0.5, 1. ,-2. , 0. ]"
    ]
    with pytest.raises(ConfigError, match="no column 'x3'"):
        codec.encode({"counter": [7], "y": [0.5], "x1": [1.0], "x2": [-2.0]})


def test_codec_slow_path_for_long_numbers() -> None:
    payloads = [b"[0,0.1000000000000000000001,2]", b"[1,123456789012345678901234567890,2]"]
    batch, dead = LiteralCodec(n_features=1).decode(raw(payloads))
    assert dead == [] and batch.column("y").tolist() == [0.1, 1.2345678901234568e29]
