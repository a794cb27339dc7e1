-- Two added columns, nothing changed or dropped: the previous release keeps working while this
-- one migrates (it neither reads nor writes them).
-- How often the merchant asked for a delivery to be sent again ("alerts resend"): an email sent
-- again gets a Message-ID of its own that refers to the first one, while a retry keeps its id.
ALTER TABLE merchant_alerts ADD COLUMN resends INTEGER NOT NULL DEFAULT 0;
-- The Shopify order a paid order was handed to (gid://shopify/Order/…), once it exists.
ALTER TABLE orders ADD COLUMN shopify_order_id TEXT;
