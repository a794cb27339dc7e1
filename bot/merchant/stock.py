"""The merchant's stock: what is counted, what is left, and changing it. One service for the
CLI (`python -m bot stock …`), the dashboard and the owner's WhatsApp command (`stock ID 40`).

Which products are counted is the config's choice: a product with `stock = N` in config.toml.
N is only the starting count: it is written to the database the first time the bot starts
with it (`seed_stock`), and from then on the live count is the database's. Changing N in the
config later does not overwrite it: use `set` (the shop counted its shelf) or `add` (a delivery
came in). Units held for orders awaiting payment stay held through either.
"""

from dataclasses import dataclass

from bot.clock import Clock
from flows.catalog import MAX_STOCK, Product, ShopConfig
from storage.errors import UnknownProductError
from storage.repository import FormUse, StockLevel, Store


async def seed_stock(store: Store, shop: ShopConfig, now: int) -> list[str]:
    """Give every counted product without a row its starting count; returns those seeded."""
    starting = {p.id: p.stock for p in shop.products if p.stock is not None}
    if not starting:
        return []
    return await store.seed_stock(starting, now)


@dataclass(frozen=True, slots=True)
class ProductStock:
    product: Product
    level: StockLevel

    @property
    def sold_out(self) -> bool:
        return self.level.available == 0


@dataclass(frozen=True, slots=True)
class StockChange:
    done: bool
    message: str  # what happened, in words, for the CLI, the dashboard and the owner
    stock: ProductStock | None = None
    already: bool = False  # the same dashboard form was sent before: nothing done again


class MerchantStock:
    def __init__(self, *, store: Store, shop: ShopConfig, clock: Clock) -> None:
        self._store = store
        self._shop = shop
        self._clock = clock

    async def list(self) -> list[ProductStock]:
        """Every counted product, in the config's order."""
        levels = {level.product_id: level for level in await self._store.stock_levels()}
        if any(p.stock is not None and p.id not in levels for p in self._shop.products):
            # Counted since the bot last started (or it never has): the starting counts first.
            await seed_stock(self._store, self._shop, self._now())
            levels = {level.product_id: level for level in await self._store.stock_levels()}
        return [
            ProductStock(product, levels[product.id])
            for product in self._shop.products
            if product.stock is not None and product.id in levels
        ]

    def known_id(self, typed: str) -> str:
        """The catalog's id for one typed without regard to case (a phone keyboard capitalises
        the first letter); as typed when none matches, for the refusal to name it."""
        if self._shop.catalog.get(typed) is not None:
            return typed
        lowered = typed.lower()
        return next((p.id for p in self._shop.products if p.id.lower() == lowered), typed)

    async def get(self, product_id: str) -> ProductStock | None:
        return next((item for item in await self.list() if item.product.id == product_id), None)

    async def set(
        self, product_id: str, on_hand: int, *, by: str, once: str | None = None
    ) -> StockChange:
        """The shop has `on_hand` of the product (units held for unpaid orders included).
        `once`: a dashboard form's one-time token; the same token again changes nothing."""
        product, refusal = self._counted(product_id)
        if product is None:
            return StockChange(False, refusal)
        if not 0 <= on_hand <= MAX_STOCK:
            return StockChange(False, f"the count must be from 0 to {MAX_STOCK}, not {on_hand}")
        if once is None:
            level = await self._store.set_stock(product.id, on_hand, by, self._now())
            return self._changed(product, level)
        used = await self._store.set_stock_once(once, product.id, on_hand, by, self._now())
        if used.use is FormUse.ALREADY or used.level is None:
            return self._already(product)
        return self._changed(product, used.level)

    async def add(
        self, product_id: str, change: int, *, by: str, once: str | None = None
    ) -> StockChange:
        """`change` more of the product (negative: fewer). `once`: as for `set`."""
        product, refusal = self._counted(product_id)
        if product is None:
            return StockChange(False, refusal)
        if abs(change) > MAX_STOCK:
            return StockChange(False, f"{change} is more than {MAX_STOCK}: a typo?")
        await seed_stock(self._store, self._shop, self._now())
        level: StockLevel | None
        try:
            if once is None:
                level = await self._store.add_stock(product.id, change, by, self._now())
            else:
                used = await self._store.add_stock_once(once, product.id, change, by, self._now())
                if used is not None and (used.use is FormUse.ALREADY or used.level is None):
                    return self._already(product)
                level = used.level if used is not None else None
        except UnknownProductError:  # seeded a moment ago: only a concurrent reset gets here
            return StockChange(False, f"{product.id} has no stock count yet")
        if level is None:
            current = await self.get(product.id)
            have = current.level.on_hand if current else 0
            return StockChange(False, f"{product.id} has {have}; cannot take away {-change}")
        return self._changed(product, level)

    def _counted(self, product_id: str) -> tuple[Product | None, str]:
        product = self._shop.catalog.get(product_id)
        if product is None:
            return None, f"no product {product_id!r} in the config"
        if product.stock is None:
            return None, (
                f"the stock of {product_id} is not counted: add `stock = N` to the product "
                "in config.toml (N is its starting count) and restart"
            )
        return product, ""

    def _changed(self, product: Product, level: StockLevel) -> StockChange:
        held = f" ({level.held} held for orders awaiting payment)" if level.held else ""
        message = f"{product.id}: {level.on_hand} in stock{held}, {level.available} for sale"
        return StockChange(True, message, ProductStock(product, level))

    def _already(self, product: Product) -> StockChange:
        return StockChange(
            False,
            f"{product.id} was changed by this request before; nothing changed again",
            already=True,
        )

    def _now(self) -> int:
        return int(self._clock())
