"""Cart arithmetic: adding, removing, pricing against the catalog. Prices always come from the
merchant's config, never from a message."""

from collections.abc import Sequence
from dataclasses import dataclass

from flows.catalog import Catalog, Product
from flows.events import OrderedItem
from flows.orders import OrderLine
from flows.state import CartLine

# WhatsApp carts hold a handful of lines; an order with more is read only this far, so the work
# a step does is bounded whatever arrives (one with 60,000 ids once held the loop for 45 s).
MAX_CATALOG_ORDER_ITEMS = 100

Cart = tuple[CartLine, ...]


@dataclass(frozen=True)
class PricedLine:
    product: Product
    quantity: int

    @property
    def total(self) -> int:
        return self.product.price * self.quantity


@dataclass(frozen=True)
class PricedCart:
    lines: tuple[PricedLine, ...]  # products still available, in cart order
    unavailable: tuple[str, ...]  # names (or ids, when removed from config) of the others

    @property
    def total(self) -> int:
        return sum(line.total for line in self.lines)

    def cart(self) -> Cart:
        return tuple(
            CartLine(product_id=line.product.id, quantity=line.quantity) for line in self.lines
        )

    def order_lines(self) -> tuple[OrderLine, ...]:
        return tuple(
            OrderLine(
                product_id=line.product.id,
                name=line.product.name,
                unit_price=line.product.price,
                quantity=line.quantity,
            )
            for line in self.lines
        )


@dataclass(frozen=True)
class Added:
    cart: Cart
    capped: bool  # the customer asked for more than the maximum; the line holds the maximum


@dataclass(frozen=True)
class CatalogCart:
    cart: Cart
    unknown_ids: tuple[str, ...]  # not in the config, or not available
    capped: tuple[Product, ...]  # asked for more than the maximum
    truncated: bool  # the order had more than MAX_CATALOG_ORDER_ITEMS lines; the rest unread


def price(cart: Cart, catalog: Catalog) -> PricedCart:
    """Price each product once (a stored cart may repeat one), in the order first added."""
    quantities: dict[str, int] = {}
    for item in cart:
        quantities[item.product_id] = quantities.get(item.product_id, 0) + item.quantity
    lines: list[PricedLine] = []
    unavailable: list[str] = []
    for product_id, quantity in quantities.items():
        product = catalog.available(product_id)
        if product is None:
            known = catalog.get(product_id)
            unavailable.append(known.name if known is not None else product_id)
        else:
            lines.append(PricedLine(product=product, quantity=quantity))
    return PricedCart(lines=tuple(lines), unavailable=tuple(unavailable))


def add(cart: Cart, product_id: str, quantity: int, max_quantity: int) -> Added:
    """Add to the line of this product, or append a new line; never above `max_quantity`."""
    current = next((line.quantity for line in cart if line.product_id == product_id), 0)
    wanted = current + quantity
    line = CartLine(product_id=product_id, quantity=min(wanted, max_quantity))
    if current:
        updated = tuple(line if old.product_id == product_id else old for old in cart)
    else:
        updated = (*cart, line)
    return Added(cart=updated, capped=wanted > max_quantity)


def remove(cart: Cart, product_id: str) -> Cart:
    return tuple(line for line in cart if line.product_id != product_id)


def from_catalog_order(
    items: Sequence[OrderedItem], catalog: Catalog, max_quantity: int
) -> CatalogCart:
    """A new cart from a WhatsApp catalog order. Lines for the same product are merged;
    quantities of zero or less are ignored. Reads at most `MAX_CATALOG_ORDER_ITEMS` lines, each
    once, with dictionary look-ups only: linear in a bounded number of lines."""
    wanted: dict[str, int] = {}  # product id -> quantity asked for, in first-seen order
    products: dict[str, Product] = {}
    unknown: dict[str, None] = {}  # an ordered set: each unknown id named once
    for item in items[:MAX_CATALOG_ORDER_ITEMS]:
        if item.quantity <= 0:
            continue
        product = catalog.available(item.product_id)
        if product is None:
            unknown[item.product_id] = None
            continue
        products[product.id] = product
        wanted[product.id] = wanted.get(product.id, 0) + item.quantity
    return CatalogCart(
        cart=tuple(
            CartLine(product_id=product_id, quantity=min(quantity, max_quantity))
            for product_id, quantity in wanted.items()
        ),
        unknown_ids=tuple(unknown),
        capped=tuple(products[pid] for pid, quantity in wanted.items() if quantity > max_quantity),
        truncated=len(items) > MAX_CATALOG_ORDER_ITEMS,
    )
