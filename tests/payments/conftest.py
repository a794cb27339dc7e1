"""Fixtures for the payment provider tests."""

from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aioresponses import aioresponses
from razorpay_corpus import make_provider

from bot.payments.razorpay import RazorpayProvider


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    # Nothing passes through: a request the test did not expect fails loudly.
    with aioresponses() as mock:
        yield mock


@pytest.fixture
def provider(session: aiohttp.ClientSession) -> RazorpayProvider:
    return make_provider(session)
