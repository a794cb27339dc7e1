"""Stripe's webhook: the common path (verify, record once per event id, answer 200, work after)."""

from aiohttp import web

from bot.routes import payment_webhook


async def receive(request: web.Request) -> web.StreamResponse:
    return await payment_webhook.receive(request)
