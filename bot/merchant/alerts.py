"""What the dashboard and the command line do with merchant alerts: read an order's delivery
log, and send a delivery again (the same body and `webhook-id`, on a fresh schedule). A
process with an `AlertWorker` pokes it afterwards; any other process leaves the delivery to
the running shop's timer, which looks at least every `TIMER_MAX_SECONDS`."""

from storage.repository import FormUse, MerchantAlert, Store


async def delivery_log(store: Store, order_id: str) -> list[MerchantAlert]:
    return await store.order_alerts(order_id)


async def resend(store: Store, alert_id: int, now: int) -> MerchantAlert | None:
    """Queue the delivery again, due now; None when there is no such delivery."""
    return await store.resend_alert(alert_id, now)


async def resend_once(store: Store, form_token: str, alert_id: int, now: int) -> FormUse:
    """`resend` for a form that may arrive twice (a double click): once per `form_token`."""
    return await store.resend_alert_once(form_token, alert_id, now)
