"""The ways the merchant hears about an order, each behind `Channel` (see base.py)."""
