"""The aiohttp edge of the shop bot: webhooks, API clients, workers, settings and CLI."""
