"""The merchant's actions on orders as one small service: the CLI calls it today, a dashboard
or owner commands tomorrow. Each action is one transaction in the store (checked against
`flows.lifecycle`, recorded with who and when) and is idempotent: a double click or a retried
command does it once. What the action queued (the customer's message, a refund call) is handed
to the running workers when there are any; otherwise it waits, durable, for the bot's next
start or sweep.
"""

import csv
import dataclasses
import datetime as dt
import io
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.clock import Clock
from bot.logging import get_logger
from flows.catalog import ShopConfig
from flows.lifecycle import payment_status
from flows.money import to_major
from flows.notices import NoticeContext
from flows.orders import Order
from flows.state import Customer
from storage.repository import (
    ActionKind,
    ActionResult,
    HistoryEntry,
    Job,
    LatePayment,
    MerchantAction,
    OrderPage,
    OrderView,
    OutboxMessage,
    Refund,
    RefundSettlement,
    Store,
)

log = get_logger(__name__)

LIST_LIMIT = 100


@dataclass(frozen=True, slots=True)
class OrderDetails:
    order: Order
    customer: Customer | None
    history: list[HistoryEntry]
    refunds: list[Refund]


class MerchantOrders:
    def __init__(
        self,
        *,
        store: Store,
        shop: ShopConfig,
        clock: Clock,
        deliver: Callable[[OutboxMessage], None] | None = None,
        perform: Callable[[Job], None] | None = None,
        alert_channels: Sequence[str] = (),
        alerts_queued: Callable[[], None] | None = None,
    ) -> None:
        """`alert_channels`: where the merchant hears of each action (order.shipped, …), queued
        in the action's transaction; `alerts_queued` wakes the alert worker after commit."""
        self._store = store
        self._shop = shop
        self._clock = clock
        self._deliver = deliver
        self._perform = perform
        self._alert_channels = tuple(alert_channels)
        self._alerts_queued = alerts_queued

    @property
    def alert_channels(self) -> tuple[str, ...]:
        return self._alert_channels

    def telling(self, alert_channels: Sequence[str]) -> "MerchantOrders":
        """The same service, alerting only these channels about its actions (owner commands
        leave out the owner who acted: they have the reply already)."""
        return MerchantOrders(
            store=self._store,
            shop=self._shop,
            clock=self._clock,
            deliver=self._deliver,
            perform=self._perform,
            alert_channels=alert_channels,
            alerts_queued=self._alerts_queued,
        )

    # --- actions --------------------------------------------------------------------------------

    async def ship(
        self,
        order_id: str,
        *,
        by: str,
        courier: str | None = None,
        tracking: str | None = None,
    ) -> ActionResult:
        """`tracking`: a tracking number, or a URL the customer can open."""
        is_url = tracking is not None and tracking.startswith(("https://", "http://"))
        return await self._act(
            ActionKind.SHIP,
            order_id,
            by,
            courier=courier or None,
            tracking_url=tracking if is_url else None,
            tracking_number=None if is_url else tracking or None,
        )

    async def deliver(self, order_id: str, *, by: str) -> ActionResult:
        """Mark delivered and tell the customer; a cash-on-delivery order is marked paid too
        (the cash came at the door)."""
        return await self._act(ActionKind.DELIVER, order_id, by)

    async def mark_paid(self, order_id: str, *, by: str, reason: str = "") -> ActionResult:
        """The cash of a cash-on-delivery order was collected (online payments are confirmed
        by the provider, never by hand)."""
        return await self._act(ActionKind.MARK_PAID, order_id, by, reason=reason)

    async def cancel(
        self,
        order_id: str,
        *,
        by: str,
        refund: bool = False,
        reason: str = "",
        request_key: str | None = None,
    ) -> ActionResult:
        """Unpaid: cancels the order and its payment link. Paid: refused unless `refund`,
        which refunds what is left in the same transaction (`request_key`: as for `refund`)."""
        return await self._act(
            ActionKind.CANCEL, order_id, by, refund=refund, reason=reason, request_key=request_key
        )

    async def refund(
        self,
        order_id: str,
        amount: int,
        *,
        by: str,
        reason: str = "",
        request_key: str | None = None,
    ) -> ActionResult:
        """Ask the provider to refund `amount` (minor units). `request_key` names the request
        that asked (a form's token, a command's id, a WhatsApp message id): the same key is
        the same refund, retried; without one, this call is a new refund of its own (two equal
        refunds with the same reason are two refunds)."""
        if not request_key:
            request_key = f"{by}:{uuid.uuid4().hex}"
        return await self._act(
            ActionKind.REFUND, order_id, by, amount=amount, reason=reason, request_key=request_key
        )

    async def settle_refund(self, settlement: RefundSettlement) -> ActionResult:
        if not settlement.alert_channels and self._alert_channels:
            settlement = dataclasses.replace(settlement, alert_channels=self._alert_channels)
        result = await self._store.settle_refund(settlement)
        await self._hand_over(result)
        return result

    async def refund_late_payment(self, late: LatePayment) -> ActionResult:
        """A payment that arrived after its order was cancelled or expired: refunded whole,
        customer and merchant told (see `Store.refund_late_payment`)."""
        result = await self._store.refund_late_payment(late)
        log.info(
            "late payment",
            order_id=late.order_id,
            payment_id=late.payment_id,
            verdict=result.verdict.value,
            outcome=result.message,
        )
        await self._hand_over(result)
        return result

    def notice_context(self, last_inbound_at: int | None) -> NoticeContext:
        return NoticeContext(
            texts=self._shop.messages,
            templates=self._shop.templates,
            last_inbound_at=last_inbound_at,
            now=int(self._clock()),
            locale=self._shop.shop.locale,
            translations=self._shop.languages,
        )

    async def _act(
        self, kind: ActionKind, order_id: str, by: str, **fields: object
    ) -> ActionResult:
        action = MerchantAction(
            kind=kind,
            order_id=order_id,
            by=by,
            at=int(self._clock()),
            notice_context=self.notice_context,
            alert_channels=self._alert_channels,
            **fields,  # type: ignore[arg-type]
        )
        result = await self._store.act_on_order(action)
        log.info(
            "merchant action",
            action=kind.value,
            order_id=order_id,
            by=by,
            verdict=result.verdict.value,
            outcome=result.message,
        )
        await self._hand_over(result)
        return result

    async def _hand_over(self, result: ActionResult) -> None:
        """After commit, to the running workers (if any) rather than waiting for a sweep."""
        if self._deliver is not None:
            for outbox_id in result.outbox_ids:
                message = await self._store.get_outbox(outbox_id)
                if message is not None:
                    self._deliver(message)
        if self._perform is not None:
            for job_id in result.job_ids:
                job = await self._store.get_job(job_id)
                if job is not None:
                    self._perform(job)
        if result.alert_ids and self._alerts_queued is not None:
            self._alerts_queued()

    # --- reading --------------------------------------------------------------------------------

    async def list(
        self, statuses: Sequence[str] = (), search: str | None = None, limit: int = LIST_LIMIT
    ) -> list[Order]:
        return await self._store.search_orders(statuses, search, limit)

    async def show(self, order_id: str) -> OrderDetails | None:
        order = await self._store.get_order(order_id)
        if order is None:
            return None
        return OrderDetails(
            order=order,
            customer=await self._store.customer_of(order_id),
            history=await self._store.order_timeline(order_id),
            refunds=await self._store.refunds(order_id),
        )

    async def page(self, view: OrderView, search: str | None, offset: int, limit: int) -> OrderPage:
        """One page of one of the dashboard's lists (`OrderView`), filtered by the database."""
        return await self._store.order_page(view, search, offset, limit)

    async def view_counts(self) -> dict[OrderView, int]:
        return await self._store.order_view_counts()

    async def export_view_csv(
        self, view: OrderView, search: str | None, limit: int = 10_000
    ) -> str:
        """The whole list (up to `limit` orders) as CSV, in the order the dashboard shows it."""
        rows: list[tuple[Order, Customer | None]] = []
        while len(rows) < limit:
            page = await self.page(view, search, len(rows), min(500, limit - len(rows)))
            rows += [(row.order, row.customer) for row in page.rows]
            if not page.more:
                break
        return orders_csv(rows)

    async def export_csv(
        self, statuses: Sequence[str] = (), search: str | None = None, limit: int = 10_000
    ) -> str:
        rows = []
        for order in await self.list(statuses, search, limit):
            rows.append((order, await self._store.customer_of(order.id)))
        return orders_csv(rows)


CSV_COLUMNS = (
    "order_id",
    "date",
    "customer_name",
    "phone",
    "address",
    "items",
    "total",
    "currency",
    "payment_status",
    "fulfilment_status",
    "courier",
    "tracking",
)


def orders_csv(rows: Sequence[tuple[Order, Customer | None]]) -> str:
    """What a merchant pastes into a spreadsheet or a courier's bulk-booking form. Amounts in
    major units (12.50): that is what a spreadsheet sums and a person reads."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for order, customer in rows:
        writer.writerow(
            (
                order.id,
                _date(order.created_at),
                _cell(customer.name if customer else ""),
                _cell(customer.phone if customer else ""),
                _cell(order.address or ""),
                _cell("; ".join(f"{line.quantity} x {line.name}" for line in order.lines)),
                str(to_major(order.total, order.currency)),
                order.currency,
                payment_status(order).value,
                order.fulfilment.value,
                _cell(order.courier or ""),
                _cell(order.tracking_url or order.tracking_number or ""),
            )
        )
    return out.getvalue()


def _date(at: int) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M")


def _cell(text: str | None) -> str:
    """A customer's text never becomes a formula in the merchant's spreadsheet (CSV
    injection): a leading =, +, - or @ is quoted with an apostrophe."""
    value = text or ""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
