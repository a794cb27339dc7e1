-- The language each customer reads the shop in (a code such as 'hi'; NULL: not chosen, so the
-- shop's default), and an index for a customer's newest orders (`orders` in the chat). Only an
-- added column and an index: the previous release keeps working while this one migrates.
ALTER TABLE customers ADD COLUMN language TEXT;
CREATE INDEX orders_customer_created ON orders (customer_key, created_at);
