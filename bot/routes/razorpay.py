"""Razorpay's webhook: the common path (verify, record once per signed event, answer 200)."""

from aiohttp import web

from bot.routes import payment_webhook


async def receive(request: web.Request) -> web.StreamResponse:
    return await payment_webhook.receive(request)
