"""Options shared by several commands."""

from __future__ import annotations

import typer

__all__ = ["BOOTSTRAP", "COUNT", "FORMAT", "KEY", "RATE", "SAVE", "SEED", "SOURCE", "split_columns"]

SOURCE = typer.Option(..., help="kafka:TOPIC, linear, nonlinear, activity, csv:PATH or json:PATH")
BOOTSTRAP = typer.Option("127.0.0.1:9092", help="Kafka bootstrap HOST:PORT")
COUNT = typer.Option(None, help="records to read (generators: records to make)")
FORMAT = typer.Option(None, help="payload format: literal, json or csv")
KEY = typer.Option(None, help="column to key state by")
RATE = typer.Option(None, help="records/s for generators (default: unlimited)")
SEED = typer.Option(None, help="generator seed")
SAVE = typer.Option(None, help="save every decoded batch to DIR/batch-NNNNNN.csv")


def split_columns(text: str | None) -> list[str] | None:
    if text is None:
        return None
    cols = [c.strip() for c in text.split(",") if c.strip()]
    return cols or None
