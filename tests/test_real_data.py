"""Files and topics as people have them: layouts, compression, columnar files, types, roles, messages."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from helpers import cli, kill_when, metrics, start_cli, write_topic
from streamlearn import Pipeline, parse_source, run
from streamlearn.checkpoint import Checkpointer, read_header
from streamlearn.errors import ConfigError

DATA = Path(__file__).parent / "data"
SENSOR_FILES = [
    "sensors.csv",
    "sensors.tsv",
    "sensors_semicolon.csv",
    "sensors_pipe.txt",
    "sensors.csv.gz",
    "sensors.csv.bz2",
    "sensors.csv.xz",
    "sensors.csv.zst",
    "sensors.zip",
    "sensors.parquet",
    "sensors.jsonl",
    "sensors_parts",
]
RACE = ("--task", "classification", "--model", "nb", "--model", "majority", "--quiet")


def _race(source: str) -> dict:
    return dict(
        run(Pipeline(source, task="classification", models=["nb", "majority"], batch_size=250))
    )


@pytest.fixture(scope="module")
def comma() -> dict:
    return _race(str(DATA / "sensors.csv"))


def _same_metrics(a: dict, b: dict) -> None:
    for key in ("records_consumed", "records_predicted", "dead_letters", "champion"):
        assert a[key] == b[key], key
    for name, m in a["models"].items():
        assert b["models"][name]["accuracy"] == m["accuracy"], name
    assert [(f["name"], f["role"]) for f in a["schema"]["fields"]] == [
        (f["name"], f["role"]) for f in b["schema"]["fields"]
    ]


@pytest.mark.parametrize("name", SENSOR_FILES[1:])
def test_every_layout_gives_the_comma_files_metrics(name: str, comma: dict) -> None:
    result = _race(str(DATA / name))
    _same_metrics(comma, result)
    assert comma["records_predicted"] == 600 and comma["dead_letters"] == 0


def test_delimiters_are_sniffed_and_reported(comma: dict) -> None:
    assert comma["schema"]["delimiter"] == ","
    for name, sep in (
        ("sensors.tsv", "\t"),
        ("sensors_semicolon.csv", ";"),
        ("sensors_pipe.txt", "|"),
    ):
        assert _race(str(DATA / name))["schema"]["delimiter"] == sep
    forced = run(
        Pipeline(str(DATA / "sensors.tsv"), delimiter="\t", task="classification", models=["nb"])
    )
    assert forced["records_predicted"] == 600


def test_the_inferred_schema_and_roles_are_in_the_metrics(comma: dict) -> None:
    fields = {f["name"]: (f["type"], f["role"]) for f in comma["schema"]["fields"]}
    assert fields == {
        "time": ("str", "unused"),  # a new value on every row: an identifier, not a category
        "device": ("str", "categorical"),
        "temp": ("float", "feature"),
        "humidity": ("float", "feature"),
        "pressure": ("float", "feature"),
        "label": ("str", "target"),
    }


def test_features_are_exactly_the_ones_asked_for(workdir: Path) -> None:
    proc = cli(
        "run",
        "--source",
        str(DATA / "hhar_sci.csv"),
        "--features",
        "x,y,z",
        "--metrics-json",
        "m.json",
        *RACE,
    )
    assert proc.returncode == 0, proc.stderr
    roles = {f["name"]: f["role"] for f in metrics("m.json")["schema"]["fields"]}
    assert sorted(n for n, r in roles.items() if r in ("feature", "categorical")) == ["x", "y", "z"]
    assert (
        roles["User"] == roles["Model"] == roles["Device"] == "unused" and roles["gt"] == "target"
    )


def test_hhar_with_a_scientific_creation_time_learns_as_without_it() -> None:
    with_sci = _race(str(DATA / "hhar_sci.csv"))
    without = _race(str(DATA / "hhar_no_creation.csv"))
    assert with_sci["dead_letters"] == 0 and with_sci["records_predicted"] == 3000
    for name in ("nb", "majority"):
        assert with_sci["models"][name]["accuracy"] == without["models"][name]["accuracy"]
    creation = next(f for f in with_sci["schema"]["fields"] if f["name"] == "Creation_Time")
    assert (creation["type"], creation["role"]) == ("float", "unused")


def test_one_bad_value_early_leaves_the_column_numeric_and_dead_letters_its_row(
    tmp_path: Path,
) -> None:
    dead = tmp_path / "dead.jsonl"
    result = run(
        Pipeline(
            str(DATA / "sensors_bad_value.csv"),
            task="classification",
            models=["nb"],
            batch_size=250,
        ),
        dead_letters=dead,
    )
    temp = next(f for f in result["schema"]["fields"] if f["name"] == "temp")
    assert (temp["type"], temp["role"]) == ("float", "feature")
    letters = [json.loads(x) for x in dead.read_text().splitlines()]
    assert [(d["offset"], d["reason"]) for d in letters] == [
        (32, "field 'temp': not a number: 'n/a'")
    ]
    assert letters[0]["position"] == f"{DATA / 'sensors_bad_value.csv'}:32"
    assert result["records_predicted"] == 599


def test_types_can_be_pinned() -> None:
    pinned = run(
        Pipeline(
            str(DATA / "sensors.csv"),
            task="classification",
            models=["nb"],
            types="pressure:category",
        )
    )
    fields = {f["name"]: (f["type"], f["role"]) for f in pinned["schema"]["fields"]}
    assert fields["pressure"] == ("str", "categorical")
    with pytest.raises(ConfigError, match="--types takes COLUMN:TYPE"):
        run(
            Pipeline(
                str(DATA / "sensors.csv"),
                task="classification",
                models=["nb"],
                types="temp:decimal",
            )
        )


def test_no_header_and_columns_name_the_columns() -> None:
    names = "time,device,temp,humidity,pressure,label"
    named = run(
        Pipeline(
            str(DATA / "sensors_noheader.csv"),
            columns=names.split(","),
            task="classification",
            models=["nb", "majority"],
        )
    )
    _same_metrics(_race(str(DATA / "sensors.csv")), named)
    numbered = run(
        Pipeline(
            str(DATA / "sensors_noheader.csv"),
            header=False,
            target="c5",
            task="classification",
            models=["nb"],
        )
    )
    assert [f["name"] for f in numbered["schema"]["fields"]] == [f"c{i}" for i in range(6)]
    assert numbered["records_predicted"] == 600


# -- messages -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "needle", "code"),
    [
        (("--source", str(DATA / "sensors_noheader.csv")), "no header found in", 2),
        (("--source", str(DATA / "sensors.tsv"), "--delimiter", ";"), "found 1 column", 2),
        (("--source", str(DATA / "nope.csv")), "file not found", 4),
        (("--source", str(DATA / "sensors.csv"), "--target", "nope"), "no column 'nope'", 2),
        (
            ("--source", str(DATA / "sensors.csv"), "--types", "temp"),
            "--types takes COLUMN:TYPE",
            2,
        ),
        (("--source", "river:elec2"), "River would download Elec2", 2),
    ],
)
def test_unreadable_layouts_say_what_to_do_in_one_line(
    workdir: Path, args: tuple[str, ...], needle: str, code: int
) -> None:
    proc = cli("run", *args, *RACE)
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr


def test_a_one_column_file_suggests_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("a b c\n1 2 3\n4 5 6\n")
    with pytest.raises(ConfigError, match=r"found 1 column in .*use --delimiter"):
        run(Pipeline(str(path), task="regression", models=["mean"]))


# -- inspect --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [*SENSOR_FILES, "hhar_sci.csv", "sensors_bad_value.csv"])
def test_inspect_says_each_columns_type_and_role(workdir: Path, name: str) -> None:
    proc = cli("inspect", "--source", str(DATA / name), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    columns = {c["name"]: (c["type"], c["role"]) for c in report["columns"]}
    if name.startswith("hhar"):
        assert columns["gt"] == ("str", "target") and columns["Creation_Time"] == (
            "float",
            "unused",
        )
        assert columns["x"] == ("float", "feature") and columns["User"] == ("str", "categorical")
        return
    assert columns["label"] == ("str", "target") and columns["device"] == ("str", "categorical")
    assert columns["temp"] == ("float", "feature") and columns["time"][1] == "unused"
    assert len(report["rows"]) == 5 and set(report["rows"][0]) == {
        "device",
        "temp",
        "humidity",
        "pressure",
        "label",
    }
    if name == "sensors_bad_value.csv":
        assert report["dead_letter_count"] == 1
        assert report["dead_letters"][0]["reason"] == "field 'temp': not a number: 'n/a'"
    else:
        assert report["dead_letter_count"] == 0


def test_inspect_prints_tables(workdir: Path) -> None:
    proc = cli("inspect", "--source", str(DATA / "sensors.tsv"))
    assert proc.returncode == 0, proc.stderr
    assert "delimiter tab, a header line" in proc.stdout
    assert "categorical" in proc.stdout and "dead letters in the sample: 0" in proc.stdout


# -- River's data sets ----------------------------------------------------------------------------
def test_river_phishing_runs_a_race(workdir: Path) -> None:
    proc = cli(
        "run",
        "--source",
        "river:phishing",
        "--model",
        "logreg",
        "--model",
        "hoeffding",
        "--metrics-json",
        "m.json",
        *RACE,
    )
    assert proc.returncode == 0, proc.stderr
    m = metrics("m.json")
    assert m["records_predicted"] == 1250 and m["dead_letters"] == 0
    assert m["models"]["logreg"]["accuracy"] > 0.8 > m["models"]["majority"]["accuracy"]


# -- exact resume, per format ------------------------------------------------------------------------
def _big_copies(folder: Path, rows: int = 120_000) -> dict[str, str]:
    """The activity rows as a plain CSV and in each other layout, big enough to be killed mid-run."""
    import bz2
    import gzip
    import lzma

    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from streamlearn.sources.generators.activity import write_hhar_csv

    plain = folder / "rows.csv"
    write_hhar_csv(plain, rows, seed=5)
    text = plain.read_bytes()
    (folder / "rows.csv.gz").write_bytes(gzip.compress(text, compresslevel=1, mtime=0))
    (folder / "rows.csv.bz2").write_bytes(bz2.compress(text, 1))
    (folder / "rows.csv.xz").write_bytes(lzma.compress(text, preset=0))
    table = pacsv.read_csv(plain)
    pq.write_table(table, folder / "rows.parquet", row_group_size=10_000)
    import orjson

    with open(folder / "rows.jsonl", "wb") as fh:
        for batch in table.to_batches(50_000):
            for row in batch.to_pylist():
                fh.write(orjson.dumps(row) + b"\n")
    parts = folder / "parts"
    parts.mkdir()
    lines = text.splitlines(keepends=True)
    header, body = lines[0], lines[1:]
    third = len(body) // 3
    for k, chunk in enumerate((body[:third], body[third : 2 * third], body[2 * third :])):
        (parts / f"part-{k}.csv").write_bytes(header + b"".join(chunk))
    return {
        "gz": str(folder / "rows.csv.gz"),
        "bz2": str(folder / "rows.csv.bz2"),
        "xz": str(folder / "rows.csv.xz"),
        "parquet": str(folder / "rows.parquet"),
        "jsonl": str(folder / "rows.jsonl"),
        "parts": str(parts),
    }


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _big_copies(tmp_path_factory.mktemp("big"))


def _args(source: str, tag: str, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    return (
        "run", "--source", source, "--task", "classification", "--target", "gt",
        "--model", "nb", "--model", "last-class", "--batch-size", "4000", "--quiet",
        "--metrics-json", f"m-{tag}.json", "--dead-letter", f"dead-{tag}.jsonl", *extra,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gz", "bz2", "xz", "parquet", "jsonl", "parts"])
def test_sigkill_then_resume_equals_the_uninterrupted_run(
    workdir: Path, big: dict[str, str], kind: str
) -> None:
    source = big[kind]
    ref = cli(*_args(source, "ref"))
    assert ref.returncode == 0, ref.stderr
    ck = workdir / "ck"
    run_args = _args(source, "kill", ("--checkpoint", str(ck)))
    seed = int(os.environ.get("STREAMLEARN_KILL_SEED", "7"))
    target = int(np.random.default_rng([seed, len(kind)]).integers(3, 20))

    def at_target() -> bool:
        try:
            return int(read_header(ck / Checkpointer.FILE)["next_batch"]) >= target
        except (FileNotFoundError, ConfigError):
            return False

    assert kill_when(start_cli(*run_args), at_target), "the run ended before it could be killed"
    final = cli(*run_args)
    assert final.returncode == 0, final.stderr
    a, b = metrics("m-ref.json"), metrics("m-kill.json")
    for key in ("records_consumed", "records_predicted", "dead_letters", "batches", "champion"):
        assert a[key] == b[key], key
    assert a["records_predicted"] == 120_000
    for name, m in a["models"].items():
        assert b["models"][name]["accuracy"] == m["accuracy"], name


# -- topics ---------------------------------------------------------------------------------------
@pytest.mark.kafka
def test_garbage_before_literal_lists_is_dead_lettered(broker, topic, workdir: Path) -> None:
    from streamlearn.sources.generators.course import course_payloads

    write_topic(broker.bootstrap, topic, [b"garbage"] * 8 + course_payloads("linear", 0, 200))
    proc = cli(
        "run", "--source", f"kafka:{topic}", "--bootstrap", broker.bootstrap, "--task", "regression",
        "--model", "rls", "--metrics-json", "m.json", "--dead-letter", "dead.jsonl", "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    m = metrics("m.json")
    assert (m["dead_letters"], m["records_predicted"], m["schema"]["format"]) == (8, 200, "literal")
    letters = [json.loads(x) for x in Path("dead.jsonl").read_text().splitlines()]
    assert [d["offset"] for d in letters] == list(range(8)) and all(
        d["raw"] == "garbage" for d in letters
    )


@pytest.mark.kafka
def test_a_leading_json_object_does_not_decide_a_literal_topic(
    broker, topic, workdir: Path
) -> None:
    from streamlearn.sources.generators.course import course_payloads

    write_topic(broker.bootstrap, topic, [b'{"x": 1, "y": 2}', *course_payloads("linear", 0, 300)])
    proc = cli(
        "run", "--source", f"kafka:{topic}", "--bootstrap", broker.bootstrap, "--task", "regression",
        "--model", "rls", "--metrics-json", "m.json", "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    m = metrics("m.json")
    assert (m["dead_letters"], m["records_predicted"]) == (1, 300)


@pytest.mark.kafka
def test_eight_short_lists_do_not_fix_the_width(broker, topic, workdir: Path) -> None:
    from streamlearn.sources.generators.course import course_payloads

    write_topic(broker.bootstrap, topic, [b"[1, 2.0, 3.0]"] * 8 + course_payloads("linear", 0, 200))
    spec = parse_source(f"kafka:{topic}", bootstrap=broker.bootstrap)
    m = dict(run(Pipeline(spec, task="regression", models=["rls"])))
    assert (m["dead_letters"], m["records_predicted"]) == (8, 200)
    assert len(m["schema"]["fields"]) == 12
