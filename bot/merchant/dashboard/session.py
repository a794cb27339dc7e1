"""The dashboard's sessions: signed cookies, CSRF tokens and the password check.

A session lives in its cookie only, `<id>.<expires>.<signed-in>.<HMAC>`, so every process of
the shop accepts every other's cookies without sharing a table. The HMAC key is derived from
ADMIN_PASSWORD (PBKDF2, once per process): changing the password ends every session. Before
signing in a browser holds an anonymous session, so the login form has a CSRF token too; signing
in issues a new session id (no session fixation).

The CSRF token of a form is an HMAC of the session id: tied to the session, never stored.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from bot.clock import Clock

SESSION_SECONDS = 12 * 60 * 60  # a signed-in session: one working day
ANONYMOUS_SECONDS = 60 * 60  # the login form's session
_KDF_SALT = b"whatsapp-shop-bot/admin-session/v1"
_KDF_ROUNDS = 100_000


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    expires_at: int
    signed_in: bool


class Signer:
    def __init__(self, password: str) -> None:
        self._password = password.encode()
        self._password_digest = hashlib.sha256(self._password).digest()
        self._derived: bytes | None = None

    @property
    def _key(self) -> bytes:
        """Derived on first use (a tenth of a second of PBKDF2), not when the app is built."""
        if self._derived is None:
            self._derived = hashlib.pbkdf2_hmac("sha256", self._password, _KDF_SALT, _KDF_ROUNDS)
        return self._derived

    def password_matches(self, given: str) -> bool:
        """Constant time: digests of equal length are compared, whatever was typed."""
        digest = hashlib.sha256(given.encode()).digest()
        return hmac.compare_digest(digest, self._password_digest)

    def _mac(self, purpose: str, text: str) -> str:
        return hmac.new(self._key, f"{purpose}:{text}".encode(), hashlib.sha256).hexdigest()

    # --- session cookies ------------------------------------------------------------------------

    def new_session(self, now: int, *, signed_in: bool) -> Session:
        lifetime = SESSION_SECONDS if signed_in else ANONYMOUS_SECONDS
        return Session(secrets.token_hex(16), now + lifetime, signed_in)

    def cookie_value(self, session: Session) -> str:
        body = f"{session.id}.{session.expires_at}.{int(session.signed_in)}"
        return f"{body}.{self._mac('session', body)}"

    def read_cookie(self, value: str | None, now: int) -> Session | None:
        """The session a cookie carries; None when it is missing, tampered with, made with
        another password, or expired."""
        if not value or len(value) > 200:
            return None
        body, _, mac = value.rpartition(".")
        if not hmac.compare_digest(mac.encode(), self._mac("session", body).encode()):
            return None
        parts = body.split(".")
        if len(parts) != 3:
            return None
        session_id, expires, flag = parts
        if not expires.isdigit() or flag not in ("0", "1") or int(expires) <= now:
            return None
        return Session(session_id, int(expires), flag == "1")

    # --- CSRF and flash messages ----------------------------------------------------------------

    def csrf_token(self, session: Session) -> str:
        return self._mac("csrf", session.id)

    def csrf_matches(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(
            str(token).encode(), self.csrf_token(session).encode()
        )

    def sign(self, purpose: str, text: str) -> str:
        return f"{text}.{self._mac(purpose, text)}"

    def unsign(self, purpose: str, value: str | None) -> str | None:
        if not value:
            return None
        text, _, mac = value.rpartition(".")
        if not hmac.compare_digest(mac.encode(), self._mac(purpose, text).encode()):
            return None
        return text


@dataclass(frozen=True, slots=True)
class Dashboard:
    signer: Signer
    clock: Clock
    shop: str
    sandbox_hint: str | None  # shown on the sign-in page of a sandbox with the default password

    def now(self) -> int:
        return int(self.clock())
