"""The order as a merchant reads it in an email, a Telegram message or a WhatsApp text."""

from typing import Any

from flows.money import UnknownCurrency, format_money

_HEADLINES = {
    "order.paid": "New paid order",
    "order.shipped": "Shipped",
    "order.delivered": "Delivered",
    "order.cancelled": "Cancelled",
    "order.refunded": "Refunded",
    "order.placed": "New order to pack, cash on delivery",
    "order.flagged": "Payment to check (it does not match the order):",
    "order.late_payment_refunded": "Paid after it was cancelled, refunded automatically:",
}


def order_summary(event_type: str, data: dict[str, Any], dashboard_url: str | None) -> str:
    """Plain text: what was bought, by whom, where it goes, and where to manage it."""
    headline = _HEADLINES.get(event_type, event_type)
    customer = data.get("customer") or {}
    who = " ".join(part for part in (customer.get("name"), _phone(customer.get("phone"))) if part)
    lines = [f"{headline} {data['order_id']}: {_money(data)}"]
    refund = data.get("refund") or {}
    if refund.get("amount"):
        lines.append(f"Refund: {_amount(int(refund['amount']), data)}")
    tracking = data.get("tracking") or {}
    shipped_with = " ".join(
        str(tracking[part]) for part in ("courier", "number", "url") if tracking.get(part)
    )
    if shipped_with:
        lines.append(f"Tracking: {shipped_with}")
    lines += [
        f"• {item['quantity']} × {item['name']} ({_amount(int(item['unit_price']), data)})"
        for item in data.get("items", [])
    ]
    if who:
        lines.append(f"Customer: {who}")
    lines.append(f"Address: {data.get('address') or '(none given)'}")
    payment = data.get("payment") or {}
    if payment.get("payment_id"):
        lines.append(f"Payment: {payment['payment_id']}")
    if data.get("payment_status") == "cod_due":
        lines.append(f"Collect {_money(data)} in cash on delivery")
    if dashboard_url:
        lines.append(f"Open: {dashboard_url}")
    return "\n".join(lines)


def subject(event_type: str, data: dict[str, Any]) -> str:
    return f"{_HEADLINES.get(event_type, event_type)} {data['order_id']} ({_money(data)})"


def dashboard_link(public_base_url: str | None, order_id: str) -> str | None:
    return f"{public_base_url}/admin/orders/{order_id}" if public_base_url else None


def _money(data: dict[str, Any]) -> str:
    return _amount(int(data["total"]), data)


def _amount(minor: int, data: dict[str, Any]) -> str:
    currency = str(data.get("currency", "INR"))
    try:
        return format_money(minor, currency)
    except UnknownCurrency:
        return f"{minor} minor units of {currency}"


def _phone(phone: object) -> str | None:
    return f"+{phone}" if isinstance(phone, str) and phone.isdigit() else None
