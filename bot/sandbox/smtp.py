"""A minimal SMTP server on loopback: enough of RFC 5321 (EHLO, AUTH PLAIN/LOGIN, MAIL, RCPT,
DATA, RSET, NOOP, QUIT) for the bot's email channel to talk to it, recording each message.
The sandbox runs it so a merchant can watch the order emails; tests use it as the stand-in.
No TLS: the client only insists on STARTTLS to servers off this machine."""

import asyncio
import base64
import contextlib
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

MAX_LINE = 10_000
MAX_MESSAGE = 1_000_000


@dataclass(frozen=True, slots=True)
class ReceivedEmail:
    sender: str
    recipients: tuple[str, ...]
    login: str | None
    message: EmailMessage


@dataclass
class SmtpStandin:
    received: list[ReceivedEmail] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen; returns the port."""
        self._server = await asyncio.start_server(self._session, host, port, limit=MAX_LINE)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def for_order(self, order_id: str) -> list[str]:
        return [
            f"email to {', '.join(e.recipients)}: {e.message['Subject']}"
            for e in self.received
            if order_id in str(e.message["Subject"])
        ]

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _Conversation(self, reader, writer).run()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


class _Conversation:
    def __init__(
        self, standin: SmtpStandin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._standin = standin
        self._reader = reader
        self._writer = writer
        self._login: str | None = None
        self._reset()

    def _reset(self) -> None:
        self._sender = ""
        self._recipients: list[str] = []

    async def _say(self, *lines: str) -> None:
        for line in lines:
            self._writer.write(line.encode() + b"\r\n")
        await self._writer.drain()

    async def _line(self) -> str:
        raw = await self._reader.readline()
        if not raw:
            raise ConnectionError("client went away")
        return raw.decode("utf-8", "replace").rstrip("\r\n")

    async def run(self) -> None:
        await self._say("220 sandbox ESMTP ready")
        while True:
            line = await self._line()
            verb, _, rest = line.partition(" ")
            verb = verb.upper()
            if verb == "QUIT":
                await self._say("221 bye")
                return
            await self._command(verb, rest)

    async def _command(self, verb: str, rest: str) -> None:
        match verb:
            case "EHLO":
                await self._say("250-sandbox", "250-AUTH PLAIN LOGIN", "250-8BITMIME", "250 OK")
            case "HELO" | "NOOP":
                await self._say("250 OK")
            case "RSET":
                self._reset()
                await self._say("250 OK")
            case "AUTH":
                await self._auth(rest)
            case "MAIL":
                self._reset()
                self._sender = _address(rest)
                await self._say("250 OK")
            case "RCPT":
                self._recipients.append(_address(rest))
                await self._say("250 OK")
            case "DATA":
                await self._data()
            case _:
                await self._say("502 not implemented")

    async def _auth(self, rest: str) -> None:
        mechanism, _, initial = rest.partition(" ")
        if mechanism.upper() == "PLAIN":
            if not initial:
                await self._say("334 ")
                initial = await self._line()
            self._login = _decoded(initial).split("\0")[1] if "\0" in _decoded(initial) else "?"
        elif mechanism.upper() == "LOGIN":
            await self._say("334 VXNlcm5hbWU6")
            self._login = _decoded(await self._line())
            await self._say("334 UGFzc3dvcmQ6")
            await self._line()
        else:
            await self._say("504 unknown mechanism")
            return
        await self._say("235 accepted")

    async def _data(self) -> None:
        if not self._recipients:
            await self._say("503 no recipients")
            return
        await self._say("354 end with <CRLF>.<CRLF>")
        chunks: list[bytes] = []
        size = 0
        while True:
            raw = await self._reader.readline()
            if not raw:
                raise ConnectionError("client went away")
            if raw in (b".\r\n", b".\n"):
                break
            line = raw[1:] if raw.startswith(b"..") else raw
            size += len(line)
            if size > MAX_MESSAGE:
                await self._say("552 too big")
                return
            chunks.append(line)
        message = message_from_bytes(b"".join(chunks), policy=policy.default)
        assert isinstance(message, EmailMessage)  # noqa: S101 -- policy.default makes these
        self._standin.received.append(
            ReceivedEmail(self._sender, tuple(self._recipients), self._login, message)
        )
        self._reset()
        await self._say("250 OK queued")


def _address(rest: str) -> str:
    start, end = rest.find("<"), rest.find(">")
    return rest[start + 1 : end] if 0 <= start < end else rest.split(":", 1)[-1].strip()


def _decoded(text: str) -> str:
    try:
        return base64.b64decode(text).decode("utf-8", "replace")
    except ValueError:
        return ""
