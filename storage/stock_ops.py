"""Stock counts and holds, as operations (`storage.query.Op`) for both backends.

`stock.on_hand` is what the shop has; `stock.held` the units held for orders awaiting payment;
what can still be sold is `on_hand - held`. Taking a hold is one conditional UPDATE
(`... WHERE on_hand - held >= ?`): on SQLite the writer runs one transaction at a time, on
Postgres the second of two racing transactions waits for the first's row lock and then
re-checks the condition against the committed row, so the last unit goes to exactly one order.

Each hold is a row of `stock_holds` (one per order and product) whose status moves once:
held → released (link expired, order cancelled) or held → sold (paid); the guarded UPDATE of
that row is what makes every settlement happen at most once.
"""

import json
from collections.abc import Mapping, Sequence

from flows.orders import OrderLine, OrderStatus
from storage.errors import StockShortError, UnknownProductError
from storage.query import Op, Query, Row
from storage.repository import StockLevel

_LEVEL_COLUMNS = "product_id, on_hand, held, updated_at, updated_by"
_SET_STOCK = (
    "INSERT INTO stock (product_id, on_hand, held, updated_at, updated_by) "
    "VALUES (?, ?, 0, ?, ?) ON CONFLICT (product_id) DO UPDATE SET "
    "on_hand = excluded.on_hand, updated_at = excluded.updated_at, "
    "updated_by = excluded.updated_by RETURNING " + _LEVEL_COLUMNS
)
_ADD_STOCK = (
    "UPDATE stock SET on_hand = on_hand + ?, updated_at = ?, updated_by = ? "  # noqa: S608 -- constants
    "WHERE product_id = ? AND on_hand + ? >= 0 RETURNING " + _LEVEL_COLUMNS
)


def seed_stock(starting: Mapping[str, int], now: int) -> Op[list[str]]:
    """Insert a row for each product that has none yet; live counts are never overwritten.
    Returns the products seeded."""
    seeded: list[str] = []
    for product_id, count in starting.items():
        rows = yield Query(
            "INSERT INTO stock (product_id, on_hand, held, updated_at, updated_by) "
            "VALUES (?, ?, 0, ?, 'config') ON CONFLICT (product_id) DO NOTHING "
            "RETURNING product_id",
            (product_id, count, now),
        )
        if rows:
            seeded.append(product_id)
    return seeded


def stock_levels() -> Op[list[StockLevel]]:
    rows = yield Query(f"SELECT {_LEVEL_COLUMNS} FROM stock ORDER BY product_id")  # noqa: S608
    return [_level(row) for row in rows]


# Units for sale of every counted product, as one JSON object: a column of the customer's
# snapshot statement, so a step reads its stock in the same round trip.
AVAILABLE_COLUMN = (
    "(SELECT json_group_object(product_id, on_hand - held) FROM stock) AS stock_available"
)


def stock_for_customer(available: str | None, open_order_id: str | None) -> Op[dict[str, int]]:
    """Units of every counted product this customer can have: what is for sale (the
    `AVAILABLE_COLUMN` read), plus what is held for their own open order (checking out again
    reuses or replaces that order, and so its holds). What a step's context needs."""
    counts = json.loads(available) if available else {}
    stock = {str(product_id): max(0, int(n)) for product_id, n in counts.items()}
    if open_order_id is not None:
        held = yield Query(
            "SELECT product_id, quantity FROM stock_holds WHERE order_id = ? AND status = 'held'",
            (open_order_id,),
        )
        for row in held:
            product_id = str(row["product_id"])
            stock[product_id] = stock.get(product_id, 0) + int(row["quantity"])
    return stock


def set_stock(product_id: str, on_hand: int, by: str, now: int) -> Op[StockLevel]:
    rows = yield Query(_SET_STOCK, (product_id, on_hand, now, by))
    return _level(rows[0])


def add_stock(product_id: str, change: int, by: str, now: int) -> Op[StockLevel | None]:
    """Add `change` (negative takes away) to what the shop has; None when that would go below
    zero (nothing changed). Raises `UnknownProductError` when the product has no row."""
    rows = yield Query(_ADD_STOCK, (change, now, by, product_id, change))
    if rows:
        return _level(rows[0])
    if not (yield Query("SELECT 1 FROM stock WHERE product_id = ?", (product_id,))):
        raise UnknownProductError(f"no stock is counted for {product_id!r}")
    return None


def hold(
    order_id: str, lines: Sequence[OrderLine], product_ids: Sequence[str], now: int
) -> Op[None]:
    """Hold the order's units of each product in `product_ids`; raise `StockShortError` naming
    every product short (the caller's transaction then rolls back, holds included). A product
    without a stock row is not counted: nothing is held for it."""
    wanted: dict[str, int] = {}
    for line in lines:
        if line.product_id in product_ids:
            wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity
    short: list[str] = []
    for product_id, quantity in sorted(wanted.items()):  # one lock order: no deadlocks
        taken = yield Query(
            "UPDATE stock SET held = held + ?, updated_at = ? "
            "WHERE product_id = ? AND on_hand - held >= ? RETURNING product_id",
            (quantity, now, product_id, quantity),
        )
        if taken:
            yield Query(
                "INSERT INTO stock_holds (order_id, product_id, quantity, status, created_at) "
                "VALUES (?, ?, ?, 'held', ?)",
                (order_id, product_id, quantity, now),
            )
        elif (yield Query("SELECT 1 FROM stock WHERE product_id = ?", (product_id,))):
            short.append(product_id)
    if short:
        raise StockShortError(tuple(short))


def settle_holds(order_id: str, status: OrderStatus, now: int) -> Op[None]:
    """After an order's payment status moved: a paid order's units are sold for good (even
    if its holds had been released: a late payment is real money); an expired or cancelled
    order's holds go back on sale."""
    if status is OrderStatus.PAID:
        yield from _sell(order_id, now)
    elif status in (OrderStatus.EXPIRED, OrderStatus.CANCELLED):
        yield from _release(order_id, now)


def _release(order_id: str, now: int) -> Op[None]:
    released = yield Query(
        "UPDATE stock_holds SET status = 'released', settled_at = ? "
        "WHERE order_id = ? AND status = 'held' RETURNING product_id, quantity",
        (now, order_id),
    )
    for row in sorted(released, key=lambda r: str(r["product_id"])):
        yield Query(
            "UPDATE stock SET held = CASE WHEN held > ? THEN held - ? ELSE 0 END, "
            "updated_at = ? WHERE product_id = ?",
            (row["quantity"], row["quantity"], now, row["product_id"]),
        )


def _sell(order_id: str, now: int) -> Op[None]:
    were_held = yield Query(
        "UPDATE stock_holds SET status = 'sold', settled_at = ? "
        "WHERE order_id = ? AND status = 'held' RETURNING product_id, quantity",
        (now, order_id),
    )
    were_released = yield Query(
        "UPDATE stock_holds SET status = 'sold', settled_at = ? "
        "WHERE order_id = ? AND status = 'released' RETURNING product_id, quantity",
        (now, order_id),
    )
    sales = [(row, True) for row in were_held] + [(row, False) for row in were_released]
    for row, held in sorted(sales, key=lambda sale: str(sale[0]["product_id"])):
        quantity = int(row["quantity"])
        # Never below zero: the merchant may have set a count lower than what was held.
        yield Query(
            "UPDATE stock SET on_hand = CASE WHEN on_hand > ? THEN on_hand - ? ELSE 0 END, "
            "held = CASE WHEN held > ? THEN held - ? ELSE 0 END, updated_at = ? "
            "WHERE product_id = ?",
            (
                quantity,
                quantity,
                quantity if held else 0,
                quantity if held else 0,
                now,
                row["product_id"],
            ),
        )


def return_units(order_id: str, now: int) -> Op[None]:
    """The shop cancelled the order before it went out: held units go back on sale, and sold
    ones back on the shelf."""
    yield from _release(order_id, now)
    returned = yield Query(
        "UPDATE stock_holds SET status = 'returned', settled_at = ? "
        "WHERE order_id = ? AND status = 'sold' RETURNING product_id, quantity",
        (now, order_id),
    )
    for row in sorted(returned, key=lambda r: str(r["product_id"])):
        yield Query(
            "UPDATE stock SET on_hand = on_hand + ?, updated_at = ? WHERE product_id = ?",
            (row["quantity"], now, row["product_id"]),
        )


def _level(row: Row) -> StockLevel:
    return StockLevel(
        product_id=str(row["product_id"]),
        on_hand=int(row["on_hand"]),
        held=int(row["held"]),
        updated_at=int(row["updated_at"]),
        updated_by=str(row["updated_by"]),
    )
