"""The whole shop in a real browser: the real app in sandbox mode on a loopback port, driven
through the chat page and the checkout page by headless Chromium (Debian's, not a download).

Needs `pip install playwright` (the Python package only; never `playwright install`) and the
`chromium` apt package at /usr/bin/chromium. With `SANDBOX_SCREENSHOT=1` it refreshes
docs/sandbox-chat.png, the README's screenshot; otherwise the shot goes to a temporary folder,
so a test run never changes the checkout.
"""

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.fixtures_path import REPO_ROOT
from tests.support.browser import chromium, sandbox_shop

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page

SCREENSHOT = REPO_ROOT / "docs" / "sandbox-chat.png"
PHONE = "919800000042"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


@pytest.fixture
async def shop_url(tmp_path: Path) -> AsyncIterator[str]:
    async with sandbox_shop(tmp_path) as base:
        yield base


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator["BrowserContext"]:
    async with chromium(tmp_path) as context:
        yield context


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
