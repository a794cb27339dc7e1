"""Server-rendered sandbox pages: templates from `static/`, escaped values, rupee formatting."""

import functools
import html
import string
from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).parent / "static"


@functools.cache
def _template(name: str) -> string.Template:
    return string.Template((STATIC_DIR / name).read_text(encoding="utf-8"))


def render(name: str, *, raw: dict[str, str] | None = None, **values: object) -> web.Response:
    """Fill `$placeholders`: keyword values are escaped; `raw` holds markup built here."""
    fields = {key: html.escape(str(value)) for key, value in values.items()}
    fields.update(raw or {})
    text = _template(name).substitute(fields)
    return web.Response(text=text, content_type="text/html", charset="utf-8")


def esc(value: object) -> str:
    return html.escape(str(value))
