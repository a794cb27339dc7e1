-- When a payment provider's webhook last arrived is read from the events themselves (the
-- /healthz warning about a missing webhook): a partial index keeps that read to one index
-- probe and costs nothing on the customers' messages.
CREATE INDEX IF NOT EXISTS events_payment_received
    ON events (received_at) WHERE source IN ('razorpay', 'stripe', 'paystack');
