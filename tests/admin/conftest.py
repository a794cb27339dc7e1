"""The dashboard over HTTP: the real app (live mode, with ADMIN_PASSWORD) from the `running_shop`
harness, and a `Merchant` who signs in and fills the forms the pages show, as a browser would:
every hidden field (the CSRF token, the form's one-time token) read from the page itself."""

import html
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientResponse

from bot import keys
from flows.catalog import ShopConfig
from storage.repository import Store
from tests.storage.store_support import Shop as Seeder
from tests.support.harness import Shop, running_shop

PASSWORD = "correct horse battery staple"
_FORM = re.compile(r"<form method='post' action='([^']*)'[^>]*>(.*?)</form>", re.S)
_HIDDEN = re.compile(r"<input type='hidden' name='([^']*)' value='([^']*)'>")


def hidden_fields(form_html: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(form_html)}


def forms(page: str) -> dict[str, dict[str, str]]:
    """Every POST form of a page: its action → its hidden fields."""
    return {html.unescape(action): hidden_fields(body) for action, body in _FORM.findall(page)}


class Merchant:
    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.client = shop.client

    async def login(
        self, password: str = PASSWORD, headers: dict[str, str] | None = None
    ) -> ClientResponse:
        page = await self.client.get("/admin/login")
        csrf = hidden_fields(await page.text())["csrf"]
        return await self.client.post(
            "/admin/login",
            data={"csrf": csrf, "password": password},
            allow_redirects=False,
            headers=headers or {},
        )

    async def page(self, path: str) -> str:
        response = await self.client.get(path, allow_redirects=False)
        assert response.status == 200, (path, response.status)
        return await response.text()

    async def form(self, page_path: str, action_end: str) -> tuple[str, dict[str, str]]:
        """The form on `page_path` whose action ends with `action_end`."""
        page = await self.page(page_path)
        [found] = [item for item in forms(page).items() if item[0].endswith(action_end)]
        return found

    async def post(self, action: str, fields: dict[str, str], **typed: str) -> ClientResponse:
        return await self.client.post(action, data={**fields, **typed}, allow_redirects=False)

    async def act(self, order_id: str, action: str, **typed: str) -> str:
        """Fill and send one action form of an order's page; the flash message that follows."""
        path = f"/admin/orders/{order_id}"
        target, fields = await self.form(path, f"/{action}")
        response = await self.post(target, fields, **typed)
        assert response.status == 303, await response.text()
        return flash(await self.page(response.headers["Location"]))


def flash(page: str) -> str:
    found = re.search(r"<p class='flash[^']*' role='status'>(.*?)</p>", page, re.S)
    return html.unescape(found.group(1)) if found else ""


@pytest.fixture
async def shop(database_url: str, shop_config: ShopConfig) -> AsyncIterator[Shop]:
    async with running_shop(
        database_url, shop_config, extra_env={"ADMIN_PASSWORD": PASSWORD}
    ) as running:
        yield running


@pytest.fixture
def merchant(shop: Shop) -> Merchant:
    return Merchant(shop)


@pytest.fixture
def store(shop: Shop) -> Store:
    return shop.app[keys.STORE]


@pytest.fixture
def seeder(store: Store) -> Seeder:
    """Orders made through the store's public API, for lists and pages."""
    return Seeder(store)


def cookie_attributes(response: ClientResponse, name: str) -> dict[str, Any]:
    morsel = response.cookies[name]
    return {key: morsel[key] for key in ("httponly", "samesite", "secure", "path", "max-age")}
