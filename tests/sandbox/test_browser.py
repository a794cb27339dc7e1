"""The whole shop in a real browser: the real app in sandbox mode on a loopback port, driven
through the chat page and the checkout page by headless Chromium (Debian's, not a download).

Needs `pip install playwright` (the Python package only; never `playwright install`) and the
`chromium` apt package at /usr/bin/chromium. With `SANDBOX_SCREENSHOT=1` it refreshes
docs/sandbox-chat.png, the README's screenshot; otherwise the shot goes to a temporary folder,
so a test run never changes the checkout.
"""

import os
import re
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.app import create_app
from bot.sandbox import sandbox_settings
from bot.settings import load_settings
from bot.shop_config import load_shop_config
from storage.migrate import migrate
from tests.fixtures_path import REPO_ROOT

try:
    from playwright.async_api import BrowserContext, Page, async_playwright
except ImportError:  # the reason is given by the skip below
    async_playwright = None  # type: ignore[assignment]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = REPO_ROOT / "docs" / "sandbox-chat.png"
PHONE = "919800000042"
WAIT_MS = 15_000

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def _missing() -> str | None:
    if async_playwright is None:
        return "playwright is not installed: pip install playwright (no browser download needed)"
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        return f"chromium not installed at {CHROMIUM}: apt-get install -y chromium"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def shop_url(tmp_path: Path) -> AsyncIterator[str]:
    """The real app, sandbox mode, on a free loopback port with a fresh SQLite file."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "BOT_CONFIG": str(REPO_ROOT / "config.toml"),
        # 127.0.0.1 rather than localhost: the site listens on IPv4 loopback only.
        "PUBLIC_BASE_URL": base,
    }
    settings = sandbox_settings(load_settings(env))
    await migrate(settings.database_url)
    runner = web.AppRunner(create_app(settings, load_shop_config(settings.bot_config)))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield base
    await runner.cleanup()


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator["BrowserContext"]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 860},
        )
        context.set_default_timeout(WAIT_MS)
        yield context
        await context.close()


async def shop_messages(page: "Page") -> int:
    return await page.locator(".row[data-sender=shop]").count()


async def until_reply(page: "Page", before: int) -> None:
    """Wait for the bot's next message; never sleep."""
    await page.wait_for_function(
        "n => document.querySelectorAll('.row[data-sender=shop]').length > n", arg=before
    )


async def pick_from_newest_list(page: "Page") -> None:
    """Open the newest list message's bottom sheet and tap its first row."""
    before = await shop_messages(page)
    await page.locator(".list-open").last.click()
    await page.locator("#sheet .list-row").first.click()
    await until_reply(page, before)


async def tap(page: "Page", title: str) -> None:
    before = await shop_messages(page)
    await page.get_by_role("button", name=re.compile(title, re.I)).last.click()
    await until_reply(page, before)


async def type_message(page: "Page", text: str) -> None:
    before = await shop_messages(page)
    await page.get_by_placeholder("Type a message").fill(text)
    await page.keyboard.press("Enter")
    # The customer's own bubble shows before the bot answers.
    await page.locator(".row[data-sender=customer]", has_text=text).last.wait_for()
    await until_reply(page, before)


async def test_order_and_pay_in_the_browser(
    shop_url: str, browser: "BrowserContext", tmp_path: Path
) -> None:
    # Every page the shop shows runs under a Content-Security-Policy without 'unsafe-inline':
    # anything it blocks is logged to the console, and would be a broken page.
    blocked: list[str] = []

    def watch(opened: "Page") -> None:
        opened.on(
            "console",
            lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
        )

    browser.on("page", watch)
    page = await browser.new_page()
    errors: list[Any] = []
    page.on("pageerror", lambda error: errors.append(error))
    await page.goto(f"{shop_url}/sandbox?phone={PHONE}&name=Asha")
    await page.get_by_text("Chai Point").first.wait_for()

    await type_message(page, "hi")
    await tap(page, r"browse")
    await pick_from_newest_list(page)  # a category
    await pick_from_newest_list(page)  # a product
    await tap(page, r"^\s*1\s*$")  # the quantity
    await tap(page, r"checkout")
    await page.locator(".row[data-sender=shop]", has_text=re.compile("address", re.I)).wait_for()
    await type_message(page, "12 MG Road, Bengaluru 560001")
    await page.get_by_role("button", name=re.compile("pay now", re.I)).last.wait_for()
    await tap(page, r"pay now")

    async with browser.expect_page() as opened:
        await page.locator("a.cta").last.click()
    checkout = await opened.value
    await checkout.get_by_role("button", name=re.compile(r"^pay", re.I)).click()
    await checkout.wait_for_url(re.compile(r"/payments/callback\?"))
    await checkout.get_by_text(re.compile("payment received", re.I)).wait_for()

    await page.bring_to_front()
    confirmation = page.locator(".row[data-sender=shop]", has_text="✅")
    await confirmation.last.wait_for()
    assert errors == []
    # The sidebar's avatar colours are set through the CSSOM, which the policy allows.
    avatar = page.locator("#customers .avatar").first
    assert await avatar.evaluate("node => node.style.background") != ""
    screenshot = (
        SCREENSHOT if os.environ.get("SANDBOX_SCREENSHOT") == "1" else tmp_path / "chat.png"
    )
    await page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 10_000  # a rendered chat, not a blank page

    # The bot marked the customer's messages read: blue ticks.
    await page.locator(".row[data-sender=customer][data-status=read]").first.wait_for()

    orders = await browser.new_page()
    await orders.goto(f"{shop_url}/sandbox/orders")
    await orders.locator(".pill-paid").first.wait_for()
    stock = await browser.new_page()
    await stock.goto(f"{shop_url}/sandbox/stock")
    harvest = stock.locator("tr[data-product=darjeeling-first-flush-100]")
    await harvest.locator("input[name=count]").first.fill("0")
    await harvest.get_by_role("button", name="Set").click()
    await stock.get_by_text("0 in stock, 0 for sale").wait_for()
    await stock.locator(".pill-sold_out").first.wait_for()
    assert blocked == []
