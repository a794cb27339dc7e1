from aiohttp import web

from bot.keys import STORE
from bot.logging import get_logger

log = get_logger(__name__)


async def healthz(request: web.Request) -> web.Response:
    try:
        await request.app[STORE].ping()
    except Exception as error:
        log.error("health check failed", error=str(error))
        return web.json_response({"status": "database unavailable"}, status=503)
    return web.json_response({"status": "ok"})
