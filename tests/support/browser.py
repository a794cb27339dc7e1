"""What the browser tests share: the real app in sandbox mode on a loopback port, and Debian's
Chromium driven by playwright (the Python package only; never `playwright install`)."""

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import create_app
from bot.sandbox import sandbox_settings
from bot.settings import load_settings
from bot.shop_config import load_shop_config
from storage.migrate import migrate
from tests.fixtures_path import REPO_ROOT
from tests.support.ports import free_port

try:
    from playwright.async_api import BrowserContext, async_playwright
except ImportError:  # the reason is given by `missing`
    async_playwright = None  # type: ignore[assignment]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 15_000


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if async_playwright is None:
        return "playwright is not installed: pip install playwright (no browser download needed)"
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        return f"chromium not installed at {CHROMIUM}: apt-get install -y chromium"
    return None


@asynccontextmanager
async def sandbox_shop(tmp_path: Path) -> AsyncIterator[str]:
    """The real app, sandbox mode, on a free loopback port with a fresh SQLite file; its URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "BOT_CONFIG": str(REPO_ROOT / "config.toml"),
        # 127.0.0.1 rather than localhost: the site listens on IPv4 loopback only.
        "PUBLIC_BASE_URL": base,
    }
    settings = sandbox_settings(load_settings(env))
    await migrate(settings.database_url)
    runner = web.AppRunner(create_app(settings, load_shop_config(settings.bot_config)))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield base
    finally:
        await runner.cleanup()


@asynccontextmanager
async def chromium(tmp_path: Path) -> AsyncIterator["BrowserContext"]:
    """Headless Chromium with a fresh profile; skips the test, saying why, where it is missing."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 860},
        )
        context.set_default_timeout(WAIT_MS)
        try:
            yield context
        finally:
            await context.close()
