from pathlib import Path

import pytest

from bot.shop_config import load_shop_config
from flows.catalog import ShopConfig

REPO = Path(__file__).resolve().parents[1]

# Every test stays inside the repository: a fresh clone has nothing beside it.
pytest_plugins = ["tests.repository_fence"]


@pytest.fixture
def shop_config() -> ShopConfig:
    """The sample shop a merchant starts from: the repository's own config.toml."""
    return load_shop_config(REPO / "config.toml")
