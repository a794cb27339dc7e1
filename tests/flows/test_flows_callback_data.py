"""Button and row ids: one codec, every id fits, anything not ours is refused."""

import pytest

from flows import callback_data as cb

ROUND_TRIPS = [
    cb.ShowMenu(),
    cb.ShowHelp(),
    cb.BrowseCategories(page=3),
    cb.BrowseCategory(category="a1b2c3", page=0),
    cb.BrowseCategory(category="Tea: Green & Black", page=2),
    cb.BrowseCategory(category="100% pure: चाय", page=1),
    cb.ShowProduct(product_id="masala-chai"),
    cb.ChooseQuantity(product_id="masala-chai", quantity=3),
    cb.ViewCart(),
    cb.PickLineToRemove(page=1),
    cb.RemoveLine(product_id="kettle"),
    cb.ClearCart(),
    cb.Checkout(),
    cb.UseSavedAddress(),
    cb.EnterNewAddress(),
    cb.RedirectToPayment(order_id="ord_1"),
    cb.RedirectToPayment(order_id="ord:with:colons%3A"),
    cb.CancelOrder(order_id="ord_1"),
]


@pytest.mark.parametrize("action", ROUND_TRIPS, ids=repr)
def test_every_action_survives_pack_and_parse(action: cb.CallbackData) -> None:
    packed = action.pack()
    assert len(packed) <= cb.ID_MAX
    assert cb.parse(packed) == action


def test_separators_inside_values_are_escaped() -> None:
    packed = cb.BrowseCategory(category="a:b", page=1).pack()
    assert packed == "cat:a%3Ab:1"


@pytest.mark.parametrize(
    "garbled",
    [
        "",
        "hello",
        "menu:extra",
        "qty:masala-chai",  # a field missing
        "qty:masala-chai:0",  # out of range
        "qty:masala-chai:three",
        "qty:masala-chai:2:9",  # a field too many
        "cats:-1",
        "prod:",
        "redirect_to_payment",
        "pay_now_template_payload",
        "🙂",
    ],
)
def test_anything_not_ours_parses_to_none(garbled: str) -> None:
    assert cb.parse(garbled) is None


def test_an_id_over_the_limit_cannot_be_packed() -> None:
    with pytest.raises(ValueError, match="longer than"):
        cb.RedirectToPayment(order_id="x" * 200).pack()


def test_prefixes_are_unique() -> None:
    prefixes = [action.prefix for action in cb.ACTIONS]
    assert len(prefixes) == len(set(prefixes))
