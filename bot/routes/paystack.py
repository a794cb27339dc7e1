"""Paystack's webhook. `charge.success` is not trusted as it stands: it is recorded together
with a job that asks `GET /transaction/verify` (bot.payments.paystack_jobs), in one
transaction, and answered 200; the rest follows the common path."""

import json

from aiohttp import web

from bot.keys import JOBS, RUNNER, STORE
from bot.payments.base import ProviderWebhook
from bot.payments.paystack import CHARGE_SUCCESS, charge_reference
from bot.payments.paystack_jobs import VERIFY_JOB
from bot.routes import payment_webhook
from storage.repository import NewEvent


async def receive(request: web.Request) -> web.StreamResponse:
    return await payment_webhook.receive(request, record=_verify_later)


async def _verify_later(request: web.Request, hook: ProviderWebhook, new: NewEvent) -> bool | None:
    if hook.event_type != CHARGE_SUCCESS:
        return None
    reference = charge_reference(new.raw)
    store = request.app[STORE]
    payload = json.dumps({"reference": reference})
    now = int(request.app[RUNNER].now())
    job_id = await store.record_event_and_job(new, VERIFY_JOB, payload, now)
    if job_id is not None:
        job = await store.get_job(job_id)
        if job is not None:
            request.app[JOBS].submit(job)
    return job_id is not None
