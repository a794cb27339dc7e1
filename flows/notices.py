"""What the customer is told when the merchant moves their order: free-form text inside the
WhatsApp 24-hour window, the merchant's approved template outside it, or nothing (and why).

Templates are named in config.toml under `[templates]`; each gets its body parameters in this
order (the template's `{{1}}`, `{{2}}`, …):

- `order_shipped`: order id, courier ("-" when none), tracking URL or number ("-" when none)
- `order_delivered`: order id
- `order_cancelled`: order id
- `order_refunded`: order id, amount refunded (e.g. "₹12.50")
- `payment_reminder`: order id, amount to pay (e.g. "₹498.00"), payment link URL
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from flows.lifecycle import Notice, window_open
from flows.messages import OutgoingMessage, SendTemplate, SendText
from flows.money import DEFAULT_LOCALE, format_money
from flows.orders import Order
from flows.texts import Texts


class TemplateRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,512}$")]
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(_[A-Za-z]{2,4})?$")] = "en"


class Templates(BaseModel):
    """The approved templates the merchant named, by notice; None: no template for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_shipped: TemplateRef | None = None
    order_delivered: TemplateRef | None = None
    order_cancelled: TemplateRef | None = None
    order_refunded: TemplateRef | None = None
    # A reminder to pay once the 24-hour window closed (flows/machine.py, reminders).
    payment_reminder: TemplateRef | None = None


@dataclass(frozen=True, slots=True)
class NotTold:
    """The customer could not be told; `reason` is recorded in the order's history."""

    reason: str


@dataclass(frozen=True, slots=True)
class NoticeContext:
    """What a notice needs besides the order: the wording, the templates, the window."""

    texts: Texts
    templates: Templates
    last_inbound_at: int | None
    now: int
    locale: str = DEFAULT_LOCALE  # how amounts are written (the shop's `[shop] locale`)
    # The wording in the shop's other languages, by code (`ShopConfig.languages`).
    translations: Mapping[str, Texts] = field(default_factory=dict)


def customer_notice(
    notice: Notice,
    order: Order,
    context: NoticeContext,
    amount: int = 0,
    language: str | None = None,
) -> OutgoingMessage | NotTold:
    """`amount`: the refund being told about (paise), for `Notice.REFUNDED`. `language`: the
    customer's, for the free-form text (a template is in the language it was approved in)."""
    if window_open(context.last_inbound_at, context.now):
        texts = context.translations.get(language or "", context.texts)
        body = _text(notice, order, texts, _money(order, amount, context))
        return SendText(body=body, preview_url=True)
    template: TemplateRef | None = getattr(context.templates, notice.value)
    if template is None:
        return NotTold(
            f"outside the 24-hour window and no [templates] {notice.value} in config.toml"
        )
    return SendTemplate(
        name=template.name,
        language=template.language,
        body_parameters=_parameters(notice, order, _money(order, amount, context)),
    )


def _tracking(order: Order) -> str | None:
    return order.tracking_url or order.tracking_number


def _money(order: Order, amount: int, context: NoticeContext) -> str:
    return format_money(amount, order.currency, context.locale)


def _text(notice: Notice, order: Order, texts: Texts, amount: str) -> str:
    match notice:
        case Notice.SHIPPED:
            lines = [texts.shipped_notice.format(order_id=order.id)]
            if order.courier:
                lines.append(texts.shipped_courier.format(courier=order.courier))
            if tracking := _tracking(order):
                lines.append(texts.shipped_tracking.format(tracking=tracking))
            return "\n".join(lines)
        case Notice.DELIVERED:
            return texts.delivered_notice.format(order_id=order.id)
        case Notice.CANCELLED:
            return texts.cancelled_notice.format(order_id=order.id)
        case Notice.REFUNDED:
            return texts.refunded_notice.format(order_id=order.id, amount=amount)


def _parameters(notice: Notice, order: Order, amount: str) -> tuple[str, ...]:
    match notice:
        case Notice.SHIPPED:
            return (order.id, order.courier or "-", _tracking(order) or "-")
        case Notice.REFUNDED:
            return (order.id, amount)
        case Notice.DELIVERED | Notice.CANCELLED:
            return (order.id,)
