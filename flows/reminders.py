"""Reminders as data: the merchant's rules, what a step asks the schedule to do, and what the
machine knows about a customer's reminders when it decides.

The machine never waits. A step that leaves a customer with an unpaid link (or, when the
merchant turns it on, a filled cart) asks for a reminder at a time (`ScheduleReminder`); storage
keeps at most one pending reminder per customer and slot, so asking again moves it. When its
time comes the scheduler turns it into a `ReminderDue` event in the customer's ordered lane,
and the machine decides then, from the state as it is, whether anything is worth saying.

WhatsApp's rules: free-form messages only within 24 hours of the customer's last message; after
that only an approved template (`[templates] payment_reminder`), and nothing at all without one.
Any message from the customer, a payment, or a cancelled order cancels every pending reminder;
`stop` turns them off for the customer, `start` back on, and Meta's marketing opt-out
(`user_preferences` webhook) turns them off until the customer resumes.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class ReminderSlot(StrEnum):
    """A customer has at most one pending reminder per slot."""

    PAYMENT_FIRST = "payment_first"  # soon after the link (default 45 minutes)
    PAYMENT_SECOND = "payment_second"  # late in the window (default 20 h after the last message)
    CART = "cart"  # a filled cart never checked out (off by default)


class StoppedBy(StrEnum):
    CUSTOMER = "customer"  # typed `stop`
    MARKETING_OPT_OUT = "marketing_opt_out"  # Meta's "stop marketing messages"


class ReminderRules(BaseModel):
    """`[reminders]` in config.toml. Minutes and hours count from the moment named; 0 turns a
    reminder off. Every reminder but a payment template lands inside the 24-hour window."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # After the payment link was sent.
    payment_first_after_minutes: Annotated[int, Field(ge=0, le=23 * 60)] = 45
    # After the customer's last message, while the window is still open.
    payment_second_after_hours: Annotated[int, Field(ge=0, le=23)] = 20
    # After the last message that changed a cart that was then left (0: no cart nudge).
    cart_nudge_after_minutes: Annotated[int, Field(ge=0, le=23 * 60)] = 0
    # How many reminders a customer gets at most before they write to us again.
    max_unanswered: Annotated[int, Field(ge=0, le=5)] = 2


@dataclass(frozen=True, slots=True)
class ReminderFacts:
    """What storage knows about a customer's reminders, loaded with the conversation."""

    last_inbound_at: int | None = None  # the customer's last message (the 24-hour window)
    stopped_by: StoppedBy | None = None  # None: reminders are on
    sent_since_inbound: int = 0  # reminders sent since the customer last wrote
    pending: int = 0  # reminders waiting to come due (none: nothing to cancel)


class _Change(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScheduleReminder(_Change):
    """Make the slot's pending reminder due at `due_at` (replacing one already pending)."""

    kind: Literal["schedule_reminder"] = "schedule_reminder"
    slot: ReminderSlot
    due_at: int  # Unix seconds
    order_id: str | None = None


class CancelReminders(_Change):
    """Cancel every pending reminder of the customer."""

    kind: Literal["cancel_reminders"] = "cancel_reminders"
    reason: str


class SetReminders(_Change):
    """Turn the customer's reminders on (`stopped_by` None) or off."""

    kind: Literal["set_reminders"] = "set_reminders"
    stopped_by: StoppedBy | None


class ReminderOutcome(_Change):
    """What became of a reminder that fired: sent, or skipped and why."""

    kind: Literal["reminder_outcome"] = "reminder_outcome"
    reminder_id: int
    sent: bool
    note: str


ReminderChange = Annotated[
    ScheduleReminder | CancelReminders | SetReminders | ReminderOutcome,
    Field(discriminator="kind"),
]
