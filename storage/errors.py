"""Errors the storage layer raises on purpose, so callers can tell them from driver errors."""


class StorageError(Exception):
    """Base class for storage errors."""


class SchemaNotMigratedError(StorageError):
    """The database file is missing or lacks migrations this code needs."""


class MigrationError(StorageError):
    """A migration file is malformed or failed to apply."""


class StoreClosedError(StorageError):
    """A write was submitted to a store that is closing or closed."""


class CommitFailedError(StorageError):
    """The batch holding this write could not be committed; nothing of it was saved."""


class UnknownEventError(StorageError, LookupError):
    """`commit_step` named an event id that was never recorded."""


class StorageUnavailableError(StorageError):
    """The database cannot be reached right now (down, restarting, failing over, out of
    connections). Nothing was lost: the work stays pending and is tried again later."""


class ModeMismatchError(StorageError):
    """The database holds orders of the other mode (a sandbox over a live shop's data, or the
    reverse)."""


class ConstraintViolationError(StorageError):
    """A write broke a constraint (an order id placed twice, …): a bug, not a busy database.
    Nothing of the write was saved."""


class StockShortError(StorageError):
    """Placing an order found fewer units left than it asked for (another customer got them
    first). Nothing of the step was saved; the caller steps again with fresh counts."""

    def __init__(self, product_ids: tuple[str, ...]) -> None:
        super().__init__(f"not enough left of {', '.join(product_ids)}")
        self.product_ids = product_ids


class UnknownProductError(StorageError, LookupError):
    """A stock change named a product that has no stock row."""


class StockBelowZeroError(StorageError):
    """Taking units away would leave fewer than none: nothing of the write was saved."""
