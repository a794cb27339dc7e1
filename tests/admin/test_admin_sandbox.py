"""The dashboard in sandbox mode: the documented default password (or ADMIN_PASSWORD), the
sandbox's guard against DNS rebinding and cross-site forms on /admin too, and the password
setting's own rules."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.merchant.dashboard.routes import SANDBOX_ADMIN_PASSWORD
from bot.sandbox import sandbox_settings
from bot.settings import SettingsError, load_settings
from bot.shop_config import load_shop_config
from storage.migrate import migrate
from tests.admin.conftest import hidden_fields
from tests.conftest import REPO


async def sandbox_client(tmp_path: Path, **env: str) -> TestClient[Any, Any]:
    settings = sandbox_settings(
        load_settings(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
                "BOT_CONFIG": str(REPO / "config.toml"),
                **env,
            }
        )
    )
    await migrate(settings.database_url)
    app = create_app(settings, load_shop_config(settings.bot_config))
    return TestClient(TestServer(app))


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    async with await sandbox_client(tmp_path) as test_client:
        yield test_client


async def sign_in(client: TestClient[Any, Any], password: str) -> int:
    page = await client.get("/admin/login")
    fields = hidden_fields(await page.text())
    response = await client.post(
        "/admin/login", data={**fields, "password": password}, allow_redirects=False
    )
    return response.status


async def test_the_sandbox_opens_with_its_published_password_and_says_so(
    client: TestClient[Any, Any],
) -> None:
    page = await (await client.get("/admin/login")).text()
    assert f"the password is “{SANDBOX_ADMIN_PASSWORD}”" in page
    assert await sign_in(client, SANDBOX_ADMIN_PASSWORD) == 303
    orders = await client.get("/admin/orders")
    assert orders.status == 200
    assert "href='/sandbox'" in await orders.text()  # back to the chat


async def test_admin_password_replaces_the_sandbox_default(tmp_path: Path) -> None:
    async with await sandbox_client(tmp_path, ADMIN_PASSWORD="a sandbox of my own") as client:
        page = await (await client.get("/admin/login")).text()
        assert SANDBOX_ADMIN_PASSWORD not in page
        assert await sign_in(client, SANDBOX_ADMIN_PASSWORD) == 401
        assert await sign_in(client, "a sandbox of my own") == 303


async def test_the_sandbox_guard_keeps_other_sites_out_of_the_dashboard(
    client: TestClient[Any, Any],
) -> None:
    rebound = await client.get("/admin/login", headers={"Host": "evil.example"})
    assert rebound.status == 421
    page = await client.get("/admin/login")
    fields = hidden_fields(await page.text())
    cross_site = await client.post(
        "/admin/login",
        data={**fields, "password": SANDBOX_ADMIN_PASSWORD},
        headers={"Origin": "http://evil.example"},
        allow_redirects=False,
    )
    assert cross_site.status == 403


def test_a_short_admin_password_is_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"ADMIN_PASSWORD": "short-pass1"})
    assert "ADMIN_PASSWORD" in str(refused.value)
    assert "12 characters" in str(refused.value)
    assert "short-pass1" not in str(refused.value)
    settings = load_settings({"ADMIN_PASSWORD": "long enough passphrase"})
    assert "long enough passphrase" not in repr(settings)
