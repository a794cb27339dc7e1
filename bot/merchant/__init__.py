"""The merchant's side of the shop: what happens to an order after payment."""
