"""The provider's own answer about one order (`PaymentCheck`), turned into the payment event a
webhook would have produced, so a confirmation has one path whichever source comes first.

The event is recorded under a key built from the answer itself: the callback page and the
reconciliation sweep asking about the same payment record it once, and the state machine
treats a later webhook for an order already paid as nothing new.
"""

from bot.payments.base import PaymentCheck
from flows.events import (
    PaymentCaptured,
    PaymentEvent,
    PaymentFailed,
    PaymentLinkCancelled,
    PaymentLinkExpired,
)

__all__ = ["check_dedupe_key", "check_event"]


def check_event(check: PaymentCheck) -> PaymentEvent | None:
    """The payment event this answer amounts to; None while the payment is still pending."""
    match check.state:
        case "paid":
            return PaymentCaptured(
                order_id=check.order_id,
                link_id=check.link_id,
                payment_id=check.payment_id or "",
                currency=check.currency,
                # The provider's answer carries what was captured, and the machine checks it
                # against the order's total (as it does a webhook's link amount).
                amount=check.amount_paid,
                amount_paid=check.amount_paid,
            )
        case "expired":
            return PaymentLinkExpired(order_id=check.order_id, link_id=check.link_id)
        case "cancelled":
            return PaymentLinkCancelled(order_id=check.order_id, link_id=check.link_id)
        case "failed":
            return PaymentFailed(order_id=check.order_id, payment_id=check.payment_id or "")
        case "pending":
            return None


def check_dedupe_key(provider: str, check: PaymentCheck) -> str:
    """The same answer, however often and by whom it was asked, is one event."""
    subject = check.payment_id or check.link_id
    return f"check:{provider}:{check.order_id}:{check.state}:{subject}"
