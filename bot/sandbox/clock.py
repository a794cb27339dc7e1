"""The chat's clock control: move the shop's time forward (1 h, 20 h, 24 h) so a person sees
what time does to a conversation: a reminder arriving, a payment link expiring, WhatsApp's
24-hour window closing. The bot and the stand-ins share the clock, so they agree on the time.
"""

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.keys import REMINDERS
from bot.sandbox.state import SANDBOX

CLOCK_API = "/sandbox/api/clock"
MAX_HOURS = 24 * 7


class Advance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hours: float = Field(gt=0, le=MAX_HOURS)


async def show_clock(request: web.Request) -> web.Response:
    state = request.app[SANDBOX]
    offset = state.fast_forward.offset if state.fast_forward is not None else 0.0
    return web.json_response({"now": int(state.clock()), "ahead_hours": offset / 3600})


async def advance_clock(request: web.Request) -> web.Response:
    state = request.app[SANDBOX]
    if state.fast_forward is None:
        return web.json_response({"error": "this sandbox's clock cannot be moved"}, status=409)
    try:
        advance = Advance.model_validate_json(await request.read())
    except ValidationError as error:
        problems = [f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in error.errors()]
        return web.json_response({"problems": problems}, status=400)
    state.fast_forward.advance(advance.hours * 3600)
    fired = 0
    reminders = request.app.get(REMINDERS)
    if reminders is not None:
        fired = await reminders.fire_due()  # now, rather than at the timer's next look
    return web.json_response(
        {
            "now": int(state.clock()),
            "ahead_hours": state.fast_forward.offset / 3600,
            "reminders_fired": fired,
        }
    )


def add_clock_routes(app: web.Application) -> None:
    app.router.add_get(CLOCK_API, show_clock)
    app.router.add_post(CLOCK_API, advance_clock)
