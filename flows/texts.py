"""The bot's wording. Every field can be overridden under `[messages]` in config.toml.

Placeholders in braces are filled with `str.format`; an override may use only the placeholders
of the default (fewer is fine), and only plain: `{shop}`, never `{shop:>200000000}` (a format
spec can ask for any width, so any amount of memory per message) nor `{shop!r}`. Titles of
buttons, list buttons, rows and sections are checked against the Cloud API limits here, so a
bad override fails when the config loads, not at Meta.
"""

from string import Formatter
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from flows import limits

ButtonTitle = Annotated[str, Field(min_length=1, max_length=limits.BUTTON_TITLE_MAX)]
ListButtonLabel = Annotated[str, Field(min_length=1, max_length=limits.LIST_BUTTON_LABEL_MAX)]
RowTitle = Annotated[str, Field(min_length=1, max_length=limits.LIST_ROW_TITLE_MAX)]
SectionTitle = Annotated[str, Field(min_length=1, max_length=limits.LIST_SECTION_TITLE_MAX)]


class Texts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- the language itself ------------------------------------------------------------------
    language_name: RowTitle = "English"  # how the language is named in the list of languages

    # --- menu and help ----------------------------------------------------------------------
    welcome: str = "Welcome to {shop}! 👋\nWhat would you like to do?"
    help: str = (
        "You can type these words at any time:\n"
        "• *menu*: start over\n"
        "• *cart*: see your cart\n"
        "• *checkout*: pay for your cart\n"
        "• *orders*: your recent orders\n"
        "• *language*: change the language\n"
        "• *cancel*: stop what you are doing\n"
        "• *stop* / *start*: no more reminders, or reminders again\n"
        "• *help*: this message"
    )
    hint: str = "Sorry, I didn't get that. Type *menu* to start over or *help* for help."
    cancelled: str = "Cancelled. What would you like to do?"
    nothing_to_cancel: str = "There is nothing to cancel. What would you like to do?"
    media_not_supported: str = (
        "I can only read text and taps on buttons. Please type your message or type *menu*."
    )
    location_not_needed: str = (
        "Thanks for the location! I only need it when I ask for your delivery address."
    )
    unsupported: str = "Sorry, I can't read that kind of message. Type *menu* to see what I can do."

    # --- browsing ---------------------------------------------------------------------------
    categories_body: str = "What would you like to see? Pick a category."
    products_body: str = "*{category}*: pick a product to see details."
    category_row_description: str = "{count} products"
    page_footer: str = "Page {page} of {pages}"
    nothing_available: str = "Sorry, nothing is available right now. Please check back later."
    product_details: str = "*{product}*\n{price}"
    quantity_prompt: str = (
        "How many would you like? Tap a number or type any number from 1 to {max}."
    )
    quantity_invalid: str = "Please type a number from 1 to {max}, or *cancel*."
    quantity_capped: str = "You can order at most {max} of {product}, so your cart has {max}."
    product_unavailable: str = "Sorry, {product} is no longer available."
    product_sold_out: str = "Sorry, {product} is sold out."
    sold_out_tag: str = "Sold out"
    stock_left: str = "Only {left} left."
    stock_capped: str = "Only {left} of {product} left, so your cart has {left}."

    # --- cart -------------------------------------------------------------------------------
    added_to_cart: str = "Added {quantity} × {product} to your cart."
    cart_header: str = "🛒 *Your cart*"
    cart_line: str = "• {quantity} × {product} ({unit_price} each): {line_total}"
    cart_total: str = "*Total: {total}*"
    cart_unavailable_line: str = "• {product} is no longer available and will be removed."
    more_lines: str = "…and {count} more"
    cart_empty: str = "Your cart is empty."
    cart_cleared: str = "Your cart is now empty."
    item_removed: str = "Removed {product} from your cart."
    remove_item_body: str = "Which item should I remove?"
    items_dropped: str = "No longer available, so removed from your cart: {products}."
    sold_out_dropped: str = "Sold out, so removed from your cart: {products}."
    catalog_unknown_items: str = "Not available, so not added to your cart: {ids}."
    catalog_nothing_valid: str = "Sorry, none of the items in your order are available."
    catalog_too_many_items: str = (
        "Your order has more than {max} items, so only the first {max} were read. "
        "Please check your cart before you pay."
    )

    # --- checkout ---------------------------------------------------------------------------
    ask_address: str = (
        "Please type your delivery address (house, street, city and PIN code), "
        "or share a location 📍."
    )
    confirm_address: str = "Shall we deliver to this address?\n{address}"
    address_too_short: str = (
        "That address looks too short. Please type your full delivery address "
        "(at least {min} characters)."
    )
    address_too_long: str = "That address is too long. Please keep it under {max} characters."
    amount_too_small: str = (
        "Online payment needs an order of at least {minimum}. Please add something to your cart."
    )
    preparing_link: str = "Thank you! Preparing your payment link for order {order_id}…"
    link_on_the_way: str = "Your payment link for order {order_id} is on its way."

    # --- payment ----------------------------------------------------------------------------
    order_header: str = "🧾 *Order {order_id}*"
    order_total: str = "*Total: {total}*"
    order_address: str = "Deliver to: {address}"
    link_validity: str = "This payment link is valid for {minutes} minutes."
    pay_body: str = "Pay {amount} for order {order_id} securely."  # any provider
    pay_cta: str = "Pay {amount}"
    payment_url: str = "{url}"
    already_paid: str = "Order {order_id} is already paid. Thank you!"
    link_expired: str = (
        "The payment link for order {order_id} has expired. Tap below for a new one."
    )
    link_cancelled: str = (
        "The payment link for order {order_id} was cancelled. Tap below for a new one."
    )
    order_not_open: str = (
        "Order {order_id} is no longer open for payment. Tap below to check out again."
    )
    order_cancelled: str = "Order {order_id} is cancelled. Your cart is still here."
    payment_received: str = "✅ Payment received for order {order_id}. Thank you!"
    total_paid: str = "*Total paid: {total}*"
    payment_checking: str = (
        "We received a payment for order {order_id}. The shop is checking it and will get "
        "back to you shortly."
    )
    payment_failed: str = "Your payment for order {order_id} did not go through. You can try again."
    payment_failed_reason: str = "Reason: {reason}"
    link_creation_failed: str = (
        "Sorry, we could not create a payment link for order {order_id}. Please try again."
    )

    # --- cash on delivery ([checkout] cash_on_delivery = true) ------------------------------
    cod_offer: str = "Or pay in cash when it arrives: tap *Pay on delivery*."
    cod_over_max: str = "Pay on delivery is available for orders up to {max}."
    cod_confirmed: str = (
        "✅ Order {order_id} is confirmed. Please pay {total} in cash when it is delivered."
    )
    cod_total: str = "*Total to pay on delivery: {total}*"
    cod_refused_over_max: str = (
        "Sorry, pay on delivery is available only for orders up to {max}, and order {order_id} "
        "is {total}. Please pay online with *Pay now*."
    )
    cod_not_offered: str = (
        "Sorry, this shop does not take payment on delivery. Please pay online with *Pay now*."
    )
    cod_already: str = (
        "Order {order_id} is confirmed for payment on delivery. Please pay {total} in cash when "
        "it arrives."
    )

    # --- reminders (flows/reminders.py) -----------------------------------------------------
    payment_reminder: str = (
        "⏰ A reminder: order {order_id} is still waiting for your payment. "
        "Type *stop* if you want no more reminders."
    )
    payment_reminder_fresh_link: str = (
        "⏰ A reminder: the payment link for order {order_id} expired, so here is a fresh one. "
        "Type *stop* if you want no more reminders."
    )
    cart_reminder: str = "🛒 You left something in your cart. Ready to check out?"
    reminders_stopped: str = "OK, no more reminders from us. Type *start* to turn them back on."
    reminders_started: str = "Reminders are back on. Type *stop* at any time to turn them off."

    # --- after payment: the merchant ships, delivers, cancels, refunds ----------------------
    shipped_notice: str = "📦 Your order {order_id} is on its way!"
    shipped_courier: str = "Courier: {courier}"
    shipped_tracking: str = "Tracking: {tracking}"
    delivered_notice: str = (
        "✅ Your order {order_id} has been delivered. Thank you for shopping with us!"
    )
    cancelled_notice: str = "Your order {order_id} has been cancelled by the shop."
    refunded_notice: str = (
        "We have refunded {amount} for order {order_id}. It reaches your account in 5–7 working "
        "days."
    )

    # --- the customer's own orders -------------------------------------------------------------
    orders_body: str = "Your recent orders. Pick one to see its items and where it is."
    orders_none: str = "You have no orders yet."
    order_row_title: str = "{date} · {total}"
    order_row_description: str = "{order_id} · {status}"
    order_detail_header: str = "🧾 *Order {order_id}* ({date})"
    order_payment_line: str = "Payment: {status}"
    order_delivery_line: str = "Delivery: {status}"
    order_tracking_link: str = "Track: {url}"
    order_unknown: str = "Sorry, I can't find that order. Type *orders* to see yours."
    payment_awaiting: str = "awaiting payment"
    payment_cod_due: str = "pay on delivery"
    payment_paid: str = "paid"
    payment_partly_refunded: str = "partly refunded"
    payment_refunded: str = "refunded"
    payment_flagged: str = "being checked by the shop"
    payment_expired: str = "link expired, not paid"
    payment_cancelled: str = "cancelled, not paid"
    delivery_unfulfilled: str = "being prepared"
    delivery_shipped: str = "shipped"
    delivery_delivered: str = "delivered"
    delivery_cancelled: str = "cancelled"
    reorder_added: str = "Added the items of order {order_id} to your cart at today's prices."
    reorder_price_changed: str = "{product} now costs {price} (was {old_price})."
    reorder_left_out: str = "No longer available, so left out: {products}."
    reorder_nothing: str = "Sorry, none of the items of order {order_id} are available now."

    # --- language ---------------------------------------------------------------------------
    language_body: str = "Which language would you like?"

    # --- titles: the Cloud API limits apply ---------------------------------------------------
    button_browse: ButtonTitle = "Browse"
    button_view_cart: ButtonTitle = "View cart"
    button_help: ButtonTitle = "Help"
    button_checkout: ButtonTitle = "Checkout"
    button_keep_shopping: ButtonTitle = "Keep shopping"
    button_remove_item: ButtonTitle = "Remove item"
    button_clear_cart: ButtonTitle = "Clear cart"
    button_use_address: ButtonTitle = "Use this address"
    button_new_address: ButtonTitle = "New address"
    button_pay_now: ButtonTitle = "Pay now"
    button_cancel_order: ButtonTitle = "Cancel order"
    button_pay_on_delivery: ButtonTitle = "Pay on delivery"
    button_new_link: ButtonTitle = "Get a new link"
    button_try_again: ButtonTitle = "Try again"
    button_order_again: ButtonTitle = "Order again"
    button_my_orders: ButtonTitle = "My orders"
    list_button_categories: ListButtonLabel = "Categories"
    list_button_products: ListButtonLabel = "Products"
    list_button_cart: ListButtonLabel = "Cart items"
    list_button_menu: ListButtonLabel = "Menu"
    list_button_orders: ListButtonLabel = "Your orders"
    list_button_languages: ListButtonLabel = "Languages"
    row_browse: RowTitle = "Browse"
    row_view_cart: RowTitle = "View cart"
    row_my_orders: RowTitle = "My orders"
    row_language: RowTitle = "Language"
    row_more: RowTitle = "More…"
    row_previous: RowTitle = "Previous"
    section_categories: SectionTitle = "Categories"
    section_cart: SectionTitle = "Your cart"
    section_pages: SectionTitle = "More pages"
    section_menu: SectionTitle = "Menu"
    section_orders: SectionTitle = "Recent orders"
    section_languages: SectionTitle = "Languages"

    @field_validator("*")
    @classmethod
    def _placeholders_known(cls, value: str, info: ValidationInfo) -> str:
        """Per field, so every bad override is named in one pass (defaults are not re-checked;
        a test covers them)."""
        if not value.strip():
            raise ValueError("must not be blank")
        allowed = placeholders(str(cls.model_fields[str(info.field_name)].default))
        try:
            unknown = placeholders(value) - allowed
            dressed = dressed_placeholders(value)
        except ValueError as exc:
            raise ValueError(f"not a valid template: {exc}") from exc
        if dressed:
            # A format spec can ask for any width: 200 MB of spaces in every welcome.
            raise ValueError(
                f"uses {', '.join(dressed)}: write placeholders plain, like {{shop}}, "
                "without a format spec (:...) or conversion (!r)"
            )
        if unknown:
            known = ", ".join(f"{{{p}}}" for p in sorted(allowed)) or "none"
            raise ValueError(f"uses {', '.join(sorted(unknown))}; allowed: {known}")
        return value


def placeholders(template: str) -> set[str]:
    """The `{names}` in a `str.format` template. Raises ValueError for a broken template.

    Attribute and index access (`{shop.__class__}`) come back whole, so they are never allowed.
    """
    return {name for _, name, _, _ in Formatter().parse(template) if name is not None}


def dressed_placeholders(template: str) -> list[str]:
    """Placeholders with a format spec or a conversion, as written (`{shop:>9}`, `{shop!r}`).

    Raises ValueError for a broken template, like `placeholders`.
    """
    found = []
    for _, name, spec, conversion in Formatter().parse(template):
        if name is not None and (spec or conversion):
            written = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            found.append("{" + written + "}")
    return found
