"""The course generators: byte-identical to the course producer's own loop, fast, resumable."""

from __future__ import annotations

import time

import numpy as np
import pytest

from streamlearn.codecs import literal_format
from streamlearn.errors import ConfigError
from streamlearn.sources.generators import (
    LinearSource,
    NonLinearSource,
    course_payloads,
    course_rows,
)
from streamlearn.sources.generators.course import (
    SEED,
    CourseGenerator,
    reference_payloads,
    reference_rows,
)

KINDS = ("linear", "nonlinear")
N_REF = 20_000

FIRST_LINEAR = (
    b"[ 0.        ,-0.69070552, 0.14116957,-0.35972144, 0.23525346,-0.84060208,\n"
    b"  1.31307295, 0.21407109,-0.83490104, 0.32611369, 0.55512634,-0.87705984]"
)


def course_producer(kind: str, n: int) -> list[bytes]:
    """The course code, verbatim, on NumPy's global generator (restored afterwards)."""
    saved = np.random.get_state()
    try:
        np.random.seed(2452020515)
        beta = np.zeros((10, 1))
        beta[0, 0] = beta[9, 0] = 1
        out = []
        for i in range(n):
            if kind == "linear":
                x = np.random.randn(1, 10)[0]
                y = float(x.dot(beta)[0]) + 0.1 * np.random.rand(1)[0]
            else:
                x = np.random.rand(1, 10)[0]
                y = (
                    float(np.sin(x[0]) + abs(x[1] * x[2]) + np.log(abs(x[-1])))
                    + 0.25 * np.random.rand(1)[0]
                )
            out.append(np.array2string(np.append([i, y], x), separator=",").encode("utf-8"))
        return out
    finally:
        np.random.set_state(saved)


@pytest.fixture(scope="module")
def reference() -> dict[str, tuple[np.ndarray, list[bytes]]]:
    out = {}
    for kind in KINDS:
        rows = reference_rows(kind, 0, N_REF)
        out[kind] = (rows, [np.array2string(r, separator=",").encode() for r in rows])
    return out


def test_first_linear_message_is_the_documented_one() -> None:
    assert course_payloads("linear", 0, 1) == [FIRST_LINEAR]
    assert course_producer("linear", 1) == [FIRST_LINEAR]


@pytest.mark.parametrize("kind", KINDS)
def test_first_three_messages_equal_the_course_code(kind: str) -> None:
    assert course_payloads(kind, 0, 3) == course_producer(kind, 3)


@pytest.mark.parametrize("kind", KINDS)
def test_fast_path_equals_reference(kind: str, reference: dict) -> None:
    ref_rows, ref_payloads = reference[kind]
    rows = course_rows(kind, 0, N_REF)
    assert np.array_equal(rows.view(np.int64), ref_rows.view(np.int64))  # bitwise, incl. y
    assert course_payloads(kind, 0, N_REF) == ref_payloads
    # the run covers both notations, and the fast formatter needed no fallback
    assert b"e+" not in ref_payloads[0] and b"e+" in ref_payloads[-1]
    buf = np.empty(N_REF * (12 * 22 + 3), dtype=np.uint8)
    fallback = np.empty(N_REF, dtype=np.bool_)
    literal_format._format_many(rows, buf, fallback, 75)
    assert not fallback.any()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("k", [1, 7, 624, 12_345])
def test_resume_at_k(kind: str, k: int, reference: dict) -> None:
    _, ref_payloads = reference[kind]
    assert course_payloads(kind, k, 300) == ref_payloads[k : k + 300]
    gen = CourseGenerator(kind)
    gen.skip(k)
    head = gen.payloads(100)
    gen.skip(50)
    assert head + gen.payloads(10) == ref_payloads[k : k + 100] + ref_payloads[k + 150 : k + 160]


def test_other_seed_matches_reference() -> None:
    for kind in KINDS:
        assert course_payloads(kind, 5, 20, seed=7) == reference_payloads(kind, 5, 20, seed=7)


def test_unknown_kind() -> None:
    with pytest.raises(ConfigError, match="unknown course generator"):
        course_rows("quadratic", 0, 1)


@pytest.mark.parametrize("cls", [LinearSource, NonLinearSource])
def test_source_contract(cls: type, reference: dict) -> None:
    kind = cls.kind
    _, ref_payloads = reference[kind]
    src = cls(count=25)
    assert (src.format, src.position_kind) == ("literal", "offset")
    with src:
        batches = []
        while not src.exhausted:
            batches.append(src.read(10, timeout_s=0.1))
        assert [len(b) for b in batches] == [10, 10, 5]
        assert len(src.read(10)) == 0 and src.exhausted
        assert src.snapshot() == {"next": 25}
        p = src.progress()
        assert (p.consumed, p.total) == (25, 25)
    b = batches[1]
    assert b.origin == kind and b.position_kind == "offset"
    assert b.offsets.tolist() == list(range(10, 20)) and not b.partitions.any()
    assert b.payloads == ref_payloads[10:20]
    assert src.describe() == {"kind": kind, "count": 25, "seed": SEED}


def test_source_resume_and_unbounded(reference: dict) -> None:
    _, ref_payloads = reference["nonlinear"]
    src = NonLinearSource(count=None)
    src.open(snapshot={"next": 1000})
    assert src.read(5).payloads == ref_payloads[1000:1005]
    src.open(snapshot={"next": 3})  # backwards: replays from the seed
    assert src.read(2).payloads == ref_payloads[3:5]
    assert not src.exhausted and src.progress().total is None
    with pytest.raises(ConfigError):
        src.open(snapshot={"next": -1})
    with pytest.raises(ConfigError):
        LinearSource(rate=0)


def test_rate_paces_without_drift() -> None:
    rate, count = 400.0, 120
    src = LinearSource(count=count, rate=rate)
    src.open()
    t0 = time.monotonic()
    got = 0
    while not src.exhausted:
        got += len(src.read(7, timeout_s=0.05))
        # never ahead of schedule: record j is due at j / rate
        assert got <= (time.monotonic() - t0) * rate + 1 + 1e-6
    elapsed = time.monotonic() - t0
    assert got == count
    assert (count - 1) / rate <= elapsed + 1e-3 < (count - 1) / rate + 0.25


def test_rate_read_times_out_empty() -> None:
    src = LinearSource(rate=1.0)
    src.open()
    assert len(src.read(10)) == 1  # the first record is due at once
    t = time.monotonic()
    assert len(src.read(10, timeout_s=0.05)) == 0
    assert 0.04 < time.monotonic() - t < 0.5
