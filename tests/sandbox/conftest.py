"""The sandbox mounted on a bare aiohttp app, with a tiny recording server standing in for the
bot's webhook routes, so the stand-ins can be tested without the rest of the bot."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.sandbox import SANDBOX, SandboxState, delivery, sandbox_settings, setup_sandbox
from bot.settings import Mode, Settings

NOW = 1_790_000_000


@dataclass
class Captured:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeBot:
    """Records every webhook it gets; answers `status` (200 unless a test says otherwise)."""

    status: int = 200
    received: list[Captured] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(Captured(request.path, dict(request.headers), await request.read()))
        return web.Response(status=self.status, text="ok")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/whatsapp", self.handle)
        app.router.add_post("/webhooks/razorpay", self.handle)
        return app

    def on(self, path: str) -> list[Captured]:
        return [c for c in self.received if c.path == path]


class FakeClock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def settings() -> Settings:
    return sandbox_settings(Settings(bot_mode=Mode.SANDBOX, port=8080))


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery, "BACKOFF_SECONDS", (0.0, 0.0))


@pytest.fixture
async def bot() -> AsyncIterator[tuple[FakeBot, TestServer]]:
    fake = FakeBot()
    server = TestServer(fake.app())
    await server.start_server()
    yield fake, server
    await server.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client(
    settings: Settings, bot: tuple[FakeBot, TestServer], clock: FakeClock, no_backoff: None
) -> AsyncIterator[TestClient[Any, Any]]:
    app = web.Application()
    setup_sandbox(app, settings)
    app[SANDBOX].clock = clock
    async with TestClient(TestServer(app)) as test_client:
        # The self-posts go to the recording bot, not to settings.port.
        app[SANDBOX].bot_url = str(bot[1].make_url("")).rstrip("/")
        yield test_client


@pytest.fixture
def fake_bot(bot: tuple[FakeBot, TestServer]) -> FakeBot:
    return bot[0]


@pytest.fixture
def state(client: TestClient[Any, Any]) -> SandboxState:
    return client.server.app[SANDBOX]


def auth_header(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.whatsapp_access_token.get_secret_value()}"}  # type: ignore[union-attr]


def graph_path(settings: Settings) -> str:
    return f"/sandbox/graph/v25.0/{settings.whatsapp_phone_number_id}/messages"
