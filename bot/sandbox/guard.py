"""What keeps other web sites out of the sandbox, for every `/sandbox` route (and, in the
sandbox, the dashboard at `/admin`).

The sandbox has no login: it trusts whoever can reach it, which should be the person at the
keyboard. Two browser tricks reach further than that:
- DNS rebinding: a page on evil.example re-points its own name at 127.0.0.1 and then reads the
  sandbox as same-origin. Its requests still say `Host: evil.example`, so only names we serve
  are answered (421 otherwise): localhost, the configured HOST and PUBLIC_BASE_URL names, and
  IP addresses, which no rebinding can forge.
- Cross-site requests: any page can make the browser POST to 127.0.0.1 (a `text/plain` fetch
  or a form needs no preflight). Browsers name the page in `Origin`, so a state-changing
  request whose Origin is not this server's own is refused (403). Tools such as curl send no
  Origin and are let through: they are the person at the keyboard.
"""

import ipaddress
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

from bot.logging import get_logger
from bot.settings import Settings

log = get_logger(__name__)

PREFIX = "/sandbox"
# The dashboard too: in the sandbox its password is published ("sandbox"), so a rebinding
# page could otherwise sign in to it.
GUARDED = (PREFIX, "/admin")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WILDCARDS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names to leave out, not to bind

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def host_name(host: str) -> str:
    """`Host` without its port, in lower case: `[::1]:8080` -> `::1`, `Shop:80` -> `shop`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def allowed_host_names(settings: Settings) -> frozenset[str]:
    names = {"localhost"}
    if settings.host not in _WILDCARDS:
        names.add(host_name(settings.host))
    if settings.public_base_url:
        names.add((urlsplit(settings.public_base_url).hostname or "").lower())
    return frozenset(names - {""})


def sandbox_guard(settings: Settings) -> Middleware:
    names = allowed_host_names(settings)
    public = urlsplit(settings.public_base_url or "")
    public_origin = f"{public.scheme}://{public.netloc}".lower() if public.netloc else None

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(GUARDED):
            return await handler(request)
        host = host_name(request.host)
        if host not in names and not _is_ip(host):
            log.warning("sandbox request for a host it does not serve refused", host=host[:100])
            raise web.HTTPMisdirectedRequest(text="this sandbox does not serve that host name")
        origin = request.headers.get("Origin")
        if request.method not in SAFE_METHODS and origin is not None:
            own = f"{request.scheme}://{request.host}".lower()
            if origin.lower() not in {own, public_origin}:
                log.warning("cross-site sandbox request refused", origin=origin[:100])
                raise web.HTTPForbidden(text="cross-site requests to the sandbox are refused")
        return await handler(request)

    return guard
