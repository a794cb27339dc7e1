"""The HTTP edge: signatures, sizes, malformed bodies, the handshake, every shared fixture
through the real routes, the payment redirect page and the health check."""

import json

import pytest

from bot.signatures import sign_razorpay_callback
from flows.catalog import ShopConfig
from tests.fixtures_path import RAZORPAY_FIXTURES, WHATSAPP_FIXTURES
from tests.support.databases import query_scalar
from tests.support.harness import KEY_SECRET, VERIFY_TOKEN, Shop, running_shop, text_of

WHATSAPP_FILES = sorted(p.name for p in WHATSAPP_FIXTURES.glob("*.json"))
RAZORPAY_FILES = sorted(
    str(p.relative_to(RAZORPAY_FIXTURES / "webhooks"))
    for p in (RAZORPAY_FIXTURES / "webhooks").rglob("*.json")
)


async def count_events(shop: Shop) -> int:
    return await query_scalar(shop.settings.database_url, "SELECT COUNT(*) FROM events")


@pytest.fixture
async def shop(database_url: str, shop_config: ShopConfig):  # type: ignore[no-untyped-def]
    async with running_shop(database_url, shop_config) as running:
        yield running


async def test_meta_verification_echoes_the_challenge_as_plain_text(shop: Shop) -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    response = await shop.client.get("/webhooks/whatsapp", params=query)
    assert response.status == 200
    assert response.content_type == "text/plain"
    assert await response.text() == "1158201444"


async def test_meta_verification_with_a_wrong_token_is_refused(shop: Shop) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "x"}
    response = await shop.client.get("/webhooks/whatsapp", params=query)
    assert response.status == 403


@pytest.mark.parametrize(
    ("signature", "status"),
    [(None, 401), ("sha256=" + "0" * 64, 403), ("sha1=abc", 403), ("", 403)],
)
async def test_unsigned_or_badly_signed_whatsapp_posts_change_nothing(
    shop: Shop, signature: str | None, status: int
) -> None:
    body = (WHATSAPP_FIXTURES / "inbound_text.json").read_bytes()
    response = await shop.post_whatsapp(body, signature=signature)
    assert response.status == status
    await shop.settle()
    assert await count_events(shop) == 0
    assert shop.graph.sent == []


async def test_a_signature_over_reserialised_json_is_refused(shop: Shop) -> None:
    from bot.signatures import sign_meta

    raw = (WHATSAPP_FIXTURES / "inbound_text.json").read_bytes()
    reserialised = json.dumps(json.loads(raw)).encode()
    response = await shop.post_whatsapp(
        raw, signature=sign_meta(reserialised, "test_app_secret_do_not_use")
    )
    assert response.status == 403


@pytest.mark.parametrize(("signature", "status"), [(None, 401), ("deadbeef", 403)])
async def test_unsigned_or_badly_signed_razorpay_posts_change_nothing(
    shop: Shop, signature: str | None, status: int
) -> None:
    body = (RAZORPAY_FIXTURES / "webhooks" / "payment_link.paid.json").read_bytes()
    response = await shop.post_razorpay(body, signature=signature)
    assert response.status == status
    assert await count_events(shop) == 0


async def test_signed_but_malformed_bodies_answer_400_not_500(shop: Shop) -> None:
    for body in (b"not json", b"[]", b'{"object":"page","entry":[]}', b'{"entry":"x"}'):
        assert (await shop.post_whatsapp(body)).status == 400
    for body in (b"not json", b"{}", b'{"event":"payment_link.paid","payload":7}'):
        assert (await shop.post_razorpay(body)).status == 400
    assert await count_events(shop) == 0


NON_FINITE = ["1e999", "-1e999", "NaN", "Infinity", "-Infinity"]


@pytest.mark.parametrize("number", NON_FINITE)
@pytest.mark.parametrize("where", ["latitude", "an extra field", "a status"])
async def test_a_signed_whatsapp_body_with_a_non_finite_number_is_refused_and_not_stored(
    shop: Shop, number: str, where: str
) -> None:
    # Python's json and pydantic accept all of these and turn them into null on the way
    # out: a stored latitude of 1e999 came back as None and the row could not be read.
    body = (WHATSAPP_FIXTURES / "inbound_location.json").read_text()
    if where == "latitude":
        body = body.replace('"latitude": 12.9763472', f'"latitude": {number}')
    elif where == "an extra field":
        body = body.replace('"type": "location"', f'"type": "location", "zoom": {number}')
    else:
        body = body.replace('"messages": [', f'"statuses": [{{"id": "x", "status": "read", '
                            f'"pricing": {{"rate": {number}}}}}], "messages": [')  # fmt: skip
    assert number in body
    response = await shop.post_whatsapp(body.encode())
    assert response.status == 400
    assert "number" in await response.text()
    await shop.settle()
    assert await count_events(shop) == 0
    assert shop.graph.sent == []


@pytest.mark.parametrize("where", ["the sender", "the message id", "the text", "a key"])
async def test_a_signed_whatsapp_body_with_a_nul_character_is_refused_and_not_stored(
    shop: Shop, where: str
) -> None:
    # Valid JSON, but Postgres text cannot hold a NUL: a sender of "\u0000" failed every
    # insert, a 500 that Meta would have redelivered for days. No WhatsApp message has one.
    body = (WHATSAPP_FIXTURES / "inbound_text.json").read_text()
    spot = {
        "the sender": ('"from": "', '"from": "\\u0000'),
        "the message id": ('"id": "wamid.', '"id": "wamid.\\u0000'),
        "the text": ('"body": "', '"body": "chai\\u0000'),
        "a key": ('"type": "text"', '"type": "text", "x\\u0000": 1'),
    }[where]
    assert spot[0] in body
    response = await shop.post_whatsapp(body.replace(spot[0], spot[1], 1).encode())
    assert response.status == 400
    assert "NUL" in await response.text()
    await shop.settle()
    assert await count_events(shop) == 0
    assert shop.graph.sent == []


async def test_a_backslash_and_u0000_written_out_in_a_message_is_only_text(shop: Shop) -> None:
    body = (WHATSAPP_FIXTURES / "inbound_text.json").read_text()
    body = body.replace('"body": "', '"body": "see \\\\u0000 ', 1)  # the six characters
    assert (await shop.post_whatsapp(body.encode())).status == 200
    await shop.settle()
    assert await count_events(shop) == 1


@pytest.mark.parametrize("number", NON_FINITE)
async def test_a_signed_razorpay_body_with_a_non_finite_number_is_refused_and_not_stored(
    shop: Shop, number: str
) -> None:
    body = (RAZORPAY_FIXTURES / "webhooks" / "payment_link.paid.json").read_text()
    body = body.replace('"created_at"', f'"fee": {number}, "created_at"', 1)
    assert number in body
    response = await shop.post_razorpay(body.encode())
    assert response.status == 400
    assert await count_events(shop) == 0


async def test_finite_numbers_of_every_shape_still_pass(shop: Shop) -> None:
    body = (WHATSAPP_FIXTURES / "inbound_location.json").read_text()
    body = body.replace('"latitude": 12.9763472', '"latitude": 1.29763472e1')
    body = body.replace('"type": "location"', '"type": "location", "zoom": -0.0, "n": 1e-999')
    assert (await shop.post_whatsapp(body.encode())).status == 200
    await shop.settle()
    assert await count_events(shop) == 1


async def test_bodies_over_3_mib_answer_413(shop: Shop) -> None:
    body = (
        b'{"object":"whatsapp_business_account","entry":[],"pad":"'
        + b"x" * (3 * 1024 * 1024)
        + b'"}'
    )
    assert (await shop.post_whatsapp(body)).status == 413


@pytest.mark.parametrize("name", WHATSAPP_FILES)
async def test_every_whatsapp_fixture_is_accepted(shop: Shop, name: str) -> None:
    body = (WHATSAPP_FIXTURES / name).read_bytes()
    response = await shop.post_whatsapp(body)
    assert response.status == 200, await response.text()
    await shop.settle()


async def test_a_batch_answers_every_customer_in_it(shop: Shop) -> None:
    body = (WHATSAPP_FIXTURES / "batch_two_messages.json").read_bytes()
    assert (await shop.post_whatsapp(body)).status == 200
    await shop.settle()
    recipients = {message["to"] for message in shop.graph.sent}
    assert recipients == {"919812300001", "919812300002"}


async def test_a_message_for_another_business_number_is_acknowledged_not_answered(
    shop: Shop,
) -> None:
    # One Meta app can hold several numbers; only ours is this shop's to answer.
    ours = (WHATSAPP_FIXTURES / "batch_two_messages.json").read_text()
    assert '"phone_number_id":"500600700800900"' in ours
    theirs = ours.replace('"phone_number_id":"500600700800900"', '"phone_number_id":"1234"')
    response = await shop.post_whatsapp(theirs.encode())
    assert response.status == 200  # anything else, and Meta redelivers for days
    await shop.settle()
    assert await count_events(shop) == 0
    assert shop.graph.sent == []


async def test_in_a_mixed_batch_only_our_numbers_messages_are_answered(shop: Shop) -> None:
    from tests.support.harness import webhook_body

    ours = json.loads(webhook_body("919812300001", "Asha", [_hi("919812300001", "wamid.a")]))
    theirs = json.loads(webhook_body("919812300002", "Rohan", [_hi("919812300002", "wamid.b")]))
    theirs_change = theirs["entry"][0]["changes"][0]
    theirs_change["value"]["metadata"]["phone_number_id"] = "999888777"
    ours["entry"].append({"id": "other-waba", "changes": [theirs_change]})
    response = await shop.post_whatsapp(json.dumps(ours).encode())
    assert response.status == 200
    await shop.settle()
    assert {message["to"] for message in shop.graph.sent} == {"919812300001"}
    assert await count_events(shop) == 1


def _hi(phone: str, wamid: str) -> dict[str, object]:
    return {"from": phone, "id": wamid, "timestamp": "1", "type": "text", "text": {"body": "hi"}}


async def test_the_same_message_delivered_twice_is_answered_once(shop: Shop) -> None:
    body = (WHATSAPP_FIXTURES / "inbound_text.json").read_bytes()
    for _ in range(3):
        assert (await shop.post_whatsapp(body)).status == 200
    await shop.settle()
    assert len(shop.graph.sent) == 1
    assert await count_events(shop) == 1


async def test_two_messages_of_one_customer_are_answered_in_order(shop: Shop) -> None:
    await shop.say("919812300009", "hi")
    await shop.say("919812300009", "help")
    await shop.say("919812300009", "cart")
    await shop.settle()
    replies = [text_of(m).lower() for m in shop.replies("919812300009")]
    assert len(replies) == 3
    assert "chai point" in replies[0]
    assert "help" in replies[1] or "type" in replies[1]
    assert "cart" in replies[2]


@pytest.mark.parametrize("name", RAZORPAY_FILES)
async def test_every_razorpay_fixture_is_accepted_even_for_unknown_orders(
    shop: Shop, name: str
) -> None:
    from bot.signatures import sign_razorpay
    from tests.support.harness import WEBHOOK_SECRET

    body = (RAZORPAY_FIXTURES / "webhooks" / name).read_bytes()
    response = await shop.post_razorpay(body, signature=sign_razorpay(body, WEBHOOK_SECRET))
    if "tampered" in name:
        assert response.status == 200  # signed by us here; the tampering is for signature tests
    assert response.status == 200
    await shop.settle()
    assert shop.graph.sent == []  # none of these orders is ours: nobody is messaged


async def test_a_rotated_out_webhook_secret_is_refused_unless_listed(
    database_url: str, shop_config: ShopConfig
) -> None:
    vectors = json.loads((RAZORPAY_FIXTURES / "signatures.json").read_text())
    rotated = next(v for v in vectors if v["secret"] == "rzp-webhook-secret-rotated-out")
    body = (RAZORPAY_FIXTURES / rotated["body_file"]).read_bytes()
    secrets = ["rzp-webhook-secret-for-tests-only", "rzp-webhook-secret-rotated-out"]
    env = {"RAZORPAY_WEBHOOK_SECRET": ",".join(secrets)}
    async with running_shop(database_url, shop_config, extra_env=env) as shop:
        response = await shop.post_razorpay(body, signature=rotated["signature"])
        assert response.status == (200 if rotated["expected_valid"] else 403)


async def test_the_payment_redirect_page_checks_its_signature(shop: Shop) -> None:
    params = {
        "razorpay_payment_id": "pay_Qx7Ro5JtF3gNsU",
        "razorpay_payment_link_id": "plink_Qx7Rm2KpL9vTzA",
        "razorpay_payment_link_reference_id": "wa-ord-2025-000042",
        "razorpay_payment_link_status": "paid",
    }
    params["razorpay_signature"] = sign_razorpay_callback(
        link_id=params["razorpay_payment_link_id"],
        reference_id=params["razorpay_payment_link_reference_id"],
        status="paid",
        payment_id=params["razorpay_payment_id"],
        key_secret=KEY_SECRET,
    )
    # Authentic, but for an order this shop never made: the page names it and confirms nothing.
    good = await shop.client.get("/payments/callback", params=params)
    assert good.status == 404
    page = await good.text()
    assert "Order not found" in page
    assert "wa-ord-2025-000042" in page
    assert "https://wa.me/" in page

    forged = await shop.client.get(
        "/payments/callback",
        params={**params, "razorpay_payment_link_status": "paid", "razorpay_signature": "0" * 64},
    )
    assert forged.status == 400
    assert (await shop.client.get("/payments/callback")).status == 400
    assert await count_events(shop) == 0  # the page never marks anything paid


async def test_health_check_answers_when_the_database_does(shop: Shop) -> None:
    response = await shop.client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": "ok"}
