"""Security headers on every response, from one hook (aiohttp's `on_response_prepare`).

Every response: no MIME sniffing, never framed, no Referer sent to other sites (the payment
callback page sends none at all: its URL carries the payment id and its signature), not stored
by caches unless it says otherwise (static files and the chat page do), and no
`Server: Python/... aiohttp/...` version banner. The rest of the site keeps `same-origin` rather
than `no-referrer` because under `no-referrer` browsers send `Origin: null` with a form's POST,
and the sandbox refuses requests whose origin it cannot tell.
HTML pages get a Content-Security-Policy that allows scripts and styles from our own origin only:
no inline code at all, so an injected `<script>` or `onclick=` does nothing. A page that needs
more (the callback page's inline stylesheet, by hash) sets its own policy; the hook leaves it.
"""

from urllib.parse import urlsplit

from aiohttp import hdrs, web

from bot.keys import SETTINGS

NOSNIFF = "nosniff"
NO_FRAMES = "DENY"
NO_REFERRER = "no-referrer"
SAME_ORIGIN_REFERRER = "same-origin"
NOT_STORED = "no-store"
# For anything that is not a page (JSON, text): nothing may load from it or frame it.
NOT_A_PAGE_POLICY = "default-src 'none'; frame-ancestors 'none'"


def page_policy(*, style_src: str = "'self'", form_action: str = "'self'") -> str:
    """The Content-Security-Policy of an HTML page."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {style_src}",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            f"form-action {form_action}",
            "frame-ancestors 'none'",
        ]
    )


def add_security_headers(app: web.Application) -> None:
    app.on_response_prepare.append(_secure)


async def _secure(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.popall(hdrs.SERVER, None)
    headers[hdrs.X_CONTENT_TYPE_OPTIONS] = NOSNIFF
    headers[hdrs.X_FRAME_OPTIONS] = NO_FRAMES
    headers.setdefault("Referrer-Policy", SAME_ORIGIN_REFERRER)
    if hdrs.CACHE_CONTROL not in headers and not isinstance(response, web.FileResponse):
        headers[hdrs.CACHE_CONTROL] = NOT_STORED
    if hdrs.CONTENT_SECURITY_POLICY not in headers:
        html = response.content_type == "text/html"
        headers[hdrs.CONTENT_SECURITY_POLICY] = (
            page_policy(form_action=_form_targets(request)) if html else NOT_A_PAGE_POLICY
        )


def _form_targets(request: web.Request) -> str:
    """'self', and the public base URL's origin when it differs: a form (the sandbox checkout)
    may redirect there, and browsers hold redirects after a form to form-action too."""
    public = request.app[SETTINGS].public_base_url
    if not public:
        return "'self'"
    parts = urlsplit(public)
    return f"'self' {parts.scheme}://{parts.netloc}"
