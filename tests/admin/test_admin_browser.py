"""The merchant's loop in a real browser, in the sandbox: a customer buys in the chat, the
merchant signs in to /admin, ships the order (the chat shows the shipping note), then refunds
it (the chat shows the refund once the sandbox's Razorpay has processed it). On a phone-sized
window, the merchant sets a count and removes units on the stock page.

Needs playwright (the Python package) and Debian's Chromium at /usr/bin/chromium, like
tests/sandbox/test_browser.py; skips saying why without them. With `ADMIN_SCREENSHOT=1` it
refreshes docs/admin-orders.png, the README's picture of the dashboard; otherwise the shot
goes to a temporary folder, so a test run never changes the checkout.
"""

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.merchant.dashboard.routes import SANDBOX_ADMIN_PASSWORD
from tests.fixtures_path import REPO_ROOT
from tests.sandbox.test_browser import (
    pick_from_newest_list,
    tap,
    type_message,
)
from tests.support.browser import chromium as headless_chromium
from tests.support.browser import sandbox_shop

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page

SCREENSHOT = REPO_ROOT / "docs" / "admin-orders.png"
PHONE = "919800000077"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


@pytest.fixture
async def sandbox_url(tmp_path: Path) -> AsyncIterator[str]:
    """The real app, sandbox mode (no ADMIN_PASSWORD: the documented default), on loopback."""
    async with sandbox_shop(tmp_path) as base:
        yield base


@pytest.fixture
async def chromium(tmp_path: Path) -> AsyncIterator["BrowserContext"]:
    async with headless_chromium(tmp_path) as context:
        yield context


async def buy_and_pay(chat: "Page", browser: "BrowserContext", base: str) -> None:
    await chat.goto(f"{base}/sandbox?phone={PHONE}&name=Meera")
    await chat.get_by_text("Chai Point").first.wait_for()
    await type_message(chat, "hi")
    await tap(chat, r"browse")
    await pick_from_newest_list(chat)  # a category
    await pick_from_newest_list(chat)  # a product
    await tap(chat, r"^\s*2\s*$")  # the quantity
    await tap(chat, r"checkout")
    await chat.locator(".row[data-sender=shop]", has_text=re.compile("address", re.I)).wait_for()
    await type_message(chat, "4 Park Street, Kolkata 700016")
    await chat.get_by_role("button", name=re.compile("pay now", re.I)).last.wait_for()
    await tap(chat, r"pay now")
    async with browser.expect_page() as opened:
        await chat.locator("a.cta").last.click()
    checkout = await opened.value
    await checkout.get_by_role("button", name=re.compile(r"^pay", re.I)).click()
    await checkout.get_by_text(re.compile("payment received", re.I)).wait_for()
    await checkout.close()
    await chat.locator(".row[data-sender=shop]", has_text="✅").last.wait_for()


async def test_buy_then_ship_and_refund_from_the_dashboard(
    sandbox_url: str, chromium: "BrowserContext", tmp_path: Path
) -> None:
    blocked: list[str] = []
    errors: list[Any] = []

    def watch(opened: "Page") -> None:
        opened.on(
            "console",
            lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
        )
        opened.on("pageerror", lambda error: errors.append(error))

    chromium.on("page", watch)
    chat = await chromium.new_page()
    await buy_and_pay(chat, chromium, sandbox_url)

    # The merchant opens the dashboard from the chat's sidebar and signs in.
    async with chromium.expect_page() as opened:
        await chat.get_by_test_id("dashboard").click()
    admin = await opened.value
    await admin.get_by_text(SANDBOX_ADMIN_PASSWORD).first.wait_for()  # the sandbox's hint
    await admin.get_by_label("Password").fill(SANDBOX_ADMIN_PASSWORD)
    await admin.get_by_role("button", name="Sign in").click()
    row = admin.locator("tr[data-order]").first  # the to-pack list
    await row.wait_for()
    assert "Meera" in await row.inner_text()
    order_id = await row.get_attribute("data-order")
    assert order_id
    await row.get_by_role("link", name=order_id).click()

    await admin.get_by_text("4 Park Street, Kolkata 700016").first.wait_for()
    chat_link = admin.get_by_role("link", name="This customer's chat")
    assert await chat_link.get_attribute("href") == f"/sandbox?phone={PHONE}"
    await admin.get_by_label("Courier").fill("DTDC")
    await admin.get_by_label("Tracking number or URL").fill("AWB778899")
    await admin.get_by_role("button", name="Mark shipped").click()
    await admin.get_by_role("status").filter(has_text="shipped").wait_for()

    await chat.bring_to_front()
    shipped = chat.locator(".row[data-sender=shop]", has_text="on its way")
    await shipped.last.wait_for()
    assert "AWB778899" in await shipped.last.inner_text()

    await admin.bring_to_front()
    await admin.get_by_label("Reason").first.fill("customer changed their mind")
    await admin.get_by_role("button", name="Refund", exact=True).click()
    await admin.get_by_role("status").filter(has_text="asked for").wait_for()

    await chat.bring_to_front()
    refunded = chat.locator(".row[data-sender=shop]", has_text="We have refunded")
    await refunded.last.wait_for(timeout=30_000)  # the stand-in processes it after 2 s
    assert "₹498.00" in await refunded.last.inner_text()

    # The order's page now shows it refunded; the list of all orders is the README's picture.
    await admin.bring_to_front()
    await admin.reload()
    await admin.locator(".pill.pay-refunded").first.wait_for()
    await admin.goto(f"{sandbox_url}/admin/orders?view=all")
    await admin.locator("tr[data-order]").first.wait_for()
    await admin.set_viewport_size({"width": 1100, "height": 520})
    shot = SCREENSHOT if os.environ.get("ADMIN_SCREENSHOT") == "1" else tmp_path / "admin.png"
    await admin.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    assert errors == []
    assert blocked == []


async def test_the_merchant_sets_a_count_on_the_stock_page_on_a_phone(
    sandbox_url: str, chromium: "BrowserContext"
) -> None:
    blocked: list[str] = []
    errors: list[Any] = []
    admin = await chromium.new_page()
    admin.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    admin.on("pageerror", lambda error: errors.append(error))
    await admin.set_viewport_size({"width": 390, "height": 844})  # a phone

    await admin.goto(f"{sandbox_url}/admin/stock")  # signed out: the login, then back here
    await admin.get_by_label("Password").fill(SANDBOX_ADMIN_PASSWORD)
    await admin.get_by_role("button", name="Sign in").click()
    await admin.get_by_role("heading", name="Stock").wait_for()
    assert admin.url == f"{sandbox_url}/admin/stock"
    await admin.get_by_role("link", name="Orders").click()
    await admin.get_by_role("link", name="Stock").click()  # the navigation, both ways

    row = admin.locator("tr[data-product='darjeeling-first-flush-100']")
    await row.get_by_label("New count of Darjeeling First Flush").fill("40")
    await row.get_by_role("button", name="Set").click()
    await admin.get_by_role("status").filter(has_text="40 in stock").wait_for()
    assert "40" in await row.locator("td[data-label='On hand']").inner_text()
    assert "by admin" in await row.locator("td[data-label='Last update']").inner_text()

    await row.get_by_label("Units to add to Darjeeling First Flush").fill("-40")
    await row.get_by_role("button", name="Add / remove").click()
    await admin.get_by_role("status").filter(has_text="0 in stock").wait_for()
    assert "sold out" in await row.locator("td[data-label='For sale']").inner_text()
    assert await admin.locator("li[data-product='steel-kettle']").count() == 1  # not counted
    assert errors == []
    assert blocked == []
