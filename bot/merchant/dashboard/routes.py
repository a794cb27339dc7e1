"""The merchant's orders dashboard at `/admin`: sign in, the lists of orders, one order's page
with its actions, the CSV export, and the stock page. Every action goes through `MerchantOrders`
or `MerchantStock`, the services the command line uses, so the rules of `flows.lifecycle` and
the history ("admin") are the same.

Access: ADMIN_PASSWORD. In live mode without it no `/admin` route exists (404) and the start-up
log says how to turn it on; the sandbox uses `SANDBOX_ADMIN_PASSWORD` unless it is set.
Every POST carries the session's CSRF token; every action form also carries a one-time token,
so a double click or a reloaded POST is acted on once; answers are Post/Redirect/Get with a
flash message. Failed logins are counted in the database (every process of the shop shares
them) per client address and in all.
"""

import base64
import datetime as dt
import json
import re
import secrets
import unicodedata
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

from aiohttp import web
from aiohttp.web_request import FileField
from multidict import MultiDictProxy

from bot import keys
from bot.clock import Clock
from bot.keys import DASHBOARD
from bot.logging import get_logger
from bot.merchant.alerts import resend_once
from bot.merchant.dashboard.pages import (
    Frame,
    OrderData,
    login_page,
    order_page,
    orders_page,
    stock_page,
)
from bot.merchant.dashboard.session import Dashboard, Session, Signer
from bot.merchant.orders import MerchantOrders
from bot.settings import Mode, Settings
from flows.lifecycle import Verdict, refundable
from flows.money import InvalidPrice, exponent, to_minor
from storage.repository import ActionResult, FormUse, LoginAttempt, OrderView

log = get_logger(__name__)

SANDBOX_ADMIN_PASSWORD = "sandbox"  # noqa: S105 - the sandbox's published, documented default
STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "admin_session"
FLASH_COOKIE = "admin_flash"
COOKIE_PATH = "/admin"
ACTOR = "admin"  # who the order's history says did it
PAGE_SIZE = 25
EXPORT_LIMIT = 10_000
MAX_PAGE = 10_000
MAX_SEARCH = 100

# Failed logins: per client address, and from everyone together. Behind a router (Heroku,
# Render, …) the client's address is the last X-Forwarded-For entry, which the router appends;
# a client that talks to the bot directly can write that header itself and so change its
# address at will, which the limit on everyone's failures together still catches (at the cost
# of locking the login form, never a signed-in session, for the rest of the window).
LOGIN_WINDOW_SECONDS = 15 * 60
FAILURES_PER_CLIENT = 5
FAILURES_IN_ALL = 100

Form = MultiDictProxy[str | bytes | bytearray | FileField]

_FORM_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_COUNT = re.compile(r"^\d{1,9}$")
_CHANGE = re.compile(r"^[+-]?\d{1,9}$")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SignedInHandler = Callable[[web.Request, Session], Awaitable[web.StreamResponse]]


def dashboard_password(settings: Settings) -> str | None:
    if settings.admin_password is not None:
        return settings.admin_password.get_secret_value()
    return SANDBOX_ADMIN_PASSWORD if settings.mode is Mode.SANDBOX else None


def setup_dashboard(app: web.Application, settings: Settings, clock: Clock) -> None:
    """Mount `/admin` when there is a password for it; otherwise say how to turn it on."""
    password = dashboard_password(settings)
    if password is None:
        app.on_startup.append(_say_dashboard_is_off)
        return
    hint = None
    if settings.admin_password is None:
        hint = f"Sandbox: the password is “{SANDBOX_ADMIN_PASSWORD}” (ADMIN_PASSWORD changes it)."
    app[DASHBOARD] = Dashboard(Signer(password), clock, app[keys.SHOP].shop.name, sandbox_hint=hint)
    router = app.router
    router.add_get("/admin", _to_orders)
    router.add_get("/admin/", _to_orders)
    router.add_get("/admin/login", login_form)
    router.add_post("/admin/login", login)
    router.add_post("/admin/logout", _signed_in_post(logout))
    router.add_get("/admin/orders", _signed_in(orders_list))
    router.add_get("/admin/orders.csv", _signed_in(orders_export))
    router.add_get("/admin/orders/{order_id}", _signed_in(order_detail))
    router.add_post("/admin/orders/{order_id}/ship", _signed_in_post(ship))
    router.add_post("/admin/orders/{order_id}/deliver", _signed_in_post(deliver))
    router.add_post("/admin/orders/{order_id}/cancel", _signed_in_post(cancel))
    router.add_post("/admin/orders/{order_id}/refund", _signed_in_post(refund))
    router.add_post(
        "/admin/orders/{order_id}/alerts/{alert_id:\\d+}/resend", _signed_in_post(resend_alert)
    )
    router.add_get("/admin/stock", _signed_in(stock_list))
    router.add_post("/admin/stock/{product_id}/set", _signed_in_post(stock_set))
    router.add_post("/admin/stock/{product_id}/add", _signed_in_post(stock_add))
    router.add_static("/admin/static", STATIC_DIR)


async def _say_dashboard_is_off(app: web.Application) -> None:
    log.info(
        "orders dashboard off: set ADMIN_PASSWORD (12 characters or more) to open it at /admin"
    )


# --- sessions ------------------------------------------------------------------------------------


def _dashboard(request: web.Request) -> Dashboard:
    return request.app[DASHBOARD]


def _session(request: web.Request) -> Session | None:
    dash = _dashboard(request)
    return dash.signer.read_cookie(request.cookies.get(SESSION_COOKIE), dash.now())


def _https(request: web.Request) -> bool:
    """Behind a router TLS ends there; it says so in X-Forwarded-Proto."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.secure or forwarded == "https"


def _set_cookie(
    request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int
) -> None:
    # Lax rather than Strict: a link to an order in the merchant's alert email opens it signed
    # in. Cross-site POSTs carry no cookie under Lax, and every POST needs the CSRF token.
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=_https(request),
    )


def _start_session(request: web.Request, response: web.StreamResponse, session: Session) -> None:
    dash = _dashboard(request)
    lifetime = max(1, session.expires_at - dash.now())
    _set_cookie(request, response, SESSION_COOKIE, dash.signer.cookie_value(session), lifetime)


def _flash(request: web.Request, response: web.StreamResponse, text: str, error: bool) -> None:
    payload = base64.urlsafe_b64encode(json.dumps([error, text[:500]]).encode()).decode()
    _set_cookie(
        request, response, FLASH_COOKIE, _dashboard(request).signer.sign("flash", payload), 60
    )


def _take_flash(request: web.Request, response: web.StreamResponse) -> tuple[str | None, bool]:
    raw = request.cookies.get(FLASH_COOKIE)
    if raw is None:
        return None, False
    response.del_cookie(FLASH_COOKIE, path=COOKIE_PATH)
    payload = _dashboard(request).signer.unsign("flash", raw)
    if payload is None:
        return None, False
    try:
        error, text = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, TypeError):
        return None, False
    return str(text), bool(error)


def _frame(request: web.Request, session: Session, response: web.StreamResponse) -> Frame:
    """What a signed-in page shows around its content, with the flash message (taken)."""
    dash = _dashboard(request)
    flash, error = _take_flash(request, response)
    return Frame(
        shop=dash.shop,
        csrf=dash.signer.csrf_token(session),
        sandbox=request.app[keys.SETTINGS].mode is Mode.SANDBOX,
        flash=flash,
        flash_is_error=error,
    )


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def _login_url(request: web.Request) -> str:
    return f"/admin/login?next={quote(request.path_qs, safe='')}"


def _signed_in(handler: SignedInHandler) -> Handler:
    async def page(request: web.Request) -> web.StreamResponse:
        session = _session(request)
        if session is None or not session.signed_in:
            raise web.HTTPSeeOther(_login_url(request))
        return await handler(request, session)

    return page


def _signed_in_post(handler: SignedInHandler) -> Handler:
    async def action(request: web.Request) -> web.StreamResponse:
        session = _session(request)
        if session is None or not session.signed_in:
            raise web.HTTPForbidden(text="sign in first: your session ended or never began")
        form = await request.post()
        csrf = form.get("csrf")
        if not _dashboard(request).signer.csrf_matches(session, str(csrf) if csrf else None):
            log.warning("dashboard form without a valid CSRF token refused", path=request.path)
            raise web.HTTPForbidden(
                text="this form is out of date or did not come from the dashboard: reload the "
                "page and try again"
            )
        return await handler(request, session)

    return action


async def _to_orders(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/admin/orders")


# --- signing in and out --------------------------------------------------------------------------


def _safe_next(target: object) -> str:
    """Only a dashboard page of this site (never `//evil.example` or another path)."""
    text = str(target or "")
    if text.startswith("/admin/") and not text.startswith("//") and "\\" not in text:
        return text
    return "/admin/orders"


def _login_answer(
    request: web.Request, session: Session | None, error: str | None, status: int
) -> web.Response:
    dash = _dashboard(request)
    fresh = session is None or session.signed_in
    if session is None or session.signed_in:
        session = dash.signer.new_session(dash.now(), signed_in=False)
    page = login_page(
        shop=dash.shop,
        csrf=dash.signer.csrf_token(session),
        error=error,
        sandbox_hint=dash.sandbox_hint,
        next_page=_safe_next(request.query.get("next")),
    )
    response = _html(page, status)
    if fresh:
        _start_session(request, response, session)
    return response


async def login_form(request: web.Request) -> web.StreamResponse:
    session = _session(request)
    if session is not None and session.signed_in:
        raise web.HTTPSeeOther(_safe_next(request.query.get("next")))
    return _login_answer(request, session, None, 200)


def client_address(request: web.Request) -> str:
    forwarded = request.headers.get("X-Forwarded-For", "")
    last = forwarded.split(",")[-1].strip()
    return (last or request.remote or "unknown")[:100]


async def login(request: web.Request) -> web.StreamResponse:
    dash = _dashboard(request)
    store = request.app[keys.STORE]
    session = _session(request)
    form = await request.post()
    csrf = form.get("csrf")
    if session is None or not dash.signer.csrf_matches(session, str(csrf) if csrf else None):
        return _login_answer(request, None, "The sign-in form had expired. Please try again.", 400)
    client = client_address(request)
    now = dash.now()
    attempt = LoginAttempt(
        id=secrets.token_hex(16),
        client=client,
        at=now,
        since=now - LOGIN_WINDOW_SECONDS,
        per_client=FAILURES_PER_CLIENT,
        in_all=FAILURES_IN_ALL,
    )
    if not await store.login_attempt(attempt):
        log.warning("dashboard login refused: too many failed attempts", client=client)
        response = _login_answer(
            request,
            session,
            f"Too many failed attempts. Try again in {LOGIN_WINDOW_SECONDS // 60} minutes.",
            429,
        )
        response.headers["Retry-After"] = str(LOGIN_WINDOW_SECONDS)
        return response
    password = form.get("password")
    if not isinstance(password, str) or not dash.signer.password_matches(password):
        log.warning("dashboard login failed: wrong password", client=client)
        return _login_answer(request, session, "Wrong password.", 401)
    await store.forget_login_failures(client)
    log.info("dashboard login", client=client)
    response = web.HTTPSeeOther(_safe_next(form.get("next")))
    _start_session(request, response, dash.signer.new_session(now, signed_in=True))
    raise response


async def logout(request: web.Request, session: Session) -> web.StreamResponse:
    response = web.HTTPSeeOther("/admin/login")
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    raise response


# --- the lists -----------------------------------------------------------------------------------


def _merchant(request: web.Request) -> MerchantOrders:
    return request.app[keys.MERCHANT]


def _list_params(request: web.Request) -> tuple[OrderView, str, int]:
    try:
        view = OrderView(request.query.get("view", OrderView.TO_PACK.value))
    except ValueError:
        raise web.HTTPBadRequest(
            text="unknown list: use " + ", ".join(v.value for v in OrderView)
        ) from None
    search = request.query.get("q", "").strip()[:MAX_SEARCH]
    page_text = request.query.get("page", "1")
    page = int(page_text) if page_text.isdigit() else 1
    return view, search, min(max(page, 1), MAX_PAGE)


async def orders_list(request: web.Request, session: Session) -> web.StreamResponse:
    view, search, page = _list_params(request)
    merchant = _merchant(request)
    listing = await merchant.page(view, search, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    counts = await merchant.view_counts()
    response = _html("")
    response.text = orders_page(
        _frame(request, session, response),
        view=view,
        search=search,
        page=page,
        listing=listing,
        counts=counts,
        now=_dashboard(request).now(),
    )
    return response


async def orders_export(request: web.Request, session: Session) -> web.StreamResponse:
    view, search, _ = _list_params(request)
    text = await _merchant(request).export_view_csv(view, search, EXPORT_LIMIT)
    day = dt.datetime.fromtimestamp(_dashboard(request).now(), dt.UTC).strftime("%Y%m%d")
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="orders-{view.value}-{day}.csv"'},
    )


# --- one order -----------------------------------------------------------------------------------


def _tokens() -> Iterator[str]:
    while True:
        yield secrets.token_urlsafe(16)


async def order_detail(request: web.Request, session: Session) -> web.StreamResponse:
    order_id = request.match_info["order_id"]
    merchant = _merchant(request)
    details = await merchant.show(order_id)
    if details is None:
        raise web.HTTPNotFound(text=f"no order {order_id[:60]}")
    store = request.app[keys.STORE]
    data = OrderData(
        order=details.order,
        customer=details.customer,
        history=details.history,
        refunds=details.refunds,
        messages=await store.order_messages(order_id),
        alerts=await store.order_alerts(order_id),
    )
    response = _html("")
    frame = _frame(request, session, response)
    response.text = order_page(frame, data, _tokens(), _dashboard(request).now())
    return response


class _FormError(Exception):
    """What the merchant typed cannot be used; said on the order's page, nothing done."""


def _field(form: Form, name: str, limit: int) -> str:
    value = form.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _FormError(f"{name}: expected text")
    text = value.strip()
    if len(text) > limit:
        raise _FormError(f"{name}: at most {limit} characters")
    if any(ord(ch) < 32 for ch in text):
        raise _FormError(f"{name}: no control characters")
    return text


def _form_token(form: Form) -> str:
    token = form.get("form_token")
    if not isinstance(token, str) or not _FORM_TOKEN.match(token):
        raise _FormError("the form is incomplete: reload the page and try again")
    return token


def parse_amount(text: str, currency: str) -> int:
    """`249.50`, `₹1,249.5`, `250` → minor units of `currency`, exactly (no more decimals than
    the currency has)."""
    cleaned = "".join(ch for ch in text if not (ch in ", " or unicodedata.category(ch) == "Sc"))
    try:
        return to_minor(cleaned, currency)
    except InvalidPrice:
        places = exponent(currency)
        example = "250" if places == 0 else f"250 or 249.{'5' + '0' * (places - 1)}"
        raise _FormError(f"amount: write an amount like {example}, not “{text[:20]}”") from None


def _after(request: web.Request, order_id: str, text: str, error: bool) -> web.HTTPSeeOther:
    response = web.HTTPSeeOther(f"/admin/orders/{quote(order_id, safe='')}")
    _flash(request, response, text, error)
    return response


def _outcome(request: web.Request, order_id: str, result: ActionResult) -> web.HTTPSeeOther:
    if result.verdict is Verdict.ALREADY:
        return _after(request, order_id, f"Already done: {result.message}", False)
    return _after(request, order_id, _sentence(result.message), result.verdict is Verdict.REFUSED)


async def _with_why_not_told(
    request: web.Request, order_id: str, result: ActionResult
) -> ActionResult:
    """A notice that could not be sent (the 24-hour window closed and no template) is in the
    history, newest; the merchant reads why in the answer to the click too."""
    timeline = await request.app[keys.STORE].order_timeline(order_id)
    if not timeline or timeline[-1].status != "customer not told":
        return result
    told = f"{result.message}. The customer could not be told: {timeline[-1].reason}"
    return replace(result, message=told)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _action(
    act: Callable[
        [web.Request, str, Form],
        Awaitable[ActionResult],
    ],
) -> SignedInHandler:
    async def handle(request: web.Request, session: Session) -> web.StreamResponse:
        order_id = request.match_info["order_id"]
        form = await request.post()
        try:
            result = await act(request, order_id, form)
        except _FormError as error:
            raise _after(request, order_id, _sentence(str(error)), True) from None
        if result.verdict is Verdict.DO and not result.outbox_ids:
            result = await _with_why_not_told(request, order_id, result)
        raise _outcome(request, order_id, result)

    return handle


async def _ship(request: web.Request, order_id: str, form: Form) -> ActionResult:
    _form_token(form)
    courier = _field(form, "courier", 100)
    tracking = _field(form, "tracking", 500)
    return await _merchant(request).ship(
        order_id, by=ACTOR, courier=courier or None, tracking=tracking or None
    )


async def _deliver(request: web.Request, order_id: str, form: Form) -> ActionResult:
    _form_token(form)
    return await _merchant(request).deliver(order_id, by=ACTOR)


async def _cancel(request: web.Request, order_id: str, form: Form) -> ActionResult:
    token = _form_token(form)
    return await _merchant(request).cancel(
        order_id,
        by=ACTOR,
        refund=form.get("refund") == "1",
        reason=_field(form, "reason", 200),
        request_key=f"admin:{token}",
    )


async def _refund(request: web.Request, order_id: str, form: Form) -> ActionResult:
    token = _form_token(form)
    reason = _field(form, "reason", 200)
    amount_text = _field(form, "amount", 20)
    merchant = _merchant(request)
    order = await request.app[keys.STORE].get_order(order_id)
    if order is None:
        amount = 0  # the service says the order is unknown
    elif amount_text:
        amount = parse_amount(amount_text, order.currency)
    else:
        amount = refundable(order)
    # The form's one-time token is the refund's key: the same form sent twice refunds once,
    # and a second refund of the same amount (a new form) is a new refund.
    return await merchant.refund(
        order_id, amount, by=ACTOR, reason=reason, request_key=f"admin:{token}"
    )


ship = _action(_ship)
deliver = _action(_deliver)
cancel = _action(_cancel)
refund = _action(_refund)


async def resend_alert(request: web.Request, session: Session) -> web.StreamResponse:
    order_id = request.match_info["order_id"]
    alert_id = int(request.match_info["alert_id"])
    form = await request.post()
    try:
        token = _form_token(form)
    except _FormError as error:
        raise _after(request, order_id, _sentence(str(error)), True) from None
    store = request.app[keys.STORE]
    alerts = {alert.id for alert in await store.order_alerts(order_id)}
    if alert_id not in alerts:
        raise _after(request, order_id, f"No alert {alert_id} about this order.", True)
    used = await resend_once(store, token, alert_id, _dashboard(request).now())
    worker = request.app.get(keys.ALERTS)
    if used is FormUse.DONE and worker is not None:
        worker.poke()
    text = {
        FormUse.DONE: f"Alert {alert_id} queued to be sent again.",
        FormUse.ALREADY: f"Already done: alert {alert_id} was queued again by this form.",
        FormUse.UNKNOWN: f"No alert {alert_id}.",
    }[used]
    log.info("dashboard alert resend", alert_id=alert_id, order_id=order_id, outcome=used.value)
    raise _after(request, order_id, text, used is FormUse.UNKNOWN)


# --- stock ---------------------------------------------------------------------------------------


async def stock_list(request: web.Request, session: Session) -> web.StreamResponse:
    counted = await request.app[keys.STOCK].list()
    uncounted = [p for p in request.app[keys.SHOP].products if p.stock is None]
    response = _html("")
    frame = replace(_frame(request, session, response), section="stock")
    response.text = stock_page(frame, counted, uncounted, _tokens())
    return response


def parse_count(text: str, *, signed: bool) -> int:
    """`40` (a count) or, `signed`, `+10` / `-2` (a change): whole units, nothing else."""
    cleaned = text.replace(" ", "")
    if signed and not _CHANGE.match(cleaned):
        raise _FormError(f"write a whole number of units like 10 or -2, not “{text[:20]}”")
    if not signed and not _COUNT.match(cleaned):
        if _CHANGE.match(cleaned):
            raise _FormError(
                "the count cannot be below zero (to take units away, use Add / remove with a minus)"
            )
        raise _FormError(f"write the count as a whole number like 40, not “{text[:20]}”")
    return int(cleaned)


def _stock_action(set_count: bool) -> SignedInHandler:
    async def handle(request: web.Request, session: Session) -> web.StreamResponse:
        product_id = request.match_info["product_id"]
        form = await request.post()
        service = request.app[keys.STOCK]
        try:
            token = _form_token(form)
            if set_count:
                count = parse_count(_field(form, "count", 20), signed=False)
                change = await service.set(product_id, count, by=ACTOR, once=f"stock:{token}")
            else:
                units = parse_count(_field(form, "change", 20), signed=True)
                change = await service.add(product_id, units, by=ACTOR, once=f"stock:{token}")
        except _FormError as error:
            raise _to_stock(request, f"Not changed: {error}.", True) from None
        log.info(
            "dashboard stock change",
            product_id=product_id[:64],
            action="set" if set_count else "add",
            done=change.done,
            already=change.already,
        )
        if change.already:
            raise _to_stock(request, f"Already done: {change.message}.", False)
        if not change.done:
            raise _to_stock(request, f"Not changed: {change.message}.", True)
        raise _to_stock(request, f"{change.message}.", False)  # it starts with the product's id

    return handle


def _to_stock(request: web.Request, text: str, error: bool) -> web.HTTPSeeOther:
    response = web.HTTPSeeOther("/admin/stock")
    _flash(request, response, text, error)
    return response


stock_set = _stock_action(set_count=True)
stock_add = _stock_action(set_count=False)
