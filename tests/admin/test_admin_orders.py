"""The dashboard's lists, search, paging and CSV over HTTP (on SQLite and Postgres), and what a
customer typed (name, address) shown escaped, never run, and never a formula in the CSV."""

import csv
import io
import re

import pytest

from bot.merchant.dashboard import routes
from flows.effects import PlaceOrder, SetOrderStatus
from flows.orders import Order, OrderLine, OrderStatus
from flows.state import Customer
from tests.admin.conftest import PASSWORD, Merchant, hidden_fields
from tests.storage.store_support import NOW
from tests.storage.store_support import Shop as Seeder

XSS_NAME = "<script>alert('name')</script>"
XSS_ADDRESS = "<img src=x onerror=alert(1)> 12 MG Road"


async def place(
    seeder: Seeder,
    n: int,
    order_id: str,
    *,
    name: str | None = "Asha",
    address: str | None = "12 MG Road, Bengaluru",
    paid: bool = True,
) -> Customer:
    customer = seeder.customer(n, name=name)
    line = OrderLine(product_id="tea", name="Masala tea", unit_price=24_900, quantity=2)
    order = Order(
        id=order_id,
        customer_key=customer.key,
        lines=(line,),
        total=49_800,
        address=address,
        created_at=NOW + n * 60,
    )
    await seeder.step(customer, effects=[PlaceOrder(order=order)], now=NOW + n * 60)
    if paid:
        pay = SetOrderStatus(
            order_id=order_id, status=OrderStatus.PAID, payment_id=f"pay_{n}", at=NOW + n * 60
        )
        await seeder.step(customer, effects=[pay], messages=[], now=NOW + n * 60)
    return customer


def order_ids(page: str) -> list[str]:
    return re.findall(r"<tr data-order='([^']*)'>", page)


async def test_the_default_list_is_what_to_pack_with_its_columns(
    merchant: Merchant, seeder: Seeder
) -> None:
    await place(seeder, 1, "ORD-PAID-1")
    await place(seeder, 2, "ORD-UNPAID-2", paid=False)
    await merchant.login()

    page = await merchant.page("/admin/orders")

    assert order_ids(page) == ["ORD-PAID-1"]
    for shown in ("Asha", "+91 ••••• 0001", "2 × Masala tea", "₹498.00", "paid", "unfulfilled"):
        assert shown in page, shown
    assert "919876500001" not in page  # the list masks the phone
    assert "To pack <span class='count'>1</span>" in page
    assert "Awaiting payment <span class='count'>1</span>" in page
    assert order_ids(await merchant.page("/admin/orders?view=awaiting")) == ["ORD-UNPAID-2"]
    assert order_ids(await merchant.page("/admin/orders?view=all")) == [
        "ORD-UNPAID-2",
        "ORD-PAID-1",
    ]


async def test_search_by_order_id_or_phone(merchant: Merchant, seeder: Seeder) -> None:
    for n in (1, 2, 3):
        await place(seeder, n, f"ORD-{n}")
    await merchant.login()

    assert order_ids(await merchant.page("/admin/orders?view=all&q=ord-2")) == ["ORD-2"]
    assert order_ids(await merchant.page("/admin/orders?view=all&q=%2B91+98765+00003")) == ["ORD-3"]
    assert order_ids(await merchant.page("/admin/orders?view=all&q=nothing")) == []


async def test_pages_of_orders_link_to_each_other(
    merchant: Merchant, seeder: Seeder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes, "PAGE_SIZE", 2)
    for n in range(1, 6):
        await place(seeder, n, f"ORD-{n}")
    await merchant.login()

    first = await merchant.page("/admin/orders?view=all")
    second = await merchant.page("/admin/orders?view=all&page=2")
    third = await merchant.page("/admin/orders?view=all&page=3")

    assert [order_ids(p) for p in (first, second, third)] == [
        ["ORD-5", "ORD-4"],
        ["ORD-3", "ORD-2"],
        ["ORD-1"],
    ]
    assert "href='/admin/orders?view=all&amp;page=2'" in first
    assert "rel='prev'" in second
    assert "rel='next'" in second
    assert "rel='next'" not in third


async def test_an_unknown_list_is_a_clear_error(merchant: Merchant) -> None:
    await merchant.login()
    response = await merchant.client.get("/admin/orders?view=everything")
    assert response.status == 400
    assert "to_pack" in await response.text()


async def test_the_csv_is_the_filtered_list_with_formulas_defused(
    merchant: Merchant, seeder: Seeder
) -> None:
    await place(seeder, 1, "ORD-1", name='=HYPERLINK("http://evil.example","click")')
    await place(seeder, 2, "ORD-2", name="Ravi", address="@SUM(1+1) Main Road")
    await place(seeder, 3, "ORD-3", paid=False)
    await merchant.login()

    response = await merchant.client.get("/admin/orders.csv?view=to_pack")

    assert response.status == 200
    assert response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [row["order_id"] for row in rows] == ["ORD-1", "ORD-2"]  # the to-pack list
    by_id = {row["order_id"]: row for row in rows}
    assert by_id["ORD-1"]["customer_name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert by_id["ORD-2"]["address"] == "'@SUM(1+1) Main Road"
    assert by_id["ORD-2"]["phone"] == "919876500002"
    assert by_id["ORD-2"]["total"] == "498.00"
    assert by_id["ORD-2"]["items"] == "2 x Masala tea"
    assert (by_id["ORD-2"]["payment_status"], by_id["ORD-2"]["fulfilment_status"]) == (
        "paid",
        "unfulfilled",
    )
    searched = await merchant.client.get("/admin/orders.csv?view=all&q=ORD-3")
    assert [row["order_id"] for row in csv.DictReader(io.StringIO(await searched.text()))] == [
        "ORD-3"
    ]


async def test_the_csv_and_pages_need_a_signed_in_session(merchant: Merchant) -> None:
    for path in ("/admin/orders.csv", "/admin/orders", "/admin/orders/ORD-1"):
        response = await merchant.client.get(path, allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"].startswith("/admin/login?next=")


async def test_what_a_customer_typed_is_shown_escaped(merchant: Merchant, seeder: Seeder) -> None:
    await place(seeder, 1, "ORD-1", name=XSS_NAME, address=XSS_ADDRESS)
    await merchant.login()

    listing = await merchant.page("/admin/orders")
    order = await merchant.page("/admin/orders/ORD-1")

    for page in (listing, order):
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;" in page
    assert "<img src=x" not in order
    assert "&lt;img src=x onerror=alert(1)&gt; 12 MG Road" in order


async def test_an_unknown_order_is_404(merchant: Merchant) -> None:
    await merchant.login()
    response = await merchant.client.get("/admin/orders/ORD-NOPE")
    assert response.status == 404


async def test_after_signing_in_the_page_asked_for_opens(
    merchant: Merchant, seeder: Seeder
) -> None:
    await place(seeder, 1, "ORD-1")
    first = await merchant.client.get("/admin/orders/ORD-1", allow_redirects=False)
    login_page = await merchant.client.get(first.headers["Location"])
    assert "name='next' value='/admin/orders/ORD-1'" in await login_page.text()
    fields = hidden_fields(await login_page.text())
    response = await merchant.client.post(
        "/admin/login", data={**fields, "password": PASSWORD}, allow_redirects=False
    )
    assert response.headers["Location"] == "/admin/orders/ORD-1"
    # Never to another site.
    merchant.client.session.cookie_jar.clear()
    fresh = hidden_fields(await (await merchant.client.get("/admin/login")).text())
    evil = await merchant.client.post(
        "/admin/login",
        data={**fresh, "password": PASSWORD, "next": "//evil.example/admin/"},
        allow_redirects=False,
    )
    assert evil.headers["Location"] == "/admin/orders"
