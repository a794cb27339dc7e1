"""Property-based: whatever arrives at the webhooks, and whatever a merchant writes in
config.toml, nothing answers 500, nothing crashes, and a request that is unsigned, wrongly
signed or malformed changes nothing in the database.

One shop serves every example of a test (starting one per example would take minutes); it
runs on its own event loop (asyncio.Runner) because hypothesis drives synchronous tests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import main as cli_main
from bot.shop_config import ConfigError, load_shop_config
from bot.signatures import sign_meta, sign_razorpay
from flows.catalog import ShopConfig
from tests.faults.support import TABLES
from tests.support.databases import table_counts
from tests.support.harness import (
    APP_SECRET,
    WEBHOOK_SECRET,
    Shop,
    running_shop,
    text_of,
    webhook_body,
)

EXAMPLES = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BAD_CALLS = (401, 403, 400, 413)


class LoopShop:
    """A running shop on a private event loop, for synchronous hypothesis tests."""

    def __init__(self, database_url: str, shop_config: ShopConfig) -> None:
        self.database_url = database_url
        self.loop = asyncio.Runner()
        self._cm = running_shop(database_url, shop_config)
        self.shop: Shop = self.loop.run(self._cm.__aenter__())

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        async def call() -> int:
            response = await self.shop.client.post(path, data=body, headers=headers)
            await response.read()
            await self.shop.settle()
            return response.status

        return self.loop.run(call())

    def row_counts(self) -> dict[str, int]:
        """Rows per table, read from outside the app."""
        return self.loop.run(table_counts(self.database_url, TABLES))

    def still_serves_customers(self) -> None:
        async def check() -> None:
            health = await self.shop.client.get("/healthz")
            assert health.status == 200
            assert (await self.shop.say("919800099999", "hi")).status == 200
            await self.shop.settle()
            assert "Chai Point" in text_of(self.shop.last_reply("919800099999"))

        self.loop.run(check())

    def close(self) -> None:
        try:
            self.loop.run(self._cm.__aexit__(None, None, None))
        finally:
            self.loop.close()


@pytest.fixture
def live(database_url: str, shop_config: ShopConfig) -> Iterator[LoopShop]:
    shop = LoopShop(database_url, shop_config)
    try:
        yield shop
        shop.still_serves_customers()  # after every example: not crashed, not wedged
    finally:
        shop.close()


# --- strategies ---------------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
MESSAGE_TYPES = [
    "text",
    "interactive",
    "button",
    "order",
    "location",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "reaction",
    "unsupported",
    "system",
    "contacts",
    "?",
]


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    """A message object with plausible keys and arbitrary values in them."""
    kind = draw(st.sampled_from(MESSAGE_TYPES))
    message: dict[str, Any] = {"type": kind}
    for key, values in (
        ("from", st.text(max_size=20) | st.integers()),
        ("id", st.text(max_size=40)),
        ("timestamp", st.text(max_size=12) | st.integers()),
        ("from_user_id", st.text(max_size=20)),
        (kind, json_values),
        ("context", json_values),
    ):
        if draw(st.booleans()):
            message[key] = draw(values)
    return message


@st.composite
def envelopes(draw: st.DrawFn) -> bytes:
    """Meta's envelope with fuzzed contents at every level."""
    value: dict[str, Any] = {"messaging_product": "whatsapp"}
    if draw(st.booleans()):
        value["metadata"] = {"display_phone_number": "1", "phone_number_id": draw(st.text())}
    if draw(st.booleans()):
        value["contacts"] = draw(st.lists(json_values, max_size=2))
    value["messages"] = draw(st.lists(messages(), max_size=3))
    if draw(st.booleans()):
        value["statuses"] = draw(st.lists(json_values, max_size=2))
    change = {"field": draw(st.sampled_from(["messages", "other", ""])), "value": value}
    body = {
        "object": draw(st.sampled_from(["whatsapp_business_account", "page", ""])),
        "entry": [{"id": "1", "changes": draw(st.lists(st.just(change), max_size=2))}],
    }
    return json.dumps(body, ensure_ascii=draw(st.booleans())).encode()


any_bodies = st.binary(max_size=600) | envelopes()
bad_meta_signatures = st.one_of(
    st.none(),
    st.just(""),
    st.just("sha256="),
    st.text(max_size=80),
    st.binary(min_size=32, max_size=32).map(lambda b: "sha256=" + b.hex()),
)


def meta_headers(signature: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return headers


def latin1(text: str) -> str:
    """What can travel in a header value: latin-1 without control characters (the client
    refuses to send anything else, so no real request could carry it)."""
    printable = text.encode("latin-1", "replace").decode("latin-1")
    return "".join(c for c in printable if c >= " " and c != "\x7f")


# --- WhatsApp webhook ---------------------------------------------------------------------------


@EXAMPLES
@given(body=any_bodies, signature=bad_meta_signatures)
def test_unsigned_or_badly_signed_whatsapp_posts_are_refused_and_change_nothing(
    live: LoopShop, body: bytes, signature: str | None
) -> None:
    if signature is not None and signature == sign_meta(body, APP_SECRET):
        return  # hypothesis found the secret: a valid signature is not a bad one
    before = live.row_counts()
    status = live.post("/webhooks/whatsapp", body, meta_headers(latin1(signature or "") or None))
    assert status in (401, 403)
    assert live.row_counts() == before


@EXAMPLES
@given(body=st.binary(max_size=600), wrong=st.sampled_from(["other-secret", "", APP_SECRET + "x"]))
def test_bodies_signed_with_another_secret_are_refused(
    live: LoopShop, body: bytes, wrong: str
) -> None:
    before = live.row_counts()
    headers = meta_headers(sign_meta(body, wrong) if wrong else "sha256=")
    assert live.post("/webhooks/whatsapp", body, headers) == 403
    assert live.row_counts() == before


@EXAMPLES
@given(body=any_bodies)
def test_signed_but_malformed_whatsapp_posts_never_answer_500(live: LoopShop, body: bytes) -> None:
    before = live.row_counts()
    status = live.post("/webhooks/whatsapp", body, meta_headers(sign_meta(body, APP_SECRET)))
    assert status in (200, 400)
    if status == 400:
        assert live.row_counts() == before


@EXAMPLES
@given(batch=st.lists(messages(), min_size=1, max_size=4))
def test_signed_fuzzed_messages_are_answered_or_refused_never_crash(
    live: LoopShop, batch: list[dict[str, Any]]
) -> None:
    body = webhook_body("919800011111", "Fuzz", batch)
    status = live.post("/webhooks/whatsapp", body, meta_headers(sign_meta(body, APP_SECRET)))
    assert status in (200, 400)


# --- Razorpay webhook ---------------------------------------------------------------------------


@EXAMPLES
@given(
    body=st.binary(max_size=600) | json_values.map(lambda v: json.dumps(v).encode()),
    signature=st.none() | st.text(max_size=80) | st.binary(min_size=32, max_size=32).map(bytes.hex),
    event_id=st.none() | st.text(max_size=30),
)
def test_unsigned_or_badly_signed_razorpay_posts_are_refused_and_change_nothing(
    live: LoopShop, body: bytes, signature: str | None, event_id: str | None
) -> None:
    if signature == sign_razorpay(body, WEBHOOK_SECRET):
        return
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Razorpay-Signature"] = latin1(signature)
    if event_id is not None:
        headers["X-Razorpay-Event-Id"] = latin1(event_id)
    before = live.row_counts()
    assert live.post("/webhooks/razorpay", body, headers) in (401, 403)
    assert live.row_counts() == before


@st.composite
def razorpay_events(draw: st.DrawFn) -> bytes:
    entity = draw(
        st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "amount",
                    "amount_paid",
                    "currency",
                    "status",
                    "reference_id",
                    "notes",
                    "receipt",
                    "order_id",
                    "short_url",
                    "error_description",
                ]
            ),
            json_values,
            max_size=8,
        )
    )
    names = draw(
        st.lists(
            st.sampled_from(["payment_link", "payment", "order", "refund"]), max_size=3, unique=True
        )
    )
    body: dict[str, Any] = {
        "entity": "event",
        "event": draw(
            st.sampled_from(
                [
                    "payment_link.paid",
                    "payment_link.expired",
                    "payment_link.cancelled",
                    "payment.failed",
                    "payment.captured",
                    "order.paid",
                    "refund.processed",
                    "x.y",
                    "",
                ]
            )
        ),
        "payload": {name: {"entity": entity} if draw(st.booleans()) else entity for name in names},
    }
    if draw(st.booleans()):
        body["payload"] = draw(json_values)
    return json.dumps(body).encode()


@EXAMPLES
@given(body=razorpay_events() | st.binary(max_size=300), event_id=st.text(max_size=30))
def test_signed_but_malformed_razorpay_posts_never_answer_500(
    live: LoopShop, body: bytes, event_id: str
) -> None:
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": sign_razorpay(body, WEBHOOK_SECRET),
        "X-Razorpay-Event-Id": latin1(event_id),
    }
    before = live.row_counts()
    status = live.post("/webhooks/razorpay", body, headers)
    assert status in (200, 400)
    if status == 400:
        assert live.row_counts() == before
    else:  # nothing to pay for: the orders table cannot move
        assert live.row_counts()["orders"] == before["orders"]


def test_bodies_over_their_routes_limit_answer_413_and_change_nothing(live: LoopShop) -> None:
    meta = b"{" + b" " * (3 * 1024 * 1024 + 10) + b"}"
    razorpay = b"{" + b" " * (256 * 1024 + 10) + b"}"
    before = live.row_counts()
    headers = meta_headers(sign_meta(meta, APP_SECRET))
    assert live.post("/webhooks/whatsapp", meta, headers) == 413
    headers = {"X-Razorpay-Signature": sign_razorpay(razorpay, WEBHOOK_SECRET)}
    assert live.post("/webhooks/razorpay", razorpay, headers) == 413
    assert live.row_counts() == before


# --- config.toml --------------------------------------------------------------------------------

toml_strings = st.text(max_size=30).map(json.dumps)  # a TOML basic string is JSON-compatible
toml_values = st.one_of(
    toml_strings,
    st.integers(min_value=-(10**6), max_value=10**6).map(str),
    st.sampled_from(
        [
            "true",
            "false",
            "1.5",
            "-0",
            "[]",
            "{}",
            '"249.00"',
            '"0.001"',
            '"-1"',
            '"1e3"',
            '"₹249"',
            '"249.0.0"',
            '""',
        ]
    ),
)
PRODUCT_KEYS = ["id", "name", "price", "category", "description", "available", "image"]


@st.composite
def config_files(draw: st.DrawFn) -> str:
    lines = []
    if draw(st.booleans()):
        lines += ["[shop]", f"name = {draw(toml_values)}", f"currency = {draw(toml_values)}"]
    if draw(st.booleans()):
        lines += ["[checkout]"] + [
            f"{key} = {draw(toml_values)}"
            for key in draw(
                st.lists(
                    st.sampled_from(
                        ["collect_address", "payment_link_expiry_minutes", "max_quantity_per_item"]
                    ),
                    unique=True,
                )
            )
        ]
    for _ in range(draw(st.integers(0, 4))):
        lines.append("[[products]]")
        for key in draw(st.lists(st.sampled_from(PRODUCT_KEYS), unique=True)):
            lines.append(f"{key} = {draw(toml_values)}")
    if draw(st.booleans()):
        lines += [
            "[messages]",
            f"{draw(st.sampled_from(['welcome', 'help', 'nope']))} = {draw(toml_values)}",
        ]
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.text(max_size=20)))
    return "\n".join(lines)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=config_files() | st.text(max_size=200))
def test_any_config_file_loads_or_names_its_problems(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    problems: list[str] | None = None
    try:
        config = load_shop_config(path)
    except ConfigError as error:
        problems = error.problems
    if problems is None:
        assert isinstance(config, ShopConfig)
        assert cli_main(["check-config", str(path)]) == 0
    else:
        assert problems
        assert all(isinstance(p, str) and p for p in problems)
        assert cli_main(["check-config", str(path)]) == 1


def test_a_config_that_is_not_utf8_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'[shop]\nname = "\xff\xfe"\n')
    with pytest.raises(ConfigError):
        load_shop_config(path)
    assert cli_main(["check-config", str(path)]) == 1
