"""Rules across products, and a catalog that reports every problem in one ValidationError."""

from typing import Any

import pytest
from flows_support import TEA_SHOP, shop
from pydantic import ValidationError

from flows.catalog import Product, ShopConfig, ShopInfo
from flows.catalog_rules import CatalogProblem, catalog_problems


def product(product_id: Any, category: Any = "Tea", **fields: Any) -> dict[str, Any]:
    return {"id": product_id, "name": "Chai", "price": "10.00", "category": category, **fields}


def test_an_id_used_three_times_is_one_problem_at_its_first_repeat() -> None:
    entries = [product("a"), product("b"), product("a"), product("a")]
    assert catalog_problems(entries) == [
        CatalogProblem(
            2, "id", "the same id is used by products #1, #3 and #4; give each product its own"
        )
    ]


def test_entries_a_product_would_reject_are_left_to_it() -> None:
    entries: list[Any] = ["not a table", product(7), product(7), product(None), {"category": 3}]
    assert catalog_problems(entries) == []


def test_categories_that_only_differ_in_spacing_are_one_category() -> None:
    # The product validator folds spaces, so these are the same category and one list row.
    entries = [product("a", "Loose  Leaf Tea"), product("b", " Loose Leaf Tea ")]
    assert catalog_problems(entries) == []


def test_each_look_alike_category_is_named_once() -> None:
    long = "Hand-picked Himalayan Teas"
    entries = [
        product("a", f"{long} (Green)"),
        product("b", f"{long} (Black)"),
        product("c", f"{long} (Black)"),
        product("d", f"{long} (White)"),
    ]
    problems = catalog_problems(entries)
    assert [(p.index, p.field) for p in problems] == [(1, "category"), (3, "category")]
    assert all("'Hand-picked Himalayan…'" in p.message for p in problems)


def test_field_errors_and_a_duplicate_id_come_in_one_validation_error() -> None:
    raw = {
        **TEA_SHOP,
        "checkout": {"payment_link_expiry_minutes": 5},
        "products": [*TEA_SHOP["products"], product("kettle", price="1.234"), product("toffee")],
    }
    with pytest.raises(ValidationError) as caught:
        ShopConfig.model_validate(raw)
    where = [error["loc"] for error in caught.value.errors()]
    assert where == [
        ("checkout", "payment_link_expiry_minutes"),
        ("products", 7, "price"),
        ("products", 7, "id"),
        ("products", 8, "id"),
    ]


def test_a_shop_built_from_product_objects_is_checked_too() -> None:
    chai = Product.model_validate(product("chai"))
    with pytest.raises(ValidationError, match="the same id is used by products #1 and #2"):
        ShopConfig(shop=ShopInfo(name="Chai Point"), products=(chai, chai))


def test_a_valid_shop_has_no_problems_across_its_products() -> None:
    assert catalog_problems(TEA_SHOP["products"]) == []
    assert shop().catalog.categories == ("Tea", "Brewing", "Sweets")


def test_every_bad_wording_override_is_named_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        shop(messages={"welcome": "Hi {store}", "hint": " ", "button_help": "x" * 21})
    assert [error["loc"] for error in caught.value.errors()] == [
        ("messages", "welcome"),
        ("messages", "hint"),
        ("messages", "button_help"),
    ]
