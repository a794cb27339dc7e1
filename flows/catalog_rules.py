"""Rules across the products of a catalog: what no single product can check on its own.

They read the `[[products]]` entries as written, before each product is validated, so a
duplicate id is reported in the same pass as a bad price instead of after it is fixed. Entries
that are not tables, or fields of the wrong type, are skipped here: the product's own validation
names those.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flows import limits
from flows.text import shorten


@dataclass(frozen=True)
class CatalogProblem:
    index: int  # the entry's position in [[products]], from 0
    field: str
    message: str


def catalog_problems(entries: Sequence[Any]) -> list[CatalogProblem]:
    return [*duplicate_ids(entries), *indistinct_categories(entries)]


def duplicate_ids(entries: Sequence[Any]) -> Iterator[CatalogProblem]:
    """An id names one product: in carts, orders and a WhatsApp catalog's retailer ids."""
    positions: dict[str, list[int]] = {}
    for index, product_id in _field_values(entries, "id"):
        positions.setdefault(product_id, []).append(index)
    for where in positions.values():
        if len(where) > 1:
            numbers = [f"#{index + 1}" for index in where]
            listed = ", ".join(numbers[:-1]) + f" and {numbers[-1]}"
            message = f"the same id is used by products {listed}; give each product its own"
            yield CatalogProblem(where[1], "id", message)


def indistinct_categories(entries: Sequence[Any]) -> Iterator[CatalogProblem]:
    """Two categories a customer cannot tell apart in the category list.

    Rows show a category's name cut to the row title limit (as `flows.views.row` does), so
    names that differ only after that many characters, or only in capitals, look alike.
    """
    first_by_title: dict[str, str] = {}
    reported: set[str] = set()
    for index, category in _field_values(entries, "category"):
        name = " ".join(category.split())
        title = shorten(name, limits.LIST_ROW_TITLE_MAX)
        first = first_by_title.setdefault(title.casefold(), name)
        if not name or first == name or name in reported:
            continue
        reported.add(name)
        if name.casefold() == first.casefold():
            message = f"{name!r} and {first!r} differ only in capitals; use one spelling"
        else:
            message = (
                f"{name!r} and {first!r} both show as {title!r} in the category list "
                f"(rows show {limits.LIST_ROW_TITLE_MAX} characters); make them differ sooner"
            )
        yield CatalogProblem(index, "category", message)


def _field_values(entries: Sequence[Any], field: str) -> Iterator[tuple[int, str]]:
    for index, entry in enumerate(entries):
        value = entry.get(field) if isinstance(entry, Mapping) else None
        if isinstance(value, str):
            yield index, value
