import pytest

from flows.effects import (
    AttachPaymentLink,
    CancelPaymentLink,
    CreatePaymentLink,
    Effect,
    PlaceOrder,
    SetOrderStatus,
)
from flows.messages import Button, OutgoingMessage, SendButtons, SendText
from flows.orders import OrderStatus, PaymentLink
from flows.state import AwaitingPayment, CartLine, Conversation, Customer, EnteringAddress
from storage import UnknownEventError
from storage.errors import ConstraintViolationError
from storage.repository import ClaimRead, Lane, StepResult, Store
from tests.storage.store_support import NOW, Shop

LINK = PaymentLink(id="plink_1", url="https://rzp.io/i/abc", expires_at=NOW + 3600)


async def test_unknown_customer_snapshot_is_empty(store: Store) -> None:
    snapshot = await store.load_snapshot("CC.nobody", "ord_1")
    assert snapshot.customer is None
    assert snapshot.conversation == Conversation()
    assert snapshot.open_order is None
    assert snapshot.event_order is None


async def test_commit_step_saves_everything_at_once(shop: Shop, store: Store) -> None:
    c = shop.customer(1)
    event_id = await shop.record(shop.text(c, "checkout"))
    order = shop.order("ord_1", c.key)
    conversation = Conversation(phase=AwaitingPayment(order_id="ord_1"), address="12 MG Road")
    messages: list[OutgoingMessage] = [
        SendText(body="Your order is placed."),
        SendButtons(body="Pay now?", buttons=(Button(id="pay", title="Pay"),)),
    ]
    effects: list[Effect] = [
        PlaceOrder(order=order),
        CreatePaymentLink(order_id="ord_1", expire_by=NOW + 900),
    ]

    result = await store.commit_step(
        event_id=event_id,
        customer=c,
        conversation=conversation,
        messages=messages,
        effects=effects,
        now=NOW + 1,
    )

    assert len(result.outbox_ids) == 2
    assert len(result.job_ids) == 1
    snapshot = await store.load_snapshot(c.key, "ord_1")
    assert snapshot.customer == c
    assert snapshot.conversation == conversation
    assert snapshot.open_order == order
    assert snapshot.event_order == order
    assert await store.unprocessed_events() == []
    outbox = await store.pending_outbox()
    assert [m.id for m in outbox] == list(result.outbox_ids)
    assert [m.message for m in outbox] == messages
    assert {(m.recipient_phone, m.recipient_user_id) for m in outbox} == {(c.phone, c.user_id)}
    (job,) = await store.pending_jobs()
    assert (job.id, job.kind, job.customer_key, job.order_id) == (
        result.job_ids[0],
        "create_payment_link",
        c.key,
        "ord_1",
    )
    assert job.payload == {
        "kind": "create_payment_link",
        "order_id": "ord_1",
        "expire_by": NOW + 900,
    }
    assert await store.order_history("ord_1") == [("pending_payment", NOW, "placed")]


async def test_commit_step_twice_changes_nothing(shop: Shop, store: Store) -> None:
    c = shop.customer(1)
    event_id = await shop.record(shop.text(c))
    effects = [PlaceOrder(order=shop.order("ord_1", c.key))]
    first = await shop.step(c, event_id=event_id, effects=effects)
    again = await shop.step(
        c,
        event_id=event_id,
        effects=[CancelPaymentLink(order_id="ord_1", link_id="plink_1")],
        conversation=Conversation(phase=EnteringAddress()),
    )
    assert first.outbox_ids
    assert again.outbox_ids == ()
    assert again.job_ids == ()
    assert len(await store.pending_outbox()) == 1
    assert await store.pending_jobs() == []
    assert (await store.load_snapshot(c.key, None)).conversation == Conversation()


async def test_commit_step_for_unrecorded_event_fails(shop: Shop) -> None:
    with pytest.raises(UnknownEventError):
        await shop.step(shop.customer(1), event_id=999)


async def test_failed_step_leaves_no_trace(shop: Shop, store: Store) -> None:
    c = shop.customer(1)
    await shop.place_order(c, "ord_1")
    event_id = await shop.record(shop.text(c))
    cart = Conversation(cart=(CartLine(product_id="tea", quantity=1),))
    with pytest.raises(ConstraintViolationError):  # the same order id placed twice
        await shop.step(
            c,
            event_id=event_id,
            conversation=cart,
            effects=[PlaceOrder(order=shop.order("ord_1", c.key))],
        )
    assert [e.id for e in await store.unprocessed_events()] == [event_id]
    assert (await store.load_snapshot(c.key, None)).conversation == Conversation()
    assert len(await store.pending_outbox()) == 1  # only the first step's message


async def test_customer_upsert_keeps_known_details(shop: Shop, store: Store) -> None:
    full = shop.customer(1)
    await shop.step(full)
    # A later event from the username-only side: no phone, no profile name.
    await shop.step(Customer(key=full.key, user_id=full.user_id))
    snapshot = await store.load_snapshot(full.key, None)
    assert snapshot.customer == full
    replies = await store.pending_outbox()
    assert [m.recipient_phone for m in replies] == [full.phone, full.phone]
    await shop.step(full.model_copy(update={"name": "Asha K"}))
    updated = (await store.load_snapshot(full.key, None)).customer
    assert updated is not None
    assert updated.name == "Asha K"


async def test_snapshot_event_order_must_belong_to_the_customer(shop: Shop, store: Store) -> None:
    asha, ravi = shop.customer(1), shop.customer(2)
    await shop.place_order(asha, "ord_asha")
    snapshot = await store.load_snapshot(ravi.key, "ord_asha")
    assert snapshot.event_order is None
    assert snapshot.open_order is None


async def test_open_order_is_the_newest_pending(shop: Shop, store: Store) -> None:
    c = shop.customer(1)
    await shop.place_order(c, "ord_old", created_at=NOW)
    await shop.place_order(c, "ord_new", created_at=NOW + 60)
    await shop.place_order(c, "ord_paid", created_at=NOW + 120)
    paid = SetOrderStatus(order_id="ord_paid", status=OrderStatus.PAID, at=NOW + 130)
    await shop.step(c, effects=[paid])
    snapshot = await store.load_snapshot(c.key, "ord_old")
    assert snapshot.open_order is not None
    assert snapshot.open_order.id == "ord_new"
    assert snapshot.event_order is not None
    assert snapshot.event_order.id == "ord_old"
    assert [o.id for o in await store.list_orders()] == ["ord_paid", "ord_new", "ord_old"]
    assert [o.id for o in await store.list_orders(limit=1)] == ["ord_paid"]


async def test_payment_link_attaches_only_to_pending_orders(shop: Shop, store: Store) -> None:
    c = shop.customer(1)
    await shop.place_order(c, "ord_1")
    await shop.place_order(c, "ord_2")
    cancel = SetOrderStatus(order_id="ord_2", status=OrderStatus.CANCELLED, at=NOW)
    await shop.step(c, effects=[cancel])
    await shop.step(
        c,
        effects=[
            AttachPaymentLink(order_id="ord_1", link=LINK),
            AttachPaymentLink(order_id="ord_2", link=LINK),
        ],
    )
    ord_1, ord_2 = await store.get_order("ord_1"), await store.get_order("ord_2")
    assert ord_1 is not None
    assert ord_1.link == LINK
    assert ord_2 is not None
    assert ord_2.link is None
    assert await store.get_order("ord_missing") is None


async def test_a_message_and_its_step_are_recorded_together(shop: Shop, store: Store) -> None:
    c = shop.customer(1)
    hello = shop.text(c, "hi", wamid="wamid.HELLO")
    welcome = SendText(body="Welcome to Chai Point")

    result = await store.record_and_step(
        hello, customer=c, conversation=Conversation(), messages=[welcome], effects=[], now=NOW
    )

    assert result is not None
    assert await store.unprocessed_events() == []  # stored already stepped
    [queued] = await store.pending_outbox()
    assert (queued.id, queued.message, queued.recipient_phone) == (
        result.outbox_ids[0],
        welcome,
        c.phone,
    )
    assert (await store.load_snapshot(c.key, None)).customer == c
    assert (await store.load_snapshot(c.key, None)).reminders.last_inbound_at == NOW


async def test_a_redelivered_message_is_not_stepped_again(shop: Shop, store: Store) -> None:
    c = shop.customer(1)
    hello = shop.text(c, "hi", wamid="wamid.HELLO")

    async def step(reply: str) -> StepResult | None:
        return await store.record_and_step(
            hello,
            customer=c,
            conversation=Conversation(),
            messages=[SendText(body=reply)],
            effects=[],
            now=NOW,
        )

    await step("Welcome")
    again = await step("Welcome again")

    assert again is None
    assert [m.message for m in await store.pending_outbox()] == [SendText(body="Welcome")]


async def test_a_failing_step_leaves_its_message_unrecorded(shop: Shop, store: Store) -> None:
    c = shop.customer(1)
    await shop.place_order(c, "ord_1")
    hello = shop.text(c, "checkout", wamid="wamid.CHECKOUT")
    with pytest.raises(ConstraintViolationError):  # the same order id placed twice
        await store.record_and_step(
            hello,
            customer=c,
            conversation=Conversation(),
            messages=[SendText(body="Placed")],
            effects=[PlaceOrder(order=shop.order("ord_1", c.key))],
            now=NOW,
        )
    # Nothing of it was kept: recorded the usual way, it is new.
    assert await store.record_events([hello], NOW) != []


async def test_the_snapshot_says_when_a_customers_event_waits(shop: Shop, store: Store) -> None:
    known, new = shop.customer(1), shop.customer(2)
    await shop.step(known)
    assert not (await store.load_snapshot(known.key, None)).pending_events
    assert not (await store.load_snapshot(new.key, None)).pending_events

    await shop.record(shop.text(known))
    await shop.record(shop.text(new))  # a first message: no customer row yet

    assert (await store.load_snapshot(known.key, None)).pending_events
    assert (await store.load_snapshot(new.key, None)).pending_events


async def test_a_snapshot_read_with_a_claim_answers_the_first_look_only(
    shop: Shop, store: Store
) -> None:
    asha = shop.customer(1)
    order = await shop.place_order(asha, "ord_1")
    await shop.record(shop.text(asha, "is my order on its way?"))
    before = await store.load_snapshot(asha.key, "ord_1")

    async with store.claim(Lane.EVENTS, asha.key, read=ClaimRead.SNAPSHOT) as held:
        assert held
        first = await store.load_snapshot(asha.key, "ord_1")
        await shop.step(asha, conversation=Conversation(address="12 MG Road"))
        second = await store.load_snapshot(asha.key, "ord_1")

    assert first == before
    assert (first.open_order, first.event_order, first.pending_events) == (order, order, True)
    assert second.conversation == Conversation(address="12 MG Road")  # read afresh
