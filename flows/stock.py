"""Stock as data: how many of each counted product a customer can still have.

The counts arrive in the step context (`StepContext.stock`, read by the runner before the
step, the customer's own open order's holds counted as theirs); a product whose config has no
`stock` is not counted and never runs out. The counts are
a snapshot: the transaction that places an order holds its units with a conditional update,
and when another customer got there first the runner steps again with fresh counts, so the
flow's own checks here are what tells the customer.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from flows.cart import Cart, PricedCart
from flows.catalog import Catalog, Product
from flows.state import CartLine


def left(stock: Mapping[str, int], product: Product) -> int | None:
    """Units of `product` still to be had; None when the shop does not count it."""
    if product.stock is None:
        return None
    return max(0, stock.get(product.id, product.stock))


def counted(catalog: Catalog, product_ids: tuple[str, ...]) -> tuple[str, ...]:
    """Which of these products have their stock counted (and so held when ordered)."""
    tracked: list[str] = []
    for product_id in product_ids:
        product = catalog.get(product_id)
        if product is not None and product.stock is not None:
            tracked.append(product_id)
    return tuple(tracked)


@dataclass(frozen=True)
class Fitted:
    cart: Cart
    sold_out: tuple[Product, ...]  # lines removed: none left
    reduced: tuple[tuple[Product, int], ...]  # lines cut down to what is left

    @property
    def changed(self) -> bool:
        return bool(self.sold_out or self.reduced)


def fit(priced: PricedCart, stock: Mapping[str, int]) -> Fitted:
    """The priced cart's lines cut to what is left of each counted product."""
    lines: list[CartLine] = []
    sold_out: list[Product] = []
    reduced: list[tuple[Product, int]] = []
    for line in priced.lines:
        remaining = left(stock, line.product)
        quantity = line.quantity if remaining is None else min(line.quantity, remaining)
        if quantity <= 0:
            sold_out.append(line.product)
            continue
        if quantity < line.quantity:
            reduced.append((line.product, quantity))
        lines.append(CartLine(product_id=line.product.id, quantity=quantity))
    return Fitted(cart=tuple(lines), sold_out=tuple(sold_out), reduced=tuple(reduced))
