"""Cart arithmetic: adding, removing, pricing against the catalog. Prices always come from the
merchant's config, never from a message."""

from collections.abc import Iterable
from dataclasses import dataclass

from flows.catalog import Catalog, Product
from flows.events import OrderedItem
from flows.orders import OrderLine
from flows.state import CartLine

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
    items: Iterable[OrderedItem], catalog: Catalog, max_quantity: int
) -> CatalogCart:
    """A new cart from a WhatsApp catalog order. Lines for the same product are merged;
    quantities of zero or less are ignored."""
    cart: Cart = ()
    unknown: list[str] = []
    capped: list[Product] = []
    for item in items:
        if item.quantity <= 0:
            continue
        product = catalog.available(item.product_id)
        if product is None:
            if item.product_id not in unknown:
                unknown.append(item.product_id)
            continue
        added = add(cart, product.id, item.quantity, max_quantity)
        cart = added.cart
        if added.capped and product not in capped:
            capped.append(product)
    return CatalogCart(cart=cart, unknown_ids=tuple(unknown), capped=tuple(capped))
