"""HTTP routes: each handler verifies, stores, answers. Work happens in the workers."""
