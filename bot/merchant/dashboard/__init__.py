"""The merchant's orders dashboard at /admin (see `routes`)."""
