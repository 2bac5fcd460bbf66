"""The ``streamlearn`` command."""

from __future__ import annotations

from streamlearn.cli.main import main

__all__ = ["main"]
