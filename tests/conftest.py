from pathlib import Path

import pytest

from bot.shop_config import load_shop_config
from flows.catalog import ShopConfig

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def shop_config() -> ShopConfig:
    """The sample shop a merchant starts from: the repository's own config.toml."""
    return load_shop_config(REPO / "config.toml")
