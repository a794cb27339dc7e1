"""Rendering: catalog pages, carts and orders as outgoing messages that fit the Cloud API.

Every text is cut to its limit here (lists of lines lose lines from the end, with a "…and N
more" line), so whatever the catalog or the merchant's wording, a message can be constructed.
"""

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import TypeVar

from flows import callback_data as cb
from flows import limits
from flows.cart import PricedCart, PricedLine
from flows.catalog import Product, ShopConfig
from flows.lifecycle import PaymentStatus, payment_status
from flows.messages import Button, Row, Section, SendButtons, SendCtaUrl, SendList, SendText
from flows.orders import FulfilmentStatus, Order, OrderLine, OrderStatus
from flows.stock import left as stock_left
from flows.text import ELLIPSIS, shorten
from flows.texts import Texts

T = TypeVar("T")

QUANTITY_BUTTONS = 3
ITEMS_PER_PAGE = limits.LIST_ROWS_MAX - 2  # room for a "Previous" and a "More…" row
WEB_URL = re.compile(r"^https?://\S+$")


# --- fitting text --------------------------------------------------------------------------


def clip(text: str, limit: int) -> str:
    """Like `flows.text.shorten` but keeps line breaks: for message bodies."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def fit_lines(
    head: Sequence[str], items: Sequence[str], tail: Sequence[str], limit: int, texts: Texts
) -> str:
    """Join head, items and tail with line breaks, dropping items from the end until it fits."""
    text = ""
    for keep in range(len(items), -1, -1):
        shown = list(items[:keep])
        if keep < len(items):
            shown.append(texts.more_lines.format(count=len(items) - keep))
        text = "\n".join([*head, *shown, *tail])
        if len(text) <= limit:
            return text
    return clip(text, limit)


def body(text: str) -> str:
    return clip(text, limits.INTERACTIVE_BODY_MAX)


def text_message(text: str) -> SendText:
    return SendText(body=clip(text, limits.TEXT_BODY_MAX))


def buttons(text: str, *choices: tuple[cb.CallbackData, str]) -> SendButtons:
    return SendButtons(
        body=body(text),
        buttons=tuple(Button(id=action.pack(), title=title) for action, title in choices),
    )


# --- menu ------------------------------------------------------------------------------------


def menu(text: str, texts: Texts) -> SendButtons:
    return buttons(
        text,
        (cb.BrowseCategories(), texts.button_browse),
        (cb.ViewCart(), texts.button_view_cart),
        (cb.ShowHelp(), texts.button_help),
    )


def welcome(config: ShopConfig) -> SendButtons:
    """The greeting with the menu's buttons: the same for every customer of a shop (and of
    each of its languages), so built once per shop and language."""
    return config.derived("welcome", _welcome)


def _welcome(config: ShopConfig) -> SendButtons:
    texts = config.messages
    return menu(texts.welcome.format(shop=config.shop.name), texts)


def help_menu(config: ShopConfig) -> SendList:
    """The help text with the menu as rows: built once per shop and language, like `welcome`."""
    return config.derived("help", _help_menu)


def _help_menu(config: ShopConfig) -> SendList:
    return menu_list(config.messages.help, config.messages)


def menu_list(text: str, texts: Texts) -> SendList:
    """The help text with every place a customer can go, as rows (buttons hold only three)."""
    rows = (
        row(cb.BrowseCategories(), texts.row_browse),
        row(cb.ViewCart(), texts.row_view_cart),
        row(cb.ShowOrders(), texts.row_my_orders),
        row(cb.ShowLanguages(), texts.row_language),
    )
    return SendList(
        body=body(text),
        button_label=texts.list_button_menu,
        sections=(Section(title=texts.section_menu, rows=rows),),
    )


def offer_browse(text: str, texts: Texts) -> SendButtons:
    return buttons(text, (cb.BrowseCategories(), texts.button_browse))


def offer_checkout(text: str, title: str) -> SendButtons:
    return buttons(text, (cb.Checkout(), title))


# --- paged lists -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    number: int  # from 0
    count: int
    start: int
    stop: int

    @property
    def has_previous(self) -> bool:
        return self.number > 0

    @property
    def has_next(self) -> bool:
        return self.number < self.count - 1


def page_of(total: int, number: int) -> Page:
    """Which items go on page `number`. Everything fits on one page when it can; otherwise
    pages of `ITEMS_PER_PAGE` leave room for the paging rows. Past the end means the last."""
    if total <= limits.LIST_ROWS_MAX:
        return Page(number=0, count=1, start=0, stop=total)
    count = -(-total // ITEMS_PER_PAGE)
    number = min(number, count - 1)
    start = number * ITEMS_PER_PAGE
    return Page(number=number, count=count, start=start, stop=min(start + ITEMS_PER_PAGE, total))


def row(action: cb.CallbackData, title: str, description: str | None = None) -> Row:
    short = None if not description else shorten(description, limits.LIST_ROW_DESCRIPTION_MAX)
    return Row(id=action.pack(), title=shorten(title, limits.LIST_ROW_TITLE_MAX), description=short)


def paged_list(
    *,
    text: str,
    label: str,
    section_title: str,
    items: Sequence[T],
    page_number: int,
    item_row: Callable[[T], Row],
    page_action: Callable[[int], cb.CallbackData],
    texts: Texts,
) -> SendList:
    page = page_of(len(items), page_number)
    sections = [
        Section(
            title=shorten(section_title, limits.LIST_SECTION_TITLE_MAX),
            rows=tuple(item_row(item) for item in items[page.start : page.stop]),
        )
    ]
    paging: list[Row] = []
    if page.has_previous:
        paging.append(row(page_action(page.number - 1), texts.row_previous))
    if page.has_next:
        paging.append(row(page_action(page.number + 1), texts.row_more))
    if paging:
        sections.append(Section(title=texts.section_pages, rows=tuple(paging)))
    footer = None
    if page.count > 1:
        footer = shorten(
            texts.page_footer.format(page=page.number + 1, pages=page.count),
            limits.FOOTER_TEXT_MAX,
        )
    return SendList(body=body(text), button_label=label, sections=tuple(sections), footer=footer)


# --- catalog ---------------------------------------------------------------------------------


def category_key(category: str) -> str:
    """A short stable key for a category name, for ids: any name fits, none needs escaping."""
    return hashlib.blake2b(category.encode(), digest_size=6).hexdigest()


def category_named_by(key: str, categories: Sequence[str]) -> str | None:
    return next((name for name in categories if category_key(name) == key), None)


def categories_page(config: ShopConfig, page_number: int) -> SendList:
    texts, catalog = config.messages, config.catalog

    def category_row(category: str) -> Row:
        count = len(catalog.in_category(category))
        description = texts.category_row_description.format(count=count)
        return row(cb.BrowseCategory(category=category_key(category)), category, description)

    return paged_list(
        text=texts.categories_body,
        label=texts.list_button_categories,
        section_title=texts.section_categories,
        items=catalog.categories,
        page_number=page_number,
        item_row=category_row,
        page_action=lambda number: cb.BrowseCategories(page=number),
        texts=texts,
    )


def product_row(config: ShopConfig, product: Product, left: int | None) -> Row:
    parts = [config.money(product.price)]
    if left == 0:
        parts.insert(0, config.messages.sold_out_tag)
    if len(product.name) > limits.LIST_ROW_TITLE_MAX:
        # Shortened names can look alike ("… 250 g", "… 500 g"): the description shows it whole.
        parts.append(product.name)
    if product.description:
        parts.append(product.description)
    return row(cb.ShowProduct(product_id=product.id), product.name, " · ".join(parts))


def products_page(
    config: ShopConfig, category: str, page_number: int, stock: Mapping[str, int]
) -> SendList:
    """One page of a category's products; counted products with none left say "Sold out"."""
    texts = config.messages
    key = category_key(category)
    return paged_list(
        text=texts.products_body.format(category=category),
        label=texts.list_button_products,
        section_title=category,
        items=config.catalog.in_category(category),
        page_number=page_number,
        item_row=lambda product: product_row(config, product, stock_left(stock, product)),
        page_action=lambda number: cb.BrowseCategory(category=key, page=number),
        texts=texts,
    )


def product_details(config: ShopConfig, product: Product, left: int | None) -> SendButtons:
    """A product and how many to add; `left` (when counted, at least 1) lowers the choices."""
    texts = config.messages
    maximum = config.checkout.max_quantity_per_item
    parts = [texts.product_details.format(product=product.name, price=config.money(product.price))]
    if product.description:
        parts.append(product.description)
    if left is not None and left < maximum:
        parts.append(texts.stock_left.format(left=left))
        maximum = max(1, left)
    parts.append(texts.quantity_prompt.format(max=maximum))
    choices = [
        (cb.ChooseQuantity(product_id=product.id, quantity=n), str(n))
        for n in range(1, min(QUANTITY_BUTTONS, maximum) + 1)
    ]
    return buttons("\n\n".join(parts), *choices)


# --- cart ------------------------------------------------------------------------------------


def line_text(
    config: ShopConfig, name: str, quantity: int, unit_price: int, currency: str | None = None
) -> str:
    return config.messages.cart_line.format(
        quantity=quantity,
        product=name,
        unit_price=config.money(unit_price, currency),
        line_total=config.money(unit_price * quantity, currency),
    )


def priced_line_text(config: ShopConfig, line: PricedLine) -> str:
    return line_text(config, line.product.name, line.quantity, line.product.price)


def order_line_text(config: ShopConfig, line: OrderLine, currency: str) -> str:
    return line_text(config, line.name, line.quantity, line.unit_price, currency)


def cart_summary(config: ShopConfig, priced: PricedCart, head: Sequence[str] = ()) -> str:
    texts = config.messages
    items = [priced_line_text(config, line) for line in priced.lines]
    items += [texts.cart_unavailable_line.format(product=name) for name in priced.unavailable]
    tail = [texts.cart_total.format(total=config.money(priced.total))]
    return fit_lines([*head, texts.cart_header], items, tail, limits.INTERACTIVE_BODY_MAX, texts)


def cart_view(config: ShopConfig, priced: PricedCart, notes: Sequence[str] = ()) -> SendButtons:
    texts = config.messages
    return buttons(
        cart_summary(config, priced, head=notes),
        (cb.Checkout(), texts.button_checkout),
        (cb.PickLineToRemove(), texts.button_remove_item),
        (cb.ClearCart(), texts.button_clear_cart),
    )


def after_adding(config: ShopConfig, priced: PricedCart, notes: Sequence[str]) -> SendButtons:
    texts = config.messages
    return buttons(
        cart_summary(config, priced, head=notes),
        (cb.Checkout(), texts.button_checkout),
        (cb.BrowseCategories(), texts.button_keep_shopping),
        (cb.ViewCart(), texts.button_view_cart),
    )


def remove_list(config: ShopConfig, priced: PricedCart, page_number: int) -> SendList:
    texts = config.messages

    def cart_row(line: PricedLine) -> Row:
        description = f"{line.quantity} × {config.money(line.product.price)}"
        return row(cb.RemoveLine(product_id=line.product.id), line.product.name, description)

    return paged_list(
        text=texts.remove_item_body,
        label=texts.list_button_cart,
        section_title=texts.section_cart,
        items=priced.lines,
        page_number=page_number,
        item_row=cart_row,
        page_action=lambda number: cb.PickLineToRemove(page=number),
        texts=texts,
    )


# --- orders and payment ---------------------------------------------------------------------


def _order_text(
    config: ShopConfig, order: Order, head: str, total_line: str, extra: Sequence[str]
) -> str:
    texts = config.messages
    items = [order_line_text(config, line, order.currency) for line in order.lines]
    tail = [total_line.format(total=config.money(order.total, order.currency))]
    if order.address:
        address = shorten(order.address, limits.INTERACTIVE_BODY_MAX // 4)
        tail.append(texts.order_address.format(address=address))
    tail.extend(extra)
    return fit_lines([head], items, tail, limits.INTERACTIVE_BODY_MAX, texts)


def order_summary(config: ShopConfig, order: Order, expires_at: int, now: int) -> SendButtons:
    texts = config.messages
    minutes = max(1, (expires_at - now) // 60)
    extra = [texts.link_validity.format(minutes=minutes)]
    choices: list[tuple[cb.CallbackData, str]] = [
        (cb.RedirectToPayment(order_id=order.id), texts.button_pay_now)
    ]
    checkout = config.checkout
    if checkout.cod_allowed(order.total):
        extra.append(texts.cod_offer)
        choices.append((cb.PayOnDelivery(order_id=order.id), texts.button_pay_on_delivery))
    elif checkout.cash_on_delivery and checkout.cod_max_amount is not None:
        extra.append(texts.cod_over_max.format(max=config.money(checkout.cod_max_amount)))
    choices.append((cb.CancelOrder(order_id=order.id), texts.button_cancel_order))
    text = _order_text(
        config, order, texts.order_header.format(order_id=order.id), texts.order_total, extra
    )
    return buttons(text, *choices)


def payment_link(config: ShopConfig, order: Order, url: str) -> tuple[SendCtaUrl | SendText, ...]:
    """The link as a button, and as plain text for phones that do not show the button."""
    texts = config.messages
    amount = config.money(order.total, order.currency)
    plain = SendText(body=clip(texts.payment_url.format(url=url), limits.TEXT_BODY_MAX))
    if not WEB_URL.match(url):
        return (plain,)
    cta = texts.pay_cta.format(amount=amount)
    button = SendCtaUrl(
        body=body(texts.pay_body.format(amount=amount, order_id=order.id)),
        display_text=cta if len(cta) <= limits.CTA_DISPLAY_TEXT_MAX else texts.button_pay_now,
        url=url,
    )
    return (button, plain)


def receipt(config: ShopConfig, order: Order) -> SendText:
    texts = config.messages
    head = texts.payment_received.format(order_id=order.id)
    return text_message(_order_text(config, order, head, texts.total_paid, ()))


def cod_confirmation(config: ShopConfig, order: Order) -> SendText:
    """The order is confirmed for payment in cash on delivery: what to pay, and for what."""
    texts = config.messages
    total = config.money(order.total, order.currency)
    head = texts.cod_confirmed.format(order_id=order.id, total=total)
    return text_message(_order_text(config, order, head, texts.cod_total, ()))


def retry_payment(text: str, texts: Texts, order_id: str) -> SendButtons:
    return buttons(text, (cb.RedirectToPayment(order_id=order_id), texts.button_pay_now))


# --- the customer's own orders ---------------------------------------------------------------

# Dates as an Indian shop shows them.
SHOP_TIMEZONE = timezone(timedelta(hours=5, minutes=30), "IST")

PAYMENT_STATUS_TEXT = {
    PaymentStatus.AWAITING: "payment_awaiting",
    PaymentStatus.COD_DUE: "payment_cod_due",
    PaymentStatus.PAID: "payment_paid",
    PaymentStatus.PARTLY_REFUNDED: "payment_partly_refunded",
    PaymentStatus.REFUNDED: "payment_refunded",
    PaymentStatus.FLAGGED: "payment_flagged",
    PaymentStatus.EXPIRED: "payment_expired",
    PaymentStatus.CANCELLED: "payment_cancelled",
}
DELIVERY_STATUS_TEXT = {
    FulfilmentStatus.UNFULFILLED: "delivery_unfulfilled",
    FulfilmentStatus.SHIPPED: "delivery_shipped",
    FulfilmentStatus.DELIVERED: "delivery_delivered",
    FulfilmentStatus.CANCELLED: "delivery_cancelled",
}


def order_date(order: Order) -> str:
    return (
        datetime.fromtimestamp(order.created_at, UTC).astimezone(SHOP_TIMEZONE).strftime("%d/%m/%Y")
    )


def payment_status_text(texts: Texts, order: Order) -> str:
    return str(getattr(texts, PAYMENT_STATUS_TEXT[payment_status(order)]))


def delivery_status_text(texts: Texts, order: Order) -> str | None:
    """Where the goods are; None while there is nothing to deliver (the order is not paid and
    the shop has not moved it)."""
    if order.status is not OrderStatus.PAID and order.fulfilment is FulfilmentStatus.UNFULFILLED:
        return None
    return str(getattr(texts, DELIVERY_STATUS_TEXT[order.fulfilment]))


def order_status_text(texts: Texts, order: Order) -> str:
    parts = [payment_status_text(texts, order), delivery_status_text(texts, order)]
    return " · ".join(part for part in parts if part)


def orders_list(config: ShopConfig, orders: Sequence[Order]) -> SendList:
    texts = config.messages

    def order_row(order: Order) -> Row:
        title = texts.order_row_title.format(
            date=order_date(order), total=config.money(order.total, order.currency)
        )
        description = texts.order_row_description.format(
            order_id=order.id, status=order_status_text(texts, order)
        )
        return row(cb.ShowOrder(order_id=order.id), title, description)

    return SendList(
        body=body(texts.orders_body),
        button_label=texts.list_button_orders,
        sections=(
            Section(
                title=texts.section_orders,
                rows=tuple(order_row(order) for order in orders[: limits.LIST_ROWS_MAX]),
            ),
        ),
    )


def order_detail(config: ShopConfig, order: Order) -> SendButtons:
    texts = config.messages
    head = texts.order_detail_header.format(order_id=order.id, date=order_date(order))
    extra = [texts.order_payment_line.format(status=payment_status_text(texts, order))]
    delivery = delivery_status_text(texts, order)
    if delivery is not None:
        extra.append(texts.order_delivery_line.format(status=delivery))
    if order.courier:
        extra.append(texts.shipped_courier.format(courier=shorten(order.courier, 100)))
    if order.tracking_number:
        extra.append(texts.shipped_tracking.format(tracking=shorten(order.tracking_number, 100)))
    if order.tracking_url:
        extra.append(texts.order_tracking_link.format(url=shorten(order.tracking_url, 300)))
    text = _order_text(config, order, head, texts.order_total, extra)
    choices: list[tuple[cb.CallbackData, str]] = []
    link = order.link
    if (
        order.status is OrderStatus.PENDING_PAYMENT
        and link is not None
        and not order.cash_on_delivery
    ):
        choices.append((cb.RedirectToPayment(order_id=order.id), texts.button_pay_now))
    choices.append((cb.OrderAgain(order_id=order.id), texts.button_order_again))
    choices.append((cb.ShowOrders(), texts.button_my_orders))
    return buttons(text, *choices)


# --- language --------------------------------------------------------------------------------


def languages_list(config: ShopConfig) -> SendList:
    texts = config.messages
    rows = tuple(
        row(cb.ChooseLanguage(language=code), config.texts_in(code).language_name, code)
        for code in config.language_codes[: limits.LIST_ROWS_MAX]
    )
    return SendList(
        body=body(texts.language_body),
        button_label=texts.list_button_languages,
        sections=(Section(title=texts.section_languages, rows=rows),),
    )
