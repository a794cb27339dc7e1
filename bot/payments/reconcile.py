"""No missed payment: ask the provider's own API about orders still awaiting payment.

Two callers: the customer's browser coming back to /payments/callback (ask now), and the
reconciliation sweep, a scheduled pass that asks about every order awaiting payment, backing
off with its age and stopping once its link has expired (plus a margin, and one last look for
a payment made just before the expiry). Either way the answer becomes the payment event a
webhook would have produced (`bot.payments.checks`), recorded under a key of its own and run
by the runner, so a payment is confirmed once whichever of webhook, callback and sweep comes
first.

On a database several processes share, the sweep runs under a claim (an advisory lock on
Postgres): one process sweeps at a time, and what is due is read from the database, so a
restart or another process carries on where the last sweep stopped.
"""

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

from bot.clock import Clock
from bot.logging import get_logger
from bot.payments.base import PaymentCheck, PaymentProvider, PaymentProviderError
from bot.payments.checks import check_dedupe_key, check_event
from flows.events import PaymentCaptured
from storage.errors import StorageUnavailableError, StoreClosedError
from storage.repository import (
    Lane,
    NewEvent,
    PaymentCheckDue,
    PaymentSignals,
    Store,
    StoredEvent,
)

log = get_logger(__name__)

SWEEP_KEY = "~payment-sweep"  # claimed in the jobs lane, whose other keys are order ids
SWEEP_SECONDS = 30.0  # how often each process offers to sweep
SWEEP_BATCH = 100  # orders asked about per pass at most; the rest wait for the next pass
CALLBACK_RECHECK_SECONDS = 30  # a callback's order is asked about again this soon at the latest
DEFAULT_LINK_SECONDS = 24 * 60 * 60  # for an order whose link has no expiry on record
WEBHOOK_QUIET_SECONDS = 10 * 60  # a polled confirmation with no webhook this long after it


@dataclass(frozen=True, slots=True)
class CheckSchedule:
    """When to ask about an order awaiting payment, measured from when it was placed: after
    1, 2, 5, 10 and 20 minutes, then every 30, until its link expired; then once more,
    `margin` after the expiry, to catch a payment made in the link's last moments."""

    first: tuple[int, ...] = (60, 120, 300, 600, 1200)
    every: int = 1800
    margin: int = 600
    min_gap: int = 30  # never sooner than this after the previous check (a late sweep)

    def nth(self, created_at: int, n: int) -> int:
        """When the n-th check (from 0) is due, before clamping to the final one."""
        if n < len(self.first):
            return created_at + self.first[n]
        return created_at + self.first[-1] + self.every * (n - len(self.first) + 1)

    def next_check_at(
        self, created_at: int, expires_at: int | None, done: int, now: int
    ) -> int | None:
        """When to ask next after `done` checks, or None when the last one was the final."""
        final = (expires_at or created_at + DEFAULT_LINK_SECONDS) + self.margin
        if done > 0 and self.nth(created_at, done - 1) >= final:
            return None
        return max(min(self.nth(created_at, done), final), now + self.min_gap)


# The variable whose value must equal what the provider signs webhooks with.
_SECRET_VARIABLES = {
    "razorpay": "RAZORPAY_WEBHOOK_SECRET",
    "stripe": "STRIPE_WEBHOOK_SECRET",
    "paystack": "PAYSTACK_SECRET_KEY",  # Paystack signs with the API secret key itself
}


def webhook_warning(
    signals: PaymentSignals, now: int, provider: str, public_base_url: str | None = None
) -> str | None:
    """What to tell the merchant when payments are confirmed by polling but no webhook came
    since (for a while): the signs of a webhook never set up, disabled, or a wrong secret."""
    polled = signals.last_polled_confirmation_at
    if polled is None or now < polled + WEBHOOK_QUIET_SECONDS:
        return None
    webhook = signals.last_webhook_at
    if webhook is not None and webhook >= polled:
        return None
    variable = _SECRET_VARIABLES.get(provider, f"{provider.upper()}_WEBHOOK_SECRET")
    base = (public_base_url or "<PUBLIC_BASE_URL>").rstrip("/")
    seen = "no payment webhook has ever arrived" if webhook is None else "no payment webhook "
    if webhook is not None:
        seen += "has arrived since"
    return (
        f"payments are being confirmed by polling; the {provider} webhook seems missing or its "
        f"secret wrong: a payment was confirmed by asking {provider} and {seen}. Check in the "
        f"{provider} dashboard that a webhook points at {base}/webhooks/{provider}, "
        f"is active (failed deliveries disable it after a day) and has the payment events "
        f"ticked, and that its secret equals {variable}."
    )


class PaymentReconciler:
    def __init__(
        self,
        *,
        store: Store,
        provider: PaymentProvider,
        clock: Clock,
        on_event: Callable[[StoredEvent], None],
        schedule: CheckSchedule | None = None,
        public_base_url: str | None = None,
    ) -> None:
        self._store = store
        self._provider = provider
        self._clock = clock
        self._on_event = on_event
        self.schedule = schedule or CheckSchedule()
        self._public_base_url = public_base_url
        self._task: asyncio.Task[None] | None = None
        self._warned_about: int | None = None  # the polled confirmation last warned about

    @property
    def provider_name(self) -> str:
        return self._provider.name

    async def webhook_warning(self) -> str | None:
        """The merchant's warning about a missing webhook, if payments say so (for /healthz)."""
        signals = await self._store.payment_signals()
        return webhook_warning(
            signals, int(self._clock()), self._provider.name, self._public_base_url
        )

    async def log_webhook_warning(self) -> None:
        """Log the warning once per polled confirmation that raised it (at start, and after
        sweeps), so the log says it without saying it every half minute."""
        signals = await self._store.payment_signals()
        warning = webhook_warning(
            signals, int(self._clock()), self._provider.name, self._public_base_url
        )
        if warning is None or signals.last_polled_confirmation_at == self._warned_about:
            return
        self._warned_about = signals.last_polled_confirmation_at
        log.warning(
            warning,
            last_webhook_at=signals.last_webhook_at,
            last_polled_confirmation_at=signals.last_polled_confirmation_at,
        )

    async def check(self, order_id: str, link_id: str) -> PaymentCheck:
        """Ask the provider about one order and record what its answer means, once. Raises
        PaymentProviderError when the provider cannot answer."""
        check = await self._provider.check_payment(link_id, order_id)
        await self._record(check)
        return check

    async def request_check(self, order_id: str) -> None:
        """Durably ask for a check soon (the callback does, before it asks itself)."""
        now = int(self._clock())
        await self._store.request_payment_check(order_id, now + CALLBACK_RECHECK_SECONDS)

    async def _record(self, check: PaymentCheck) -> None:
        event = check_event(check)
        if event is None:
            return
        now = int(self._clock())
        ids = await self._store.record_events(
            [
                NewEvent(
                    source="check",
                    dedupe_key=check_dedupe_key(self._provider.name, check),
                    raw=json.dumps({"provider": self._provider.name, **asdict(check)}),
                    event=event,
                    order_id=check.order_id,
                )
            ],
            now,
        )
        if not ids:
            return  # the same answer was recorded before (the callback and the sweep raced)
        log.info(
            "payment state recorded from the provider's answer",
            order_id=check.order_id,
            state=check.state,
            payment_id=check.payment_id,
        )
        if isinstance(event, PaymentCaptured):
            await self._note_polled_confirmation(now)
        stored = await self._store.get_event(ids[0])
        if stored is not None:
            self._on_event(stored)

    async def _note_polled_confirmation(self, now: int) -> None:
        try:
            await self._store.note_payment_signal("polled_confirmation", now)
        except Exception:
            log.warning("could not note a polled payment confirmation", exc_info=True)

    # --- the sweep ------------------------------------------------------------------------------

    async def sweep_once(self) -> int:
        """One pass: ask about every order whose check is due. Returns how many were asked
        about (0 when another process holds the sweep)."""
        async with self._store.claim(Lane.JOBS, SWEEP_KEY) as claimed:
            if not claimed:
                return 0
            now = int(self._clock())
            due = await self._store.payment_checks_due(now, self.schedule.first[0], SWEEP_BATCH)
            for item in due:
                await self._check_due(item)
            return len(due)

    async def _check_due(self, item: PaymentCheckDue) -> None:
        bound = log.bind(order_id=item.order_id, link_id=item.link_id, checks=item.checks)
        try:
            check = await self.check(item.order_id, item.link_id)
        except PaymentProviderError as error:
            bound.warning("payment check failed", error=str(error), transient=error.is_transient)
            state = "error"
            next_at = self._after_error(item, error)
        else:
            state = check.state
            next_at = (
                None
                if state != "pending"
                else self.schedule.next_check_at(
                    item.created_at, item.link_expires_at, item.checks + 1, int(self._clock())
                )
            )
            bound.info("payment checked", state=state, next_check_at=next_at)
        await self._store.record_payment_check(item.order_id, state, int(self._clock()), next_at)

    def _after_error(self, item: PaymentCheckDue, error: PaymentProviderError) -> int | None:
        now = int(self._clock())
        scheduled = self.schedule.next_check_at(
            item.created_at, item.link_expires_at, item.checks + 1, now
        )
        if scheduled is not None or not error.is_transient:
            return scheduled
        # The final look failed for a passing reason: try again, for up to a day after it.
        expires = item.link_expires_at or item.created_at + DEFAULT_LINK_SECONDS
        give_up = expires + self.schedule.margin + DEFAULT_LINK_SECONDS
        return now + self.schedule.every if now < give_up else None

    def start(self, interval: float = SWEEP_SECONDS) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(interval), name="payment-sweep")

    async def _loop(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep_once()
                await self.log_webhook_warning()
            except (StorageUnavailableError, StoreClosedError) as error:
                log.warning("payment sweep skipped: database unavailable", error=str(error))
            except Exception:
                log.exception("payment sweep failed; trying again next time")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
