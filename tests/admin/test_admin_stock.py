"""The stock page of the dashboard over HTTP, on SQLite and on Postgres: the merchant sees every
counted product (on hand, held for an unpaid order, for sale, sold out, who changed it last) and
the products not counted; sets a count and adds or removes units through the forms the page
shows, recorded as done by "admin"; a form sent twice acts once; a POST without the CSRF token
or a session is refused; bad input is said clearly and changes nothing."""

import html
import re
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import pytest

from bot import keys
from flows.catalog import ShopConfig
from tests.admin.conftest import PASSWORD, Merchant, flash, forms
from tests.support.harness import Shop, running_shop
from tests.test_shop_end_to_end import shop_until_pay_now
from tests.test_stock_end_to_end import counting

CHAI = "masala-chai-250"  # counted from 5 here; shop_until_pay_now holds 2 of it
DARJEELING = "darjeeling-first-flush-100"  # counted from 12 in config.toml
KETTLE = "steel-kettle"  # not counted
ODD_NAME = "Darjeeling <b>First</b> & 'Flush'"  # markup in a name the merchant typed


@pytest.fixture
async def shop(database_url: str, shop_config: ShopConfig) -> AsyncIterator[Shop]:
    config = counting(shop_config, masala_chai_250=5)
    products = tuple(
        p.model_copy(update={"name": ODD_NAME}) if p.id == DARJEELING else p
        for p in config.products
    )
    config = ShopConfig(
        shop=config.shop,
        checkout=config.checkout,
        products=products,
        messages=config.messages,
        templates=config.templates,
    )
    async with running_shop(
        database_url, config, extra_env={"ADMIN_PASSWORD": PASSWORD}
    ) as running:
        yield running


async def counts(shop: Shop, product_id: str) -> tuple[int, int, str]:
    """(on hand, held, last changed by) of a counted product."""
    found = await shop.app[keys.STOCK].get(product_id)
    assert found is not None
    return found.level.on_hand, found.level.held, found.level.updated_by


def row(page: str, product_id: str) -> str:
    found = re.search(rf"<tr data-product='{re.escape(product_id)}'>(.*?)</tr>", page, re.S)
    assert found, f"no row for {product_id}"
    return found.group(1)


def cells(page: str, product_id: str) -> dict[str, str]:
    """A product's row: column label → its text."""
    return {
        label: re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", value))).strip()
        for label, value in re.findall(
            r"<td data-label='([^']*)'[^>]*>(.*?)</td>", row(page, product_id), re.S
        )
    }


async def change(merchant: Merchant, product_id: str, action: str, **typed: str) -> str:
    """Fill and send the set or add form of a product's row; the flash that follows."""
    target, fields = await merchant.form("/admin/stock", f"/stock/{product_id}/{action}")
    response = await merchant.post(target, fields, **typed)
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == "/admin/stock"
    return flash(await merchant.page("/admin/stock"))


async def test_the_page_lists_counted_products_with_holds_and_the_uncounted_apart(
    shop: Shop, merchant: Merchant
) -> None:
    await shop_until_pay_now(shop)  # two chai held for Asha's unpaid order
    await merchant.login()

    orders = await merchant.page("/admin/orders")
    assert "<a href='/admin/stock'>Stock</a>" in orders  # in the dashboard's navigation
    page = await merchant.page("/admin/stock")

    chai = cells(page, CHAI)
    assert chai["Product"] == f"Masala Chai 250 g {CHAI}"
    assert (chai["On hand"], chai["Held"], chai["For sale"]) == ("5", "2", "3")
    assert chai["Last update"].endswith("by config")  # the starting count
    assert cells(page, DARJEELING)["On hand"] == "12"
    # Every value escaped: the name's markup is text on the page.
    assert "Darjeeling &lt;b&gt;First&lt;/b&gt; &amp; &#x27;Flush&#x27;" in page
    assert "<b>First</b>" not in page
    # Not counted: listed apart, with how to start counting, and no forms.
    uncounted = page.split("Not counted", 1)[1]
    assert f"<li data-product='{KETTLE}'>" in uncounted
    assert "stock = N" in uncounted
    assert "config.toml" in uncounted
    assert f"<tr data-product='{KETTLE}'>" not in page
    assert set(forms(page)) >= {
        f"/admin/stock/{CHAI}/set",
        f"/admin/stock/{CHAI}/add",
        f"/admin/stock/{DARJEELING}/set",
        f"/admin/stock/{DARJEELING}/add",
    }
    assert not any(KETTLE in action for action in forms(page))
    # The dashboard's Content-Security-Policy holds: no inline code or style.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert not re.search(r"\sstyle\s*=", page)
    assert not re.search(r"\son[a-z]+\s*=", page)


async def test_set_then_add_and_remove_go_through_merchant_stock_as_admin(
    shop: Shop, merchant: Merchant
) -> None:
    await shop_until_pay_now(shop)
    await merchant.login()

    said = await change(merchant, CHAI, "set", count="40")
    assert said == f"{CHAI}: 40 in stock (2 held for orders awaiting payment), 38 for sale."
    assert await counts(shop, CHAI) == (40, 2, "admin")  # the hold stays held

    assert (await change(merchant, CHAI, "add", change="+10")).startswith(f"{CHAI}: 50 in stock")
    assert (await change(merchant, CHAI, "add", change="-8")).startswith(f"{CHAI}: 42 in stock")
    assert await counts(shop, CHAI) == (42, 2, "admin")

    page = await merchant.page("/admin/stock")
    assert cells(page, CHAI)["Last update"].endswith("by admin")
    assert cells(page, CHAI)["For sale"] == "40"


async def test_a_product_with_nothing_left_for_sale_is_marked_sold_out(
    shop: Shop, merchant: Merchant
) -> None:
    await merchant.login()

    assert (await change(merchant, DARJEELING, "set", count="0")).startswith(
        f"{DARJEELING}: 0 in stock"
    )

    page = await merchant.page("/admin/stock")
    assert "sold out" in cells(page, DARJEELING)["For sale"]
    assert "sold out" not in cells(page, CHAI)["For sale"]


async def test_the_same_form_sent_twice_changes_the_stock_once(
    shop: Shop, merchant: Merchant
) -> None:
    await merchant.login()
    page = await merchant.page("/admin/stock")
    add_form = forms(page)[f"/admin/stock/{CHAI}/add"]
    set_form = forms(page)[f"/admin/stock/{DARJEELING}/set"]

    said = []
    for _ in range(2):  # a double click, or a reloaded POST
        response = await merchant.post(f"/admin/stock/{CHAI}/add", add_form, change="3")
        assert response.status == 303
        said.append(flash(await merchant.page("/admin/stock")))

    assert said[0].startswith(f"{CHAI}: 8 in stock")
    assert said[1] == (
        f"Already done: {CHAI} was changed by this request before; nothing changed again."
    )
    assert (await counts(shop, CHAI))[0] == 8

    # A set sent twice sets once too, even after someone else changed the count between.
    first = await merchant.post(f"/admin/stock/{DARJEELING}/set", set_form, count="7")
    assert first.status == 303
    await shop.app[keys.STOCK].add(DARJEELING, 5, by="cli:owner")
    again = await merchant.post(f"/admin/stock/{DARJEELING}/set", set_form, count="7")
    assert again.status == 303
    assert flash(await merchant.page("/admin/stock")).startswith("Already done")
    assert await counts(shop, DARJEELING) == (12, 0, "cli:owner")


async def test_bad_input_is_said_clearly_and_changes_nothing(
    shop: Shop, merchant: Merchant
) -> None:
    await merchant.login()

    for typed, words in [
        ("lots", "write the count as a whole number like 40, not “lots”"),
        ("4.5", "write the count as a whole number like 40, not “4.5”"),
        ("", "write the count as a whole number like 40"),
        ("-3", "the count cannot be below zero"),
        ("12345678901", "write the count as a whole number like 40"),  # a typo, not a count
    ]:
        said = await change(merchant, CHAI, "set", count=typed)
        assert said.startswith("Not changed: "), said
        assert words in said, (typed, said)
    for typed, words in [
        ("ten", "write a whole number of units like 10 or -2, not “ten”"),
        ("1e3", "write a whole number of units like 10 or -2"),
        ("-6", f"{CHAI} has 5; cannot take away 6"),
    ]:
        said = await change(merchant, CHAI, "add", change=typed)
        assert said.startswith("Not changed: "), said
        assert words in said, (typed, said)
    assert await counts(shop, CHAI) == (5, 0, "config")

    # A refused form was not used up: corrected, the same form goes through.
    target, fields = await merchant.form("/admin/stock", f"/stock/{CHAI}/add")
    assert (await merchant.post(target, fields, change="-6")).status == 303
    assert "cannot take away 6" in flash(await merchant.page("/admin/stock"))
    assert (await merchant.post(target, fields, change="-5")).status == 303
    assert flash(await merchant.page("/admin/stock")).startswith(f"{CHAI}: 0 in stock")


async def test_products_not_counted_or_not_in_the_config_are_refused_with_the_reason(
    shop: Shop, merchant: Merchant
) -> None:
    await merchant.login()
    _, fields = await merchant.form("/admin/stock", f"/stock/{CHAI}/set")

    response = await merchant.post(f"/admin/stock/{KETTLE}/set", fields, count="4")
    assert response.status == 303
    said = flash(await merchant.page("/admin/stock"))
    assert said.startswith(f"Not changed: the stock of {KETTLE} is not counted")
    assert "stock = N" in said

    response = await merchant.post("/admin/stock/no-such-tea/add", fields, change="4")
    assert response.status == 303
    assert flash(await merchant.page("/admin/stock")) == (
        "Not changed: no product 'no-such-tea' in the config."
    )
    assert KETTLE not in {level.product_id for level in await shop.app[keys.STORE].stock_levels()}


async def test_without_the_csrf_token_or_a_session_nothing_changes(
    shop: Shop, merchant: Merchant
) -> None:
    signed_out = await merchant.client.get("/admin/stock", allow_redirects=False)
    assert signed_out.status == 303
    login = urlsplit(signed_out.headers["Location"])
    assert (login.path, parse_qs(login.query)) == ("/admin/login", {"next": ["/admin/stock"]})

    await merchant.login()
    target, fields = await merchant.form("/admin/stock", f"/stock/{CHAI}/set")
    without_csrf = {name: value for name, value in fields.items() if name != "csrf"}
    refused = await merchant.post(target, without_csrf, count="99")
    assert refused.status == 403
    forged = await merchant.post(target, {**fields, "csrf": "forged"}, count="99")
    assert forged.status == 403

    await merchant.client.post("/admin/logout", data={"csrf": fields["csrf"]})
    after_logout = await merchant.post(target, fields, count="99")
    assert after_logout.status == 403
    assert await counts(shop, CHAI) == (5, 0, "config")
