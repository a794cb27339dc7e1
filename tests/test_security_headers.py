"""Security headers, from one response hook, on every response of the app (sandbox mode, so
every page is there): never framed, no sniffing, no Referer, no version banner, no inline code
allowed on pages, and the payment callback page never cached."""

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.routes.payments_callback import STYLE_HASH
from bot.sandbox import sandbox_settings
from bot.sandbox.pages import STATIC_DIR
from bot.settings import load_settings
from bot.shop_config import load_shop_config
from storage.migrate import migrate
from tests.conftest import REPO

PAGES = ["/sandbox?phone=919800000001", "/sandbox/orders", "/payments/callback"]
NOT_PAGES = [
    ("GET", "/healthz"),
    ("GET", "/sandbox/api/info"),
    ("GET", "/sandbox/static/chat.js"),
    ("GET", "/no/such/page"),
    ("POST", "/webhooks/whatsapp"),
    ("POST", "/webhooks/razorpay"),
]


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "BOT_CONFIG": str(REPO / "config.toml"),
    }
    settings = sandbox_settings(load_settings(env))
    await migrate(settings.database_url)
    app = create_app(settings, load_shop_config(settings.bot_config))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def policy(header: str) -> dict[str, str]:
    return {
        part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()
    }


@pytest.mark.parametrize(("method", "path"), [("GET", p) for p in PAGES] + NOT_PAGES)
async def test_every_response_is_unframeable_unsniffable_and_names_no_server(
    client: TestClient[Any, Any], method: str, path: str
) -> None:
    response = await client.request(method, path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    # Never a Referer to another site; the callback page sends none at all (below).
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    server = response.headers.get("Server", "")
    assert "aiohttp" not in server
    assert "Python" not in server


@pytest.mark.parametrize("path", PAGES)
async def test_pages_allow_scripts_and_styles_from_our_origin_only(
    client: TestClient[Any, Any], path: str
) -> None:
    response = await client.get(path)
    assert response.content_type == "text/html"
    rules = policy(response.headers["Content-Security-Policy"])
    assert rules["script-src"] == "'self'"
    assert rules["object-src"] == "'none'"
    assert rules["base-uri"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]


async def test_the_payment_callback_page_is_never_stored_and_its_style_is_pinned_by_hash(
    client: TestClient[Any, Any],
) -> None:
    # Its URL carries the payment id and signature: no cache may keep it.
    response = await client.get("/payments/callback?razorpay_payment_id=pay_X")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = await response.text()
    [style] = re.findall(r"<style>(.*?)</style>", page, re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"sha256-{digest}" == STYLE_HASH
    rules = policy(response.headers["Content-Security-Policy"])
    assert rules["style-src"] == f"'{STYLE_HASH}'"
    assert rules["form-action"] == "'none'"


async def test_json_answers_are_not_stored_and_static_files_may_be(
    client: TestClient[Any, Any],
) -> None:
    assert (await client.get("/healthz")).headers["Cache-Control"] == "no-store"
    static = await client.get("/sandbox/static/pages.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")


@pytest.mark.parametrize("name", sorted(p.name for p in STATIC_DIR.glob("*.html")))
def test_sandbox_pages_carry_no_inline_code_the_policy_would_block(name: str) -> None:
    page = (STATIC_DIR / name).read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline <script>"
    assert "<style" not in page
    assert not re.search(r"\sstyle\s*=", page), "style attribute"
    assert not re.search(r"\son[a-z]+\s*=", page), "inline event handler"
    assert "javascript:" not in page


def test_the_chat_script_sets_no_style_attribute() -> None:
    script = (STATIC_DIR / "chat.js").read_text(encoding="utf-8")
    assert 'setAttribute("style"' not in script
    assert "node.style.cssText" in script  # the one place styles are set, through the CSSOM
