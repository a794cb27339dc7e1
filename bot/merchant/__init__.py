"""The merchant's side of the shop: what happens to an order after payment (`orders`,
`refunds`, `cli`), and telling the merchant about orders: channels (webhook, email, Telegram,
the owners' WhatsApp), the retry schedule, and the worker that delivers what storage queued."""
