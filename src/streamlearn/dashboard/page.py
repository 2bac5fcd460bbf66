"""The one HTML page behind both the live dashboard and the end-of-run report.

CSS, the chart code and the page logic are inlined from the package's
``static`` folder, so the page needs nothing but itself: the live dashboard
adds the ``/events`` stream, the report embeds its data (and PNG plots).
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import orjson

__all__ = ["dumps", "render_page"]

_TOKEN = re.compile(r"\{\{([A-Z_]+)\}\}")


@cache
def _static(name: str) -> str:
    return resources.files("streamlearn.dashboard").joinpath("static", name).read_text("utf-8")


def dumps(data: Any) -> bytes:
    """JSON for the page: NaN and inf become null, numpy values are plain numbers."""
    return orjson.dumps(
        data,
        option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS,
        default=str,
    )


def _script_json(data: Any) -> str:
    # inside <script>, "</" could close the element early (a dead letter's raw text
    # is user data): "<\/" means the same thing to JSON and JavaScript
    return dumps(data).decode("utf-8").replace("</", "<\\/").replace("<!--", "<\\!--")


def _images(images: Sequence[tuple[str, bytes]]) -> str:
    if not images:
        return ""
    figures = "\n".join(
        f'    <figure><img alt="{html.escape(name)}" '
        f'src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'
        f"<figcaption>{html.escape(name)}</figcaption></figure>"
        for name, data in images
    )
    return (
        '  <section class="panel" id="images">\n'
        "    <h2>Plots (also saved as PNG files)</h2>\n"
        f"{figures}\n  </section>"
    )


def render_page(
    mode: str,
    state: dict[str, Any] | None = None,
    title: str = "streamlearn",
    images: Sequence[tuple[str, bytes]] = (),
    footer: str = "",
) -> str:
    """The page as one HTML string.

    Parameters
    ----------
    mode
        ``"live"`` (follow ``/events``) or ``"report"`` (draw the embedded state).
    state
        A :meth:`History.state` to draw straight away (the report's data).
    title
        The document title.
    images
        ``(file name, PNG bytes)`` pairs embedded as data URIs (the report).
    footer
        Plain text for the footer.
    """
    parts = {
        "TITLE": html.escape(title),
        "MODE": html.escape(mode),
        "CSS": _static("style.css"),
        "CHARTS_JS": _static("charts.js"),
        "APP_JS": _static("app.js"),
        "DATA": _script_json({"mode": mode, "state": state}),
        "IMAGES": _images(images),
        "FOOTER": html.escape(footer),
    }
    # one pass, so nothing inserted is ever scanned for placeholders again
    return _TOKEN.sub(lambda m: parts.get(m.group(1), m.group(0)), _static("page.html"))
