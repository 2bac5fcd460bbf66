"""Write the small fixture files of tests/data (deterministic: run it again and nothing changes).

    .venv/bin/python tests/data/make_fixtures.py

- ``hhar_sci.csv``: HHAR rows in Job 1's schema, ``Creation_Time`` printed as
  ``1.42469663191325E+018`` (as spreadsheet tools print it), and the same rows
  without that column (``hhar_no_creation.csv``);
- ``sensors.*``: one table of readings in the layouts people have: comma, tab,
  semicolon and pipe separated, no header, gzip, bz2, xz, zstd, zip, Parquet,
  JSON lines, and a directory of three CSV parts;
- ``sensors_bad_value.csv``: a text value in a number column in row 30.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from streamlearn.sources.generators.activity import HHAR_HEADER, activity_payloads

HERE = Path(__file__).parent
N = 600


def hhar() -> None:
    rows = activity_payloads(0, 3000, seed=11)
    sci, without = [HHAR_HEADER], [HHAR_HEADER.replace(b"Creation_Time,", b"")]
    for r in rows:
        cells = r.split(b",")
        cells[2] = f"{float(cells[2]):.14E}".replace("E+", "E+0").encode()  # 1.42469663191325E+018
        sci.append(b",".join(cells))
        without.append(b",".join(cells[:2] + cells[3:]))
    (HERE / "hhar_sci.csv").write_bytes(b"\n".join(sci) + b"\n")
    (HERE / "hhar_no_creation.csv").write_bytes(b"\n".join(without) + b"\n")


def sensors() -> dict[str, list]:
    rng = np.random.default_rng(7)
    device = rng.choice(["north", "south", "east", "west"], N)
    temp = np.round(rng.normal(20, 6, N), 2)
    humidity = np.round(rng.uniform(20, 90, N), 1)
    pressure = np.round(rng.normal(1013, 8, N), 1)
    score = 0.15 * (temp - 20) - 0.04 * (humidity - 55) + np.where(device == "north", 1.0, 0.0)
    label = np.where(score + rng.normal(0, 0.4, N) > 0, "rain", "dry")
    time = [f"2026-03-{1 + i // 96:02d}T{(i % 96) // 4:02d}:{15 * (i % 4):02d}" for i in range(N)]
    return {
        "time": time,
        "device": device.tolist(),
        "temp": temp.tolist(),
        "humidity": humidity.tolist(),
        "pressure": pressure.tolist(),
        "label": label.tolist(),
    }


def _text(cols: dict[str, list], sep: str, header: bool = True, rows: slice = slice(None)) -> bytes:
    names = list(cols)
    lines = [sep.join(names)] if header else []
    for i in range(N)[rows]:
        lines.append(sep.join(str(cols[n][i]) for n in names))
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    hhar()
    cols = sensors()
    plain = _text(cols, ",")
    (HERE / "sensors.csv").write_bytes(plain)
    (HERE / "sensors.tsv").write_bytes(_text(cols, "\t"))
    (HERE / "sensors_semicolon.csv").write_bytes(_text(cols, ";"))
    (HERE / "sensors_pipe.txt").write_bytes(_text(cols, "|"))
    (HERE / "sensors_noheader.csv").write_bytes(_text(cols, ",", header=False))
    # compressed copies, byte for byte the same text; fixed mtimes keep gzip deterministic
    (HERE / "sensors.csv.gz").write_bytes(gzip.compress(plain, mtime=0))
    (HERE / "sensors.csv.bz2").write_bytes(bz2.compress(plain))
    (HERE / "sensors.csv.xz").write_bytes(lzma.compress(plain))
    (HERE / "sensors.csv.zst").write_bytes(pa.compress(plain, codec="zstd", asbytes=True))
    with zipfile.ZipFile(HERE / "sensors.zip", "w") as archive:
        info = zipfile.ZipInfo("sensors.csv", date_time=(2026, 1, 1, 0, 0, 0))
        archive.writestr(info, plain, compress_type=zipfile.ZIP_DEFLATED)
    pq.write_table(
        pa.table(cols), HERE / "sensors.parquet", row_group_size=250, compression="snappy"
    )
    (HERE / "sensors.jsonl").write_bytes(
        b"".join(orjson.dumps({n: cols[n][i] for n in cols}) + b"\n" for i in range(N))
    )
    parts = HERE / "sensors_parts"
    parts.mkdir(exist_ok=True)
    for k, rows in enumerate((slice(0, 200), slice(200, 400), slice(400, N))):
        (parts / f"part-{k:05d}.csv").write_bytes(_text(cols, ",", rows=rows))
    bad = dict(cols)
    bad["temp"] = list(cols["temp"])
    bad["temp"][30] = "n/a"
    (HERE / "sensors_bad_value.csv").write_bytes(_text(bad, ","))


if __name__ == "__main__":
    main()
