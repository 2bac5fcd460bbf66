"""Entry point: turns every expected failure into one line and an exit code."""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any

import typer
from typer._click import exceptions as click_exc

from streamlearn.errors import StreamlearnError, Terminated, UserCodeError

__all__ = ["main", "report_errors"]


def _on_sigterm(signum: int, frame: object) -> None:
    # outside a run loop (which stops at a batch boundary itself): stop now
    raise Terminated


def report_errors(fn: Callable[[], Any]) -> int:
    """Call ``fn``; print expected failures as one line (plus a user traceback); return the exit code.

    Scripts can use it to report errors as the ``streamlearn`` command does.
    """
    try:
        result = fn()
        return result if isinstance(result, int) else 0
    except click_exc.NoArgsIsHelpError as exc:  # pragma: no cover - help text
        click_exc.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        return 0
    except click_exc.UsageError as exc:
        print(f"error: {exc.format_message()}", file=sys.stderr)
        return 2
    except click_exc.ClickException as exc:
        print(f"error: {exc.format_message()}", file=sys.stderr)
        return 2
    except Terminated:
        return 143
    except (KeyboardInterrupt, EOFError):
        return 130
    except UserCodeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(exc.user_traceback.rstrip(), file=sys.stderr)
        return exc.exit_code
    except StreamlearnError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # a bug of ours: one line, full detail on request
        if os.environ.get("STREAMLEARN_DEBUG"):
            traceback.print_exc()
        else:
            print(
                f"internal error: {type(exc).__name__}: {exc} (set STREAMLEARN_DEBUG=1 for the traceback)",
                file=sys.stderr,
            )
        return 1


def main(argv: list[str] | None = None) -> int:
    from streamlearn.cli.app import app

    command = typer.main.get_command(app)
    signal.signal(signal.SIGTERM, _on_sigterm)
    args = sys.argv[1:] if argv is None else argv
    return report_errors(
        lambda: command.main(args=args, prog_name="streamlearn", standalone_mode=False)
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
