"""``streamlearn inspect``: the report of :func:`streamlearn.inspect.inspect_source`, as tables or JSON."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from streamlearn.cli.options import InspectOptions, delimiter_of, split_columns
from streamlearn.codecs.layout import SAMPLE
from streamlearn.inspect import inspect_source
from streamlearn.pipeline import Pipeline
from streamlearn.sources.registry import is_endless, parse_source

__all__ = ["inspect_command", "print_report"]


def inspect_command(p: InspectOptions) -> None:
    endless = is_endless(p.source)
    spec = parse_source(
        p.source, bootstrap=p.bootstrap, count=SAMPLE if endless else None, until_end=True
    )
    pipeline = Pipeline(
        spec,
        format=p.format,
        target=p.target,
        features=split_columns(p.features),
        categorical=split_columns(p.categorical),
        key=p.key,
        types=p.types,
        delimiter=delimiter_of(p.delimiter),
        header=False if p.no_header else None,
        columns=split_columns(p.columns),
    )
    report = inspect_source(pipeline, rows=p.rows)
    if p.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print_report(report, Console(highlight=False, soft_wrap=True))


def print_report(report: dict[str, Any], console: Console) -> None:
    src = report["source"]
    where = src.get("path") or src.get("topic") or src.get("kind")
    line = f"{where}: {report['sample']:,} records read; format {report['format'] or 'unknown'}"
    if report.get("delimiter") is not None:
        shown = "tab" if report["delimiter"] == "\t" else repr(report["delimiter"])
        line += f", delimiter {shown}, " + (
            "a header line" if report.get("header") else "no header"
        )
    console.print(line, markup=False)
    if report["columns"]:
        table = Table(title="columns", title_justify="left")
        for name in ("column", "type", "role", "why"):
            table.add_column(name, overflow="fold")
        for c in report["columns"]:
            table.add_row(escape(c["name"]), c["type"], c["role"], escape(c.get("note", "")))
        console.print(table)
    if report["rows"]:
        rows = Table(title=f"the first {len(report['rows'])} decoded rows", title_justify="left")
        names = list(report["rows"][0])
        for name in names:
            rows.add_column(escape(name), overflow="fold")
        for r in report["rows"]:
            rows.add_row(*(escape(str(r[n])) for n in names))
        console.print(rows)
    n = report["dead_letter_count"]
    console.print(f"dead letters in the sample: {n:,}", markup=False)
    for d in report["dead_letters"]:
        console.print(f"  {d['position']}: {d['reason']}", markup=False)
    if n > len(report["dead_letters"]):
        console.print(f"  ... and {n - len(report['dead_letters']):,} more", markup=False)
