"""The worst case of every step of the state machine on hostile input: in every phase, a
catalog order of 60,000 lines, a 3 MB text, ids and captions of a million characters.

No clock here (the suite never asserts timings): the work of one step is counted as the
Python function calls it makes (`sys.setprofile`), which is deterministic. The rule checked:
a step on hostile input does about as much work as the same step on a small input of the same
shape, because what a step reads is bounded by its caps (100 catalog lines, 64 characters of a
command, 2,000 of an address), not by what arrived. One catalog order of 60,000 unknown ids
once held the event loop for 45 s. The time of the same inputs on the real bot, with /healthz
polled meanwhile, is `python -m bench --phases hostile-input` (BENCHMARKS.md).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest

from flows.catalog import ShopConfig
from flows.events import (
    ButtonPressed,
    CatalogOrderReceived,
    Event,
    ListRowPicked,
    LocationReceived,
    MediaReceived,
    OrderedItem,
    ReactionReceived,
    TextReceived,
    UnsupportedReceived,
)
from flows.machine import StepContext, step
from flows.orders import Order, OrderLine, OrderStatus, PaymentLink
from flows.state import (
    AwaitingPayment,
    CartLine,
    ChoosingQuantity,
    Conversation,
    Customer,
    EnteringAddress,
)

NOW = 1_790_000_000
SMALL, HUGE = 100, 60_000  # lines or ids in a catalog order
SHORT, LONG = 100, 3 * 1024 * 1024  # characters of a text
# Generous: small and hostile versions differ in the odd branch (a note more, an id shortened),
# never by a factor. Processing every line of 60,000 is ~100 times the small case.
ALLOWED_FACTOR = 2.0
ALLOWED_EXTRA_CALLS = 2_000


def calls_made(work: Callable[[], object]) -> int:
    """Python function calls (and C calls made from Python) while `work` runs."""
    count = 0

    def profiler(_frame: Any, event: str, _arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profiler)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


# --- hostile inputs, each in a small and a huge size -------------------------------------------


def known_ids(shop: ShopConfig) -> list[str]:
    return [product.id for product in shop.products]


def order_of(ids: list[str], quantity: int = 1) -> CatalogOrderReceived:
    items = tuple(OrderedItem(product_id=pid, quantity=quantity) for pid in ids)
    return CatalogOrderReceived(message_id="wamid.hostile", items=items)


INPUTS: dict[str, Callable[[ShopConfig, int], Event]] = {
    "order of unknown ids": lambda shop, n: order_of([f"no-such-{i}" for i in range(n)]),
    "order of known ids, repeated": lambda shop, n: order_of(
        [known_ids(shop)[i % len(known_ids(shop))] for i in range(n)], quantity=7
    ),
    "order of long distinct ids": lambda shop, n: order_of([f"{i:08d}" * 25 for i in range(n)]),
    "text of many words": lambda _, n: TextReceived(message_id="w", text="ab " * (n * 50)),
    "text of one word": lambda _, n: TextReceived(message_id="w", text="x" * (n * 50)),
    "text of digits": lambda _, n: TextReceived(message_id="w", text="9" * (n * 50)),
    "text of lines": lambda _, n: TextReceived(message_id="w", text="12 MG Road\n" * (n * 5)),
    "button id": lambda _, n: ButtonPressed(message_id="w", button_id="qty:" + "x" * (n * 50)),
    "row id": lambda _, n: ListRowPicked(message_id="w", row_id="prod:" + "ab " * (n * 20)),
    "location name": lambda _, n: LocationReceived(
        message_id="w", latitude=12.9, longitude=77.6, name="ab " * (n * 20), address="x " * n
    ),
    "media caption": lambda _, n: MediaReceived(
        message_id="w", media_type="image", caption="ab " * (n * 20)
    ),
    "reaction": lambda _, n: ReactionReceived(message_id="w", emoji="🙂" * (n * 20)),
    "unsupported type": lambda _, n: UnsupportedReceived(message_id="w", message_type="x" * n),
}


def size(name: str, hostile: bool) -> int:
    """Catalog orders count lines; everything else scales its characters from this."""
    if name.startswith("order"):
        return HUGE if hostile else SMALL
    return LONG // 150 if hostile else SHORT // 50


# --- every phase the conversation can be in ------------------------------------------------------


def open_order(shop: ShopConfig) -> Order:
    product = shop.products[0]
    line = OrderLine(product_id=product.id, name=product.name, unit_price=product.price, quantity=2)
    return Order(
        id="ord_1",
        customer_key="919800000001",
        lines=(line,),
        total=line.total,
        address="12 MG Road, Bengaluru 560001",
        status=OrderStatus.PENDING_PAYMENT,
        link=PaymentLink(id="plink_1", url="https://rzp.io/rzp/x", expires_at=NOW + 1800),
        created_at=NOW - 60,
    )


def phases(shop: ShopConfig) -> dict[str, tuple[Conversation, Order | None]]:
    cart = tuple(CartLine(product_id=pid, quantity=2) for pid in known_ids(shop))
    return {
        "idle": (Conversation(), None),
        "idle, full cart": (Conversation(cart=cart), None),
        "choosing quantity": (
            Conversation(phase=ChoosingQuantity(product_id=known_ids(shop)[0]), cart=cart),
            None,
        ),
        "entering address": (Conversation(phase=EnteringAddress(), cart=cart), None),
        "awaiting payment": (
            Conversation(phase=AwaitingPayment(order_id="ord_1"), cart=cart),
            open_order(shop),
        ),
    }


PHASES = ("idle", "idle, full cart", "choosing quantity", "entering address", "awaiting payment")


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("name", list(INPUTS))
def test_hostile_input_costs_a_step_no_more_than_a_small_one(
    shop_config: ShopConfig, phase: str, name: str
) -> None:
    conversation, order = phases(shop_config)[phase]
    context = StepContext(
        config=shop_config,
        customer=Customer(key="919800000001", phone="919800000001"),
        now=NOW,
        new_order_id="ord_new",
        open_order=order,
    )
    small = INPUTS[name](shop_config, size(name, hostile=False))
    hostile = INPUTS[name](shop_config, size(name, hostile=True))

    step(conversation, small, context)  # warm caches (compiled patterns, pydantic) first
    baseline = calls_made(lambda: step(conversation, small, context))
    worst = calls_made(lambda: step(conversation, hostile, context))

    assert worst <= ALLOWED_FACTOR * baseline + ALLOWED_EXTRA_CALLS, (
        f"{name} in phase {phase!r}: {worst} calls, against {baseline} for a small one"
    )


def test_the_counter_sees_work_that_grows_with_the_input() -> None:
    """The measure itself: a step that looped over every line would be caught."""

    def every_line(n: int) -> None:
        for item in order_of([f"id-{i}" for i in range(n)]).items:
            _ = item.product_id.upper()

    assert calls_made(lambda: every_line(HUGE)) > 100 * calls_made(lambda: every_line(SMALL))


def test_a_catalog_order_is_read_only_up_to_its_cap(shop_config: ShopConfig) -> None:
    ids = known_ids(shop_config)
    chosen = [ids[i % len(ids)] for i in range(HUGE)]
    context = StepContext(
        config=shop_config,
        customer=Customer(key="919800000001", phone="919800000001"),
        now=NOW,
        new_order_id="ord_new",
    )
    decision = step(Conversation(), order_of(chosen), context)
    said = "\n".join(getattr(m, "body", "") for m in decision.messages)
    assert "more than 100 items" in said
    assert sum(line.quantity for line in decision.state.cart) <= 100
