"""Who gets into /admin: the password, the session cookie (signed, HttpOnly, SameSite, Secure
behind https, expiring), CSRF on every POST, the login rate limit (in the database), and no
dashboard at all in a live shop without ADMIN_PASSWORD."""

import aiohttp
import pytest
import structlog
from aiohttp import ClientResponse

from bot.merchant.dashboard.routes import (
    FAILURES_PER_CLIENT,
    FLASH_COOKIE,
    LOGIN_WINDOW_SECONDS,
    SESSION_COOKIE,
)
from bot.merchant.dashboard.session import SESSION_SECONDS, Signer
from flows.catalog import ShopConfig
from tests.admin.conftest import PASSWORD, Merchant, cookie_attributes, forms, hidden_fields
from tests.support.harness import Shop, running_shop


def signed_in_cookie(response: ClientResponse) -> str:
    return response.cookies[SESSION_COOKIE].value


async def is_signed_in(merchant: Merchant) -> bool:
    response = await merchant.client.get("/admin/orders", allow_redirects=False)
    if response.status == 200:
        return True
    assert response.status == 303
    assert response.headers["Location"].startswith("/admin/login")
    return False


async def test_the_right_password_opens_the_orders_and_the_wrong_one_does_not(
    merchant: Merchant,
) -> None:
    assert not await is_signed_in(merchant)

    wrong = await merchant.login("not the password")
    assert wrong.status == 401
    assert "Wrong password" in await wrong.text()
    assert not await is_signed_in(merchant)

    right = await merchant.login()
    assert right.status == 303
    assert right.headers["Location"] == "/admin/orders"
    assert await is_signed_in(merchant)


async def test_the_session_cookie_is_httponly_samesite_path_bound_and_expires(
    merchant: Merchant,
) -> None:
    response = await merchant.login()
    attributes = cookie_attributes(response, SESSION_COOKIE)
    assert attributes["httponly"] is True
    assert attributes["samesite"] == "Lax"
    assert attributes["path"] == "/admin"
    assert attributes["max-age"] == str(SESSION_SECONDS)
    assert not attributes["secure"]  # plain http here: a Secure cookie would never come back


async def test_behind_an_https_router_the_cookie_is_secure(merchant: Merchant) -> None:
    response = await merchant.login(headers={"X-Forwarded-Proto": "https"})
    assert cookie_attributes(response, SESSION_COOKIE)["secure"] is True


async def test_a_session_ends_when_it_expires(merchant: Merchant, shop: Shop) -> None:
    await merchant.login()
    shop.clock.advance(SESSION_SECONDS - 60)
    assert await is_signed_in(merchant)
    shop.clock.advance(120)  # the browser may keep the cookie; the signature says it expired
    assert not await is_signed_in(merchant)


async def test_a_tampered_cookie_or_one_signed_with_another_password_is_refused(
    merchant: Merchant, shop: Shop
) -> None:
    await merchant.login()
    good = merchant.client.session.cookie_jar.filter_cookies(
        merchant.client.make_url("/admin/orders")
    )[SESSION_COOKIE].value
    session_id, expires, flag, mac = good.split(".")
    other = Signer("another long password")
    forged = [
        f"{session_id}.{int(expires) + 10**6}.{flag}.{mac}",  # a longer life
        # A changed signature (its last digit):
        f"{session_id}.{expires}.{flag}.{mac[:-1]}{'1' if mac.endswith('0') else '0'}",
        f"{session_id}.{expires}.1",  # no signature at all
        # Made with another password: what every old cookie becomes when it changes.
        other.cookie_value(other.new_session(int(shop.clock()), signed_in=True)),
    ]
    for value in forged:
        merchant.client.session.cookie_jar.update_cookies(
            {SESSION_COOKIE: value}, merchant.client.make_url("/admin/")
        )
        assert not await is_signed_in(merchant), value


async def test_an_anonymous_session_cookie_is_not_a_signed_in_one(merchant: Merchant) -> None:
    page = await merchant.client.get("/admin/login")
    anonymous = page.cookies[SESSION_COOKIE].value
    session_id, expires, flag, _ = anonymous.split(".")
    assert flag == "0"
    merchant.client.session.cookie_jar.update_cookies(
        {SESSION_COOKIE: f"{session_id}.{expires}.1.{anonymous.split('.')[3]}"},
        merchant.client.make_url("/admin/"),
    )
    assert not await is_signed_in(merchant)


async def test_posts_without_the_sessions_csrf_token_are_refused(
    merchant: Merchant, shop: Shop
) -> None:
    await merchant.login()
    page = await merchant.page("/admin/orders")
    logout = forms(page)["/admin/logout"]
    missing = await merchant.client.post("/admin/logout", data={}, allow_redirects=False)
    wrong = await merchant.client.post(
        "/admin/logout", data={"csrf": "0" * 64}, allow_redirects=False
    )
    assert (missing.status, wrong.status) == (403, 403)
    assert await is_signed_in(merchant)

    # A token from another browser's session does not do either.
    async with (
        aiohttp.ClientSession() as other_browser,
        other_browser.get(merchant.client.make_url("/admin/login")) as other_page,
    ):
        others = hidden_fields(await other_page.text())["csrf"]
    assert others != logout["csrf"]
    foreign = await merchant.client.post(
        "/admin/logout", data={"csrf": others}, allow_redirects=False
    )
    assert foreign.status == 403
    assert await is_signed_in(merchant)

    done = await merchant.client.post("/admin/logout", data=logout, allow_redirects=False)
    assert done.status == 303
    assert not await is_signed_in(merchant)


async def test_the_login_form_needs_its_own_csrf_token(merchant: Merchant) -> None:
    response = await merchant.client.post(
        "/admin/login", data={"password": PASSWORD}, allow_redirects=False
    )
    assert response.status == 400
    assert "expired" in await response.text()
    assert not await is_signed_in(merchant)


async def test_failed_logins_are_limited_per_client_and_the_limit_lifts_after_its_window(
    merchant: Merchant, shop: Shop
) -> None:
    for _ in range(FAILURES_PER_CLIENT):
        assert (await merchant.login("guess")).status == 401

    blocked = await merchant.login()  # even the right password, now
    assert blocked.status == 429
    assert blocked.headers["Retry-After"] == str(LOGIN_WINDOW_SECONDS)
    assert "Too many failed attempts" in await blocked.text()
    assert not await is_signed_in(merchant)

    # Another client (behind the router: its own X-Forwarded-For) is not locked out.
    elsewhere = await merchant.login(headers={"X-Forwarded-For": "203.0.113.9"})
    assert elsewhere.status == 303

    shop.clock.advance(LOGIN_WINDOW_SECONDS + 1)
    merchant.client.session.cookie_jar.clear()
    recovered = await merchant.login()
    assert recovered.status == 303


async def test_the_password_is_never_logged_nor_put_in_a_url(merchant: Merchant) -> None:
    with structlog.testing.capture_logs() as logs:
        await merchant.login("my-wrong-guess-123")
        response = await merchant.login()
    assert "my-wrong-guess-123" not in repr(logs)
    assert PASSWORD not in repr(logs)
    assert PASSWORD not in response.headers.get("Location", "")
    merchant.client.session.cookie_jar.clear()
    page = await merchant.page("/admin/login")
    assert "<form method='post' action='/admin/login'>" in page  # never in a query string


async def test_a_live_shop_without_admin_password_has_no_dashboard(
    database_url: str, shop_config: ShopConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        for path in ("/admin", "/admin/login", "/admin/orders", "/admin/static/admin.css"):
            assert (await shop.client.get(path, allow_redirects=False)).status == 404
        login = await shop.client.post("/admin/login", data={"password": "x"})
        assert login.status == 404
    # The log's JSON lines (captured however early the loggers were made, unlike capture_logs).
    [said] = [line for line in capsys.readouterr().out.splitlines() if "dashboard off" in line]
    assert "ADMIN_PASSWORD" in said


async def test_dashboard_pages_carry_the_security_headers(merchant: Merchant) -> None:
    await merchant.login()
    for path in ("/admin/login", "/admin/orders"):
        response = await merchant.client.get(path)
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
    assert FLASH_COOKIE  # the flash cookie is checked with the actions
