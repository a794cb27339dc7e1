"""`GET /healthz`: is the database answering, and is anything set aside for the merchant?"""

from aiohttp import web

from bot.keys import RECONCILER, STORE
from bot.logging import get_logger

log = get_logger(__name__)

DEAD_LETTERS_SHOWN = 100


async def healthz(request: web.Request) -> web.Response:
    store = request.app[STORE]
    try:
        await store.ping()
        dead_letters = await store.dead_letters(DEAD_LETTERS_SHOWN)
        payments_warning = await request.app[RECONCILER].webhook_warning()
    except Exception as error:
        # The process keeps serving: webhooks answer 500 (the providers retry) and the
        # workers resume from the database once it is back.
        log.warning("health check: database unreachable", error=str(error))
        return web.json_response({"status": "degraded", "database": "unreachable"}, status=503)
    body: dict[str, object] = {"status": "ok", "database": "ok"}
    if dead_letters:
        # Still healthy (the shop works), but something needs the merchant's eye.
        body["set_aside"] = len(dead_letters)
        body["set_aside_hint"] = "python -m bot set-aside lists them"
    if payments_warning is not None:
        # Payments are still confirmed (by polling), so the shop is healthy; the merchant
        # should fix the webhook all the same: confirmations come minutes late without it.
        # The sweep logs it too, once per polled confirmation.
        body["payments_warning"] = payments_warning
    return web.json_response(body)
