-- Stock: how many of a product the shop has, and the units held for orders awaiting payment.
-- Only new tables: the previous release keeps working (without stock) while this one migrates.
--
-- available = on_hand - held. Placing an order holds its units with a conditional UPDATE
-- (WHERE on_hand - held >= quantity) in the transaction that inserts the order, so two
-- customers racing for the last unit cannot both get it. A paid order turns its holds into a
-- sale (on_hand and held both go down); an expired or cancelled one gives them back.
CREATE TABLE stock (
    product_id TEXT PRIMARY KEY,
    on_hand BIGINT NOT NULL CHECK (on_hand >= 0),
    held BIGINT NOT NULL DEFAULT 0 CHECK (held >= 0),
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT 'config'
);

CREATE TABLE stock_holds (
    order_id TEXT NOT NULL REFERENCES orders (id),
    product_id TEXT NOT NULL REFERENCES stock (product_id),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    -- held: counted in stock.held; released: given back; sold: taken off on_hand for good;
    -- returned: sold, then the shop cancelled the order and the units went back on the shelf.
    status TEXT NOT NULL DEFAULT 'held'
        CHECK (status IN ('held', 'released', 'sold', 'returned')),
    created_at BIGINT NOT NULL,
    settled_at BIGINT,
    PRIMARY KEY (order_id, product_id)
);
CREATE INDEX stock_holds_product ON stock_holds (product_id, status);
