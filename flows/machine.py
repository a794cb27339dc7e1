"""The transition function: `step(conversation, event, context) -> Decision`.

All transitions are dispatched from three places, read top to bottom: `step` (by event),
`_on_action` (by button or row) and `_on_text` (by typed word, then by phase). Anything the
machine does not understand leaves the state as it was; a customer always gets an answer, a
payment event that does not apply gets none.
"""

import re
import string
from collections.abc import Callable, Mapping, Sequence
from typing import assert_never

from pydantic import BaseModel, ConfigDict

from flows import callback_data as cb
from flows import cart, stock, views
from flows.catalog import Product, ShopConfig
from flows.effects import (
    AttachPaymentLink,
    CancelPaymentLink,
    ChooseCashOnDelivery,
    CreatePaymentLink,
    Effect,
    PlaceOrder,
    SetLanguage,
    SetOrderStatus,
)
from flows.events import (
    ButtonPressed,
    CatalogOrderReceived,
    Event,
    ListRowPicked,
    LocationReceived,
    MarketingPreferenceChanged,
    MediaReceived,
    PaymentCaptured,
    PaymentEvent,
    PaymentFailed,
    PaymentLinkCancelled,
    PaymentLinkCreated,
    PaymentLinkCreationFailed,
    PaymentLinkExpired,
    ReactionReceived,
    ReminderDue,
    TextReceived,
    UnsupportedReceived,
)
from flows.lifecycle import window_open
from flows.limits import PAYMENT_LINK_MIN_AMOUNT
from flows.messages import OutgoingMessage, SendCtaUrl, SendTemplate
from flows.orders import Order, OrderLine, OrderStatus, PaymentLink
from flows.reminders import (
    CancelReminders,
    ReminderChange,
    ReminderFacts,
    ReminderOutcome,
    ReminderSlot,
    ScheduleReminder,
    SetReminders,
    StoppedBy,
)
from flows.state import (
    AwaitingPayment,
    CartLine,
    ChoosingQuantity,
    Conversation,
    Customer,
    EnteringAddress,
    Idle,
)
from flows.text import shorten
from flows.texts import Texts


class StepContext(BaseModel):
    """Everything a step may know besides the state and the event, supplied by the runner."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    config: ShopConfig
    customer: Customer
    now: int  # Unix seconds
    new_order_id: str  # the id to use if this step places an order (unused otherwise)
    open_order: Order | None = None  # the customer's newest order still awaiting payment
    event_order: Order | None = None  # for payment events: the order the event names, if ours
    language: str | None = None  # the language the customer chose; None: not chosen yet
    # The customer's newest orders, newest first; loaded only when `needs_recent_orders`.
    recent_orders: tuple[Order, ...] = ()
    reminders: ReminderFacts = ReminderFacts()  # the window, the customer's stop, the cap
    # Units of each product whose stock is counted that this customer can have: not held for
    # anyone else's order (their own open order's holds are theirs). Read before the step; a
    # counted product missing here has its config's starting count.
    stock: Mapping[str, int] = {}


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    state: Conversation
    messages: tuple[OutgoingMessage, ...] = ()
    effects: tuple[Effect, ...] = ()
    reminders: tuple[ReminderChange, ...] = ()  # changes to the customer's pending reminders


ADDRESS_MIN_CHARS = 10
ADDRESS_MAX_CHARS = 500
ADDRESS_RAW_MAX_CHARS = 4 * ADDRESS_MAX_CHARS  # before runs of spaces are collapsed
COMMAND_MAX_CHARS = 64  # longer than any command word, greeting or quantity
# A link about to expire is not worth sending again: the customer needs time to pay.
LINK_REUSE_MARGIN_SECONDS = 60
IGNORED_MEDIA = frozenset({"sticker"})
REASON_MAX_CHARS = 200
UNKNOWN_IDS_SHOWN = 10
UNKNOWN_ID_MAX_CHARS = 40
RECENT_ORDERS_SHOWN = 10  # the runner loads this many for `orders`; one list message holds 10
HINDI = "hi"

_WORD_EDGES = string.punctuation + string.whitespace + "।॥…¡¿"
_GREETING = re.compile(
    r"h+i+|h+e+y+|h+e+l+o+|hola|start|namaste+|namaskar|नमस्ते|नमस्कार|good (morning|evening)"
    r"|हाय|हाई|हेलो|हैलो|हेल्लो"
)
_DEVANAGARI = re.compile("[\u0900-\u0965\u0970-\u097f]")  # letters, not digits (५ is a number)
# Names a customer may type for a language, besides its code and its own `language_name`.
_LANGUAGE_ALIASES = {
    "english": "en",
    "angrezi": "en",
    "अंग्रेज़ी": "en",
    "अंग्रेजी": "en",
    "hindi": "hi",
    "हिंदी": "hi",
    "हिन्दी": "hi",
}

Handler = Callable[[Conversation, StepContext], Decision]


def step(conversation: Conversation, event: Event, context: StepContext) -> Decision:
    """The customer's language picks the wording and product names the step works with. A
    customer who has not chosen one and starts a conversation in Devanagari gets Hindi,
    remembered; later messages (an address, a product name) never switch it on their own."""
    language = context.language
    if (
        language is None
        and conversation == Conversation()
        and _writes_devanagari(event)
        and HINDI in context.config.languages
    ):
        language = HINDI
    localized = context.model_copy(update={"config": context.config.in_language(language)})
    decision = _with_reminders(
        conversation, event, localized, _dispatch(conversation, event, localized)
    )
    if language != context.language and language is not None:
        remember = SetLanguage(language=language)
        if not any(isinstance(effect, SetLanguage) for effect in decision.effects):
            decision = decision.model_copy(update={"effects": (*decision.effects, remember)})
    return decision


def _writes_devanagari(event: Event) -> bool:
    return isinstance(event, TextReceived) and bool(_DEVANAGARI.search(event.text[:200]))


def _dispatch(conversation: Conversation, event: Event, context: StepContext) -> Decision:
    match event:
        case TextReceived():
            return _on_text(conversation, event.text, context)
        case ButtonPressed():
            return _on_action(conversation, cb.parse(event.button_id), context)
        case ListRowPicked():
            return _on_action(conversation, cb.parse(event.row_id), context)
        case CatalogOrderReceived():
            return _catalog_order(conversation, event, context)
        case LocationReceived():
            return _location(conversation, event, context)
        case MediaReceived():
            if event.media_type in IGNORED_MEDIA:
                return _unchanged(conversation)
            return _say(conversation, context.config.messages.media_not_supported)
        case ReactionReceived():
            return _unchanged(conversation)
        case UnsupportedReceived():
            return _say(conversation, context.config.messages.unsupported)
        case (
            PaymentLinkCreated()
            | PaymentLinkCreationFailed()
            | PaymentCaptured()
            | PaymentLinkExpired()
            | PaymentLinkCancelled()
            | PaymentFailed()
        ):
            return _on_payment(conversation, event, context)
        case ReminderDue():
            return _reminder_due(conversation, event, context)
        case MarketingPreferenceChanged():
            return _marketing_preference(conversation, event, context)
        case _:
            assert_never(event)


def _on_action(
    conversation: Conversation, action: cb.CallbackData | None, context: StepContext
) -> Decision:
    match action:
        case cb.ShowMenu():
            return _show_menu(conversation, context)
        case cb.ShowHelp():
            return _help(conversation, context)
        case cb.BrowseCategories(page=page):
            return _browse(conversation, context, page)
        case cb.BrowseCategory(category=key, page=page):
            return _browse_category(conversation, context, key, page)
        case cb.ShowProduct(product_id=product_id):
            return _show_product(conversation, context, product_id)
        case cb.ChooseQuantity(product_id=product_id, quantity=quantity):
            return _add_to_cart(conversation, context, product_id, quantity)
        case cb.ViewCart():
            return _view_cart(conversation, context)
        case cb.PickLineToRemove(page=page):
            return _pick_line_to_remove(conversation, context, page)
        case cb.RemoveLine(product_id=product_id):
            return _remove_line(conversation, context, product_id)
        case cb.ClearCart():
            return _clear_cart(conversation, context)
        case cb.Checkout():
            return _checkout(conversation, context)
        case cb.UseSavedAddress():
            return _use_saved_address(conversation, context)
        case cb.EnterNewAddress():
            return _ask_address(conversation, context)
        case cb.RedirectToPayment(order_id=order_id):
            return _redirect_to_payment(conversation, context, order_id)
        case cb.CancelOrder(order_id=order_id):
            return _cancel_order(conversation, context, order_id)
        case cb.PayOnDelivery(order_id=order_id):
            return _pay_on_delivery(conversation, context, order_id)
        case cb.ShowOrders():
            return _show_orders(conversation, context)
        case cb.ShowOrder(order_id=order_id):
            return _show_order(conversation, context, order_id)
        case cb.OrderAgain(order_id=order_id):
            return _order_again(conversation, context, order_id)
        case cb.ShowLanguages():
            return _show_languages(conversation, context)
        case cb.ChooseLanguage(language=code):
            return _choose_language(conversation, context, code)
        case _:
            return _hint(conversation, context)


def _on_text(conversation: Conversation, text: str, context: StepContext) -> Decision:
    word = typed_word(text)
    if word == "start" and context.reminders.stopped_by is not None:
        return _start_reminders(conversation, context)
    if _GREETING.fullmatch(word):
        return _show_menu(conversation, context)
    handler = _WORDS.get(word)
    if handler is not None:
        return handler(conversation, context)
    language = _language_named(context.config, word)
    if language is not None:
        return _choose_language(conversation, context, language)
    match conversation.phase:
        case ChoosingQuantity(product_id=product_id):
            return _typed_quantity(conversation, context, product_id, word)
        case EnteringAddress():
            return _typed_address(conversation, context, text)
        case _:
            return _hint(conversation, context)


def _on_payment(
    conversation: Conversation,
    event: PaymentEvent,
    context: StepContext,
) -> Decision:
    order = context.event_order
    if order is None or order.id != event.order_id:
        return _unchanged(conversation)
    match event:
        case PaymentLinkCreated():
            return _link_created(conversation, context, event, order)
        case PaymentCaptured():
            return _payment_captured(conversation, context, event, order)
        case PaymentLinkExpired():
            return _link_ended(conversation, context, order, event.link_id, OrderStatus.EXPIRED)
        case PaymentLinkCancelled():
            return _link_ended(conversation, context, order, event.link_id, OrderStatus.CANCELLED)
        case PaymentFailed():
            return _payment_failed(conversation, context, event, order)
        case PaymentLinkCreationFailed():
            return _link_creation_failed(conversation, context, event.reason, order)
        case _:
            assert_never(event)


# --- small helpers ----------------------------------------------------------------------------


def typed_word(text: str) -> str:
    """What a typed command looks like once case, spacing and punctuation are set aside.

    Commands, greetings and quantities are short: a long text is none of them, and is not
    split into words at all (a 3 MB message would be a million of them)."""
    if len(text) > COMMAND_MAX_CHARS:
        return ""
    return " ".join(text.casefold().split()).strip(_WORD_EDGES)


def _unchanged(conversation: Conversation) -> Decision:
    return Decision(state=conversation)


def _reply(
    conversation: Conversation, *messages: OutgoingMessage, effects: Sequence[Effect] = ()
) -> Decision:
    return Decision(state=conversation, messages=messages, effects=tuple(effects))


def _say(conversation: Conversation, text: str) -> Decision:
    return _reply(conversation, views.text_message(text))


def _hint(conversation: Conversation, context: StepContext) -> Decision:
    return _say(conversation, context.config.messages.hint)


def _with_notes(notes: Sequence[str], decision: Decision) -> Decision:
    said = tuple(views.text_message(note) for note in notes)
    return decision.model_copy(update={"messages": said + decision.messages})


def _settled(conversation: Conversation) -> Conversation:
    """Leave a question (quantity, address) unanswered; an order awaiting payment stays so."""
    if isinstance(conversation.phase, AwaitingPayment | Idle):
        return conversation
    return conversation.model_copy(update={"phase": Idle()})


def _in_phase(
    conversation: Conversation, phase: Idle | ChoosingQuantity | EnteringAddress | AwaitingPayment
) -> Conversation:
    return conversation.model_copy(update={"phase": phase})


def _done_with(conversation: Conversation, order_id: str) -> Conversation:
    """Back to Idle if the conversation was waiting for this order's payment."""
    if conversation.phase == AwaitingPayment(order_id=order_id):
        return _in_phase(conversation, Idle())
    return conversation


# --- menu and browsing -----------------------------------------------------------------------


def _show_menu(conversation: Conversation, context: StepContext) -> Decision:
    return _reply(_settled(conversation), views.welcome(context.config))


def _help(conversation: Conversation, context: StepContext) -> Decision:
    return _reply(conversation, views.help_menu(context.config))


def _browse(conversation: Conversation, context: StepContext, page: int) -> Decision:
    categories = context.config.catalog.categories
    if not categories:
        return _say(_settled(conversation), context.config.messages.nothing_available)
    if len(categories) == 1:
        first = views.products_page(context.config, categories[0], 0, context.stock)
        return _reply(_settled(conversation), first)
    return _reply(_settled(conversation), views.categories_page(context.config, page))


def _browse_category(
    conversation: Conversation, context: StepContext, key: str, page: int
) -> Decision:
    category = views.category_named_by(key, context.config.catalog.categories)
    if category is None:
        return _hint(conversation, context)
    shown = views.products_page(context.config, category, page, context.stock)
    return _reply(_settled(conversation), shown)


def _show_product(conversation: Conversation, context: StepContext, product_id: str) -> Decision:
    product = context.config.catalog.available(product_id)
    if product is None:
        return _no_longer_available(conversation, context, product_id)
    left = stock.left(context.stock, product)
    if left == 0:
        return _sold_out(conversation, context, product)
    return _reply(
        _in_phase(conversation, ChoosingQuantity(product_id=product.id)),
        views.product_details(context.config, product, left),
    )


def _sold_out(conversation: Conversation, context: StepContext, product: Product) -> Decision:
    texts = context.config.messages
    text = texts.product_sold_out.format(product=product.name)
    return _reply(_settled(conversation), views.offer_browse(text, texts))


def _no_longer_available(
    conversation: Conversation, context: StepContext, product_id: str
) -> Decision:
    texts = context.config.messages
    known = context.config.catalog.get(product_id)
    if known is None:
        return _hint(conversation, context)
    text = texts.product_unavailable.format(product=known.name)
    return _reply(_settled(conversation), views.offer_browse(text, texts))


# --- cart ------------------------------------------------------------------------------------


def _typed_quantity(
    conversation: Conversation, context: StepContext, product_id: str, word: str
) -> Decision:
    maximum = context.config.checkout.max_quantity_per_item
    if word.isdecimal() and 1 <= int(word) <= maximum:
        return _add_to_cart(conversation, context, product_id, int(word))
    return _say(conversation, context.config.messages.quantity_invalid.format(max=maximum))


def _add_to_cart(
    conversation: Conversation, context: StepContext, product_id: str, quantity: int
) -> Decision:
    config, texts = context.config, context.config.messages
    product = config.catalog.available(product_id)
    if product is None:
        return _no_longer_available(conversation, context, product_id)
    left = stock.left(context.stock, product)
    if left == 0:
        return _sold_out(conversation, context, product)
    maximum = config.checkout.max_quantity_per_item
    limit = maximum if left is None else min(maximum, left)
    added = cart.add(conversation.cart, product.id, quantity, limit)
    notes = [texts.added_to_cart.format(quantity=quantity, product=product.name)]
    if added.capped and limit < maximum:
        notes.append(texts.stock_capped.format(left=limit, product=product.name))
    elif added.capped:
        notes.append(texts.quantity_capped.format(max=maximum, product=product.name))
    updated = _settled(conversation).model_copy(update={"cart": added.cart})
    priced = cart.price(added.cart, config.catalog)
    return _reply(updated, views.after_adding(config, priced, notes))


def _view_cart(
    conversation: Conversation, context: StepContext, notes: Sequence[str] = ()
) -> Decision:
    config = context.config
    settled = _settled(conversation)
    if not conversation.cart:
        text = "\n".join([*notes, config.messages.cart_empty])
        return _reply(settled, views.offer_browse(text, config.messages))
    priced = cart.price(conversation.cart, config.catalog)
    return _reply(settled, views.cart_view(config, priced, notes))


def _pick_line_to_remove(conversation: Conversation, context: StepContext, page: int) -> Decision:
    priced = cart.price(conversation.cart, context.config.catalog)
    if not priced.lines:
        return _view_cart(conversation, context)
    return _reply(_settled(conversation), views.remove_list(context.config, priced, page))


def _remove_line(conversation: Conversation, context: StepContext, product_id: str) -> Decision:
    if all(line.product_id != product_id for line in conversation.cart):
        return _view_cart(conversation, context)
    known = context.config.catalog.get(product_id)
    name = known.name if known is not None else product_id
    updated = conversation.model_copy(update={"cart": cart.remove(conversation.cart, product_id)})
    note = context.config.messages.item_removed.format(product=name)
    return _view_cart(updated, context, [note])


def _clear_cart(conversation: Conversation, context: StepContext) -> Decision:
    texts = context.config.messages
    cleared = _settled(conversation).model_copy(update={"cart": ()})
    return _reply(cleared, views.offer_browse(texts.cart_cleared, texts))


def _catalog_order(
    conversation: Conversation, event: CatalogOrderReceived, context: StepContext
) -> Decision:
    config, texts = context.config, context.config.messages
    maximum = config.checkout.max_quantity_per_item
    ordered = cart.from_catalog_order(event.items, config.catalog, maximum)
    notes = [texts.quantity_capped.format(max=maximum, product=p.name) for p in ordered.capped]
    if ordered.unknown_ids:
        notes.append(texts.catalog_unknown_items.format(ids=_some_ids(ordered.unknown_ids, texts)))
    if ordered.truncated:
        notes.append(texts.catalog_too_many_items.format(max=cart.MAX_CATALOG_ORDER_ITEMS))
    if not ordered.cart:
        # Keep the cart the customer had: an order of nothing usable should not wipe it.
        return _reply(
            conversation,
            views.offer_browse("\n".join([*notes, texts.catalog_nothing_valid]), texts),
        )
    replaced = _settled(conversation).model_copy(update={"cart": ordered.cart})
    if ordered.truncated:
        # Part of what they sent was not read: let them look before anything is charged.
        return _view_cart(replaced, context, notes)
    return _with_notes(notes, _checkout(replaced, context))


def _some_ids(ids: Sequence[str], texts: Texts) -> str:
    """The first few unknown ids, each short: they are the customer's own words, echoed back."""
    shown = [shorten(product_id, UNKNOWN_ID_MAX_CHARS) for product_id in ids[:UNKNOWN_IDS_SHOWN]]
    if len(ids) > UNKNOWN_IDS_SHOWN:
        shown.append(texts.more_lines.format(count=len(ids) - UNKNOWN_IDS_SHOWN))
    return ", ".join(shown)


# --- checkout --------------------------------------------------------------------------------


def _checkout(conversation: Conversation, context: StepContext) -> Decision:
    config, texts = context.config, context.config.messages
    checked, priced, notes, short = _checked_cart(conversation, context)
    if not priced.lines or short:
        # Sold out or fewer left than asked for: they look at the new cart before paying.
        return _view_cart(checked, context, notes)
    if priced.total < PAYMENT_LINK_MIN_AMOUNT:
        return _with_notes(notes, _too_small(checked, context))
    if not config.checkout.collect_address:
        return _with_notes(notes, _place_order(checked, context, None))
    if checked.address is None:
        return _with_notes(notes, _ask_address(checked, context))
    offer = views.buttons(
        texts.confirm_address.format(address=checked.address),
        (cb.UseSavedAddress(), texts.button_use_address),
        (cb.EnterNewAddress(), texts.button_new_address),
    )
    return _with_notes(notes, _reply(_in_phase(checked, EnteringAddress()), offer))


def _checked_cart(
    conversation: Conversation, context: StepContext
) -> tuple[Conversation, cart.PricedCart, list[str], bool]:
    """The cart without lines whose product is gone or sold out, lines cut to what is left,
    notes naming what changed, and whether stock changed it (then the customer looks again)."""
    texts, catalog = context.config.messages, context.config.catalog
    priced = cart.price(conversation.cart, catalog)
    notes: list[str] = []
    if priced.unavailable:
        notes.append(texts.items_dropped.format(products=", ".join(priced.unavailable)))
    fitted = stock.fit(priced, context.stock)
    if fitted.sold_out:
        names = ", ".join(product.name for product in fitted.sold_out)
        notes.append(texts.sold_out_dropped.format(products=names))
    for product, left in fitted.reduced:
        notes.append(texts.stock_capped.format(left=left, product=product.name))
    if not notes:
        return conversation, priced, [], False
    checked = conversation.model_copy(update={"cart": fitted.cart})
    return checked, cart.price(fitted.cart, catalog), notes, fitted.changed


def _too_small(conversation: Conversation, context: StepContext) -> Decision:
    minimum = context.config.money(PAYMENT_LINK_MIN_AMOUNT)
    text = context.config.messages.amount_too_small.format(minimum=minimum)
    return _say(_settled(conversation), text)


def _ask_address(conversation: Conversation, context: StepContext) -> Decision:
    return _say(_in_phase(conversation, EnteringAddress()), context.config.messages.ask_address)


def _use_saved_address(conversation: Conversation, context: StepContext) -> Decision:
    if conversation.address is None:
        return _ask_address(conversation, context)
    return _deliver_to(conversation, context, conversation.address)


def _typed_address(conversation: Conversation, context: StepContext, text: str) -> Decision:
    texts = context.config.messages
    if len(text) > ADDRESS_RAW_MAX_CHARS:  # too long however it is spaced: not split line by line
        return _say(conversation, texts.address_too_long.format(max=ADDRESS_MAX_CHARS))
    address = "\n".join(
        " ".join(line.split()) for line in text.strip().splitlines() if line.strip()
    )
    if len(address) < ADDRESS_MIN_CHARS:
        return _say(conversation, texts.address_too_short.format(min=ADDRESS_MIN_CHARS))
    if len(address) > ADDRESS_MAX_CHARS:
        return _say(conversation, texts.address_too_long.format(max=ADDRESS_MAX_CHARS))
    return _deliver_to(conversation, context, address)


def _location(
    conversation: Conversation, event: LocationReceived, context: StepContext
) -> Decision:
    if not isinstance(conversation.phase, EnteringAddress):
        return _say(conversation, context.config.messages.location_not_needed)
    named = ", ".join(part.strip() for part in (event.name, event.address) if part.strip())
    address = named or f"{event.latitude:.6f}, {event.longitude:.6f}"
    return _deliver_to(conversation, context, shorten(address, ADDRESS_MAX_CHARS))


def _deliver_to(conversation: Conversation, context: StepContext, address: str) -> Decision:
    with_address = conversation.model_copy(update={"address": address})
    checked, priced, notes, short = _checked_cart(with_address, context)
    if not priced.lines or short:
        return _view_cart(checked, context, notes)
    if priced.total < PAYMENT_LINK_MIN_AMOUNT:
        return _with_notes(notes, _too_small(checked, context))
    return _with_notes(notes, _place_order(checked, context, address))


# --- orders ----------------------------------------------------------------------------------


def _place_order(conversation: Conversation, context: StepContext, address: str | None) -> Decision:
    """Reuse the open order when nothing changed and its link is good; else replace it."""
    texts, now = context.config.messages, context.now
    lines = cart.price(conversation.cart, context.config.catalog).order_lines()
    open_order = _open_order(context)
    effects: list[Effect] = []
    if open_order is not None:
        if _same_order(open_order, lines, address):
            waiting = _in_phase(conversation, AwaitingPayment(order_id=open_order.id))
            link = open_order.link
            if link is None:
                return _say(waiting, texts.link_on_the_way.format(order_id=open_order.id))
            if link.expires_at > now + LINK_REUSE_MARGIN_SECONDS:
                summary = views.order_summary(context.config, open_order, link.expires_at, now)
                return _reply(waiting, summary)
        effects += _cancel_effects(open_order, now, "replaced by a new order")
    order = _new_order(context, lines, address)
    expire_by = now + context.config.checkout.payment_link_expiry_minutes * 60
    hold = stock.counted(context.config.catalog, tuple(line.product_id for line in lines))
    effects += [
        PlaceOrder(order=order, hold=hold),
        CreatePaymentLink(order_id=order.id, expire_by=expire_by),
    ]
    waiting = _in_phase(conversation, AwaitingPayment(order_id=order.id))
    return _reply(
        waiting, views.text_message(texts.preparing_link.format(order_id=order.id)), effects=effects
    )


def _new_order(context: StepContext, lines: tuple[OrderLine, ...], address: str | None) -> Order:
    return Order(
        id=context.new_order_id,
        customer_key=context.customer.key,
        lines=lines,
        total=sum(line.total for line in lines),
        currency=context.config.shop.currency,
        address=address,
        created_at=context.now,
    )


def _open_order(context: StepContext) -> Order | None:
    """The customer's order awaiting online payment (a cash-on-delivery one is confirmed)."""
    order = context.open_order
    if order is None or order.status is not OrderStatus.PENDING_PAYMENT:
        return None
    if order.cash_on_delivery:
        return None
    return order if order.customer_key == context.customer.key else None


def _known_order(context: StepContext, order_id: str) -> Order | None:
    """The customer's order with this id, if the runner gave it to us."""
    for order in (context.event_order, context.open_order):
        if (
            order is not None
            and order.id == order_id
            and order.customer_key == context.customer.key
        ):
            return order
    return None


def _same_order(order: Order, lines: tuple[OrderLine, ...], address: str | None) -> bool:
    def key(items: tuple[OrderLine, ...]) -> list[tuple[str, int, int]]:
        return sorted((line.product_id, line.quantity, line.unit_price) for line in items)

    return key(order.lines) == key(lines) and order.address == address


def _cancel_effects(order: Order, now: int, reason: str) -> list[Effect]:
    effects: list[Effect] = []
    if order.link is not None and not order.cash_on_delivery:  # a COD order's is cancelled
        effects.append(CancelPaymentLink(order_id=order.id, link_id=order.link.id))
    effects.append(
        SetOrderStatus(order_id=order.id, status=OrderStatus.CANCELLED, at=now, reason=reason)
    )
    return effects


def _cancel(conversation: Conversation, context: StepContext) -> Decision:
    texts = context.config.messages
    idle = _in_phase(conversation, Idle())
    match conversation.phase:
        case ChoosingQuantity() | EnteringAddress():
            return _reply(idle, views.menu(texts.cancelled, texts))
        case AwaitingPayment():
            open_order = _open_order(context)
            if open_order is not None:
                return _cancel_open_order(idle, context, open_order)
    return _reply(idle, views.menu(texts.nothing_to_cancel, texts))


def _cancel_open_order(conversation: Conversation, context: StepContext, order: Order) -> Decision:
    texts = context.config.messages
    effects = _cancel_effects(order, context.now, "cancelled by the customer")
    message = views.menu(texts.order_cancelled.format(order_id=order.id), texts)
    return _reply(_done_with(conversation, order.id), message, effects=effects)


def _cancel_order(conversation: Conversation, context: StepContext, order_id: str) -> Decision:
    order = _known_order(context, order_id)
    if order is not None and order.cash_on_delivery and order.fulfilment.is_underway:
        return _order_not_open(conversation, context, order_id, order)  # on its way already
    if order is not None and order.status is OrderStatus.PENDING_PAYMENT:
        return _cancel_open_order(conversation, context, order)
    return _order_not_open(conversation, context, order_id, order)


def _order_not_open(
    conversation: Conversation, context: StepContext, order_id: str, order: Order | None
) -> Decision:
    texts = context.config.messages
    if order is not None and order.status is OrderStatus.PAID:
        return _say(conversation, texts.already_paid.format(order_id=order_id))
    if order is not None and order.status is OrderStatus.PENDING_PAYMENT and order.cash_on_delivery:
        total = context.config.money(order.total, order.currency)
        return _say(conversation, texts.cod_already.format(order_id=order_id, total=total))
    if order is not None and order.status is OrderStatus.FLAGGED:
        return _say(conversation, texts.payment_checking.format(order_id=order_id))
    text = texts.order_not_open.format(order_id=order_id)
    return _reply(conversation, views.offer_checkout(text, texts.button_checkout))


def _redirect_to_payment(
    conversation: Conversation, context: StepContext, order_id: str
) -> Decision:
    texts = context.config.messages
    order = _known_order(context, order_id)
    if order is None or order.status is not OrderStatus.PENDING_PAYMENT or order.cash_on_delivery:
        return _order_not_open(conversation, context, order_id, order)
    if order.link is None:
        return _say(conversation, texts.link_on_the_way.format(order_id=order.id))
    if order.link.expires_at <= context.now:
        text = texts.link_expired.format(order_id=order.id)
        return _reply(conversation, views.offer_checkout(text, texts.button_new_link))
    return _reply(conversation, *views.payment_link(context.config, order, order.link.url))


def _pay_on_delivery(conversation: Conversation, context: StepContext, order_id: str) -> Decision:
    """The customer chose to pay in cash when the goods arrive: confirm the order at once
    (payment due), cancel its payment link, and tell the merchant to pack it."""
    config = context.config
    texts = config.messages
    order = _known_order(context, order_id)
    if order is None or order.status is not OrderStatus.PENDING_PAYMENT or order.cash_on_delivery:
        return _order_not_open(conversation, context, order_id, order)
    if not config.checkout.cash_on_delivery:
        return _reply(conversation, views.retry_payment(texts.cod_not_offered, texts, order.id))
    if not config.checkout.cod_allowed(order.total):
        maximum = config.checkout.cod_max_amount or 0
        text = texts.cod_refused_over_max.format(
            max=config.money(maximum, order.currency),
            order_id=order.id,
            total=config.money(order.total, order.currency),
        )
        return _reply(conversation, views.retry_payment(text, texts, order.id))
    effects: list[Effect] = [ChooseCashOnDelivery(order_id=order.id, at=context.now)]
    if order.link is not None:
        effects.append(CancelPaymentLink(order_id=order.id, link_id=order.link.id))
    emptied = conversation.model_copy(update={"cart": (), "phase": Idle()})
    return _reply(emptied, views.cod_confirmation(config, order), effects=effects)


# --- the customer's own orders ---------------------------------------------------------------


def _show_orders(conversation: Conversation, context: StepContext) -> Decision:
    texts = context.config.messages
    orders = [o for o in context.recent_orders if o.customer_key == context.customer.key]
    if not orders:
        return _reply(_settled(conversation), views.offer_browse(texts.orders_none, texts))
    return _reply(_settled(conversation), views.orders_list(context.config, orders))


def _show_order(conversation: Conversation, context: StepContext, order_id: str) -> Decision:
    order = _known_order(context, order_id)
    if order is None:
        return _say(conversation, context.config.messages.order_unknown)
    return _reply(_settled(conversation), views.order_detail(context.config, order))


def _order_again(conversation: Conversation, context: StepContext, order_id: str) -> Decision:
    """The order's products at today's prices, in the cart in the order's quantities (other
    lines stay; a second tap changes nothing); products gone are named and left out."""
    config, texts = context.config, context.config.messages
    order = _known_order(context, order_id)
    if order is None:
        return _say(conversation, texts.order_unknown)
    maximum = config.checkout.max_quantity_per_item
    filled = conversation.cart
    changed: list[str] = []
    left_out: list[str] = []
    found = False
    for line in order.lines:
        product = config.catalog.available(line.product_id)
        if product is None:
            known = config.catalog.get(line.product_id)
            left_out.append(known.name if known is not None else line.name)
            continue
        filled = cart.add(cart.remove(filled, product.id), product.id, line.quantity, maximum).cart
        found = True
        if product.price != line.unit_price:
            changed.append(
                texts.reorder_price_changed.format(
                    product=product.name,
                    price=config.money(product.price),
                    old_price=config.money(line.unit_price, order.currency),
                )
            )
    gone = [texts.reorder_left_out.format(products=", ".join(left_out))] if left_out else []
    if not found:
        text = "\n".join([texts.reorder_nothing.format(order_id=order.id), *gone])
        return _reply(_settled(conversation), views.offer_browse(text, texts))
    notes = [texts.reorder_added.format(order_id=order.id), *changed, *gone]
    return _view_cart(conversation.model_copy(update={"cart": filled}), context, notes)


# --- language --------------------------------------------------------------------------------


def _show_languages(conversation: Conversation, context: StepContext) -> Decision:
    """Every shop speaks at least English and the bundled Hindi."""
    return _reply(_settled(conversation), views.languages_list(context.config))


def _choose_language(conversation: Conversation, context: StepContext, code: str) -> Decision:
    """Switch to a language the shop speaks, and greet the customer in it."""
    if code not in context.config.language_codes:
        return _show_languages(conversation, context)
    chosen = context.config.in_language(code)
    decision = _reply(_settled(conversation), views.welcome(chosen))
    return decision.model_copy(update={"effects": (SetLanguage(language=code),)})


def _language_named(config: ShopConfig, word: str) -> str | None:
    """The language a typed word names (`hindi`, `हिन्दी`, `ta`), if the shop speaks it."""
    for code in config.language_codes:
        if word in (code, config.texts_in(code).language_name.casefold()):
            return code
    alias = _LANGUAGE_ALIASES.get(word)
    return alias if alias in config.language_codes else None


# --- payment events --------------------------------------------------------------------------


def _link_created(
    conversation: Conversation, context: StepContext, event: PaymentLinkCreated, order: Order
) -> Decision:
    cancel_new_link = CancelPaymentLink(order_id=order.id, link_id=event.link_id)
    if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED) or order.cash_on_delivery:
        # Nobody will pay this link: the order ended, or is paid in cash on delivery.
        return _reply(conversation, effects=[cancel_new_link])
    if order.status is not OrderStatus.PENDING_PAYMENT:
        return _unchanged(conversation)
    if order.link is not None and order.link.id != event.link_id:
        return _reply(conversation, effects=[cancel_new_link])
    link = PaymentLink(id=event.link_id, url=event.url, expires_at=event.expires_at)
    summary = views.order_summary(context.config, order, event.expires_at, context.now)
    return _reply(conversation, summary, effects=[AttachPaymentLink(order_id=order.id, link=link)])


def _payment_captured(
    conversation: Conversation, context: StepContext, event: PaymentCaptured, order: Order
) -> Decision:
    if order.status in (OrderStatus.PAID, OrderStatus.FLAGGED):
        return _unchanged(conversation)
    texts = context.config.messages
    mismatches = payment_mismatches(event, order)
    if mismatches:
        flag = SetOrderStatus(
            order_id=order.id,
            status=OrderStatus.FLAGGED,
            payment_id=event.payment_id,
            at=context.now,
            reason="payment does not match the order: " + "; ".join(mismatches),
        )
        text = texts.payment_checking.format(order_id=order.id)
        return _reply(_done_with(conversation, order.id), views.text_message(text), effects=[flag])
    paid = SetOrderStatus(
        order_id=order.id, status=OrderStatus.PAID, payment_id=event.payment_id, at=context.now
    )
    emptied = conversation.model_copy(update={"cart": (), "phase": Idle()})
    return _reply(emptied, views.receipt(context.config, order), effects=[paid])


def payment_mismatches(event: PaymentCaptured, order: Order) -> list[str]:
    """What in a captured payment disagrees with our order; empty when it may be confirmed."""
    found: list[str] = []
    if order.link is not None and event.link_id != order.link.id:
        found.append(f"link {event.link_id!r} is not {order.link.id!r}")
    if event.order_id != order.id:
        found.append(f"reference {event.order_id!r} is not {order.id!r}")
    if event.currency != order.currency:
        found.append(f"currency {event.currency!r} is not {order.currency!r}")
    if event.amount != order.total:
        found.append(f"link amount {event.amount} is not the total {order.total}")
    if event.amount_paid != order.total:
        found.append(f"amount paid {event.amount_paid} is not the total {order.total}")
    return found


def _link_ended(
    conversation: Conversation,
    context: StepContext,
    order: Order,
    link_id: str,
    status: OrderStatus,
) -> Decision:
    if order.status is not OrderStatus.PENDING_PAYMENT or order.link is None:
        return _unchanged(conversation)
    if order.link.id != link_id or order.cash_on_delivery:  # we cancelled it: cash instead
        return _unchanged(conversation)
    texts = context.config.messages
    template = texts.link_expired if status is OrderStatus.EXPIRED else texts.link_cancelled
    effect = SetOrderStatus(
        order_id=order.id, status=status, at=context.now, reason=f"payment link {status.value}"
    )
    offer = views.offer_checkout(template.format(order_id=order.id), texts.button_new_link)
    return _reply(_done_with(conversation, order.id), offer, effects=[effect])


def _payment_failed(
    conversation: Conversation, context: StepContext, event: PaymentFailed, order: Order
) -> Decision:
    if order.status is not OrderStatus.PENDING_PAYMENT or order.cash_on_delivery:
        return _unchanged(conversation)
    texts = context.config.messages
    parts = [texts.payment_failed.format(order_id=order.id)]
    if event.reason.strip():
        reason = shorten(event.reason, REASON_MAX_CHARS)
        parts.append(texts.payment_failed_reason.format(reason=reason))
    return _reply(conversation, views.retry_payment("\n".join(parts), texts, order.id))


def _link_creation_failed(
    conversation: Conversation, context: StepContext, reason: str, order: Order
) -> Decision:
    if order.status is not OrderStatus.PENDING_PAYMENT:
        return _unchanged(conversation)
    texts = context.config.messages
    effect = SetOrderStatus(
        order_id=order.id,
        status=OrderStatus.CANCELLED,
        at=context.now,
        reason=reason or "the payment link could not be created",
    )
    text = texts.link_creation_failed.format(order_id=order.id)
    offer = views.offer_checkout(text, texts.button_try_again)
    return _reply(_done_with(conversation, order.id), offer, effects=[effect])


_ORDERS_WORDS = frozenset(
    {"orders", "order", "my orders", "order history", "ऑर्डर", "आर्डर", "मेरे ऑर्डर", "मेरे आर्डर"}
)


def needs_recent_orders(event: Event) -> bool:
    """Whether the runner should load the customer's recent orders for this event (only the
    list of orders needs them; one order is loaded by `referenced_order_id`)."""
    if isinstance(event, TextReceived):
        return typed_word(event.text) in _ORDERS_WORDS
    if isinstance(event, ButtonPressed | ListRowPicked):
        packed = event.button_id if isinstance(event, ButtonPressed) else event.row_id
        return isinstance(cb.parse(packed), cb.ShowOrders)
    return False


def referenced_order_id(event: Event) -> str | None:
    """The order an event is about, so the runner can load it before the step: payment events
    name it, and so do the Pay now, Cancel order, order details and Order again buttons."""
    if isinstance(event, ButtonPressed | ListRowPicked):
        packed = event.button_id if isinstance(event, ButtonPressed) else event.row_id
        action = cb.parse(packed)
        if isinstance(
            action,
            cb.RedirectToPayment | cb.CancelOrder | cb.PayOnDelivery | cb.ShowOrder | cb.OrderAgain,
        ):
            return action.order_id
        return None
    return getattr(event, "order_id", None)


# --- reminders (flows/reminders.py) -------------------------------------------------------------

CUSTOMER_EVENTS = (
    TextReceived,
    ButtonPressed,
    ListRowPicked,
    CatalogOrderReceived,
    LocationReceived,
    MediaReceived,
    ReactionReceived,
    UnsupportedReceived,
)
_CLOSED = (OrderStatus.PAID, OrderStatus.FLAGGED, OrderStatus.CANCELLED)


def _with_reminders(
    before: Conversation, event: Event, context: StepContext, decision: Decision
) -> Decision:
    """The step's changes to the schedule: any message from the customer cancels what is
    pending (and the late-window payment reminder is planned again from that message); a paid,
    flagged or cancelled order cancels too; a new payment link plans both payment reminders.
    With nothing pending there is nothing to cancel, and no statement is spent on it."""
    rules = context.config.reminders
    changes: list[ReminderChange] = list(decision.reminders)
    stopped = context.reminders.stopped_by
    for change in changes:
        if isinstance(change, SetReminders):
            stopped = change.stopped_by
    closed = any(
        isinstance(effect, SetOrderStatus) and effect.status in _CLOSED
        for effect in decision.effects
    )
    if context.reminders.pending and isinstance(event, CUSTOMER_EVENTS):
        changes.insert(0, CancelReminders(reason="the customer wrote"))
    elif context.reminders.pending and closed:
        changes.insert(0, CancelReminders(reason="the order was paid or cancelled"))
    if stopped is None:
        now, after = context.now, decision.state
        if isinstance(event, CUSTOMER_EVENTS):
            if isinstance(after.phase, AwaitingPayment):
                changes += _after_message(after.phase.order_id, decision, context)
            elif rules.cart_nudge_after_minutes and after.cart and after.cart != before.cart:
                due = now + rules.cart_nudge_after_minutes * 60
                changes.append(_schedule(ReminderSlot.CART, due, None))
        elif isinstance(event, PaymentLinkCreated) and any(
            isinstance(effect, AttachPaymentLink) for effect in decision.effects
        ):
            changes += _after_link(event.order_id, context)
    if not changes:
        return decision
    return decision.model_copy(update={"reminders": tuple(changes)})


def _schedule(slot: ReminderSlot, due_at: int, order_id: str | None) -> ScheduleReminder:
    return ScheduleReminder(slot=slot, due_at=due_at, order_id=order_id)


def _after_message(order_id: str, decision: Decision, context: StepContext) -> list[ReminderChange]:
    """The customer wrote while an order waits for payment: the late-window reminder counts
    from this message; if this step showed them the link (Pay now), the soon one counts from
    it too."""
    rules, now = context.config.reminders, context.now
    planned: list[ReminderChange] = []
    if rules.payment_first_after_minutes and any(
        isinstance(message, SendCtaUrl) for message in decision.messages
    ):
        due = now + rules.payment_first_after_minutes * 60
        planned.append(_schedule(ReminderSlot.PAYMENT_FIRST, due, order_id))
    if rules.payment_second_after_hours:
        due = now + rules.payment_second_after_hours * 3600
        planned.append(_schedule(ReminderSlot.PAYMENT_SECOND, due, order_id))
    return planned


def _after_link(order_id: str, context: StepContext) -> list[ReminderChange]:
    """One reminder soon after the link, one late in the window (counted from the customer's
    last message, so it still lands inside it)."""
    rules, now = context.config.reminders, context.now
    planned: list[ReminderChange] = []
    first_due = now + rules.payment_first_after_minutes * 60
    if rules.payment_first_after_minutes:
        planned.append(_schedule(ReminderSlot.PAYMENT_FIRST, first_due, order_id))
    last = context.reminders.last_inbound_at
    if rules.payment_second_after_hours and last is not None:
        second_due = last + rules.payment_second_after_hours * 3600
        if second_due > first_due:
            planned.append(_schedule(ReminderSlot.PAYMENT_SECOND, second_due, order_id))
    return planned


def _reminder_due(conversation: Conversation, event: ReminderDue, context: StepContext) -> Decision:
    rules, facts = context.config.reminders, context.reminders
    if facts.stopped_by is not None:
        return _reminder_skipped(conversation, event, f"reminders are off ({facts.stopped_by})")
    if facts.sent_since_inbound >= rules.max_unanswered:
        note = f"{facts.sent_since_inbound} sent since the customer's last message (the cap)"
        return _reminder_skipped(conversation, event, note)
    if event.slot is ReminderSlot.CART:
        return _cart_reminder(conversation, event, context)
    return _payment_reminder(conversation, event, context)


def _reminder_skipped(conversation: Conversation, event: ReminderDue, note: str) -> Decision:
    outcome = ReminderOutcome(reminder_id=event.reminder_id, sent=False, note=note)
    return Decision(state=conversation, reminders=(outcome,))


def _reminder_sent(decision: Decision, event: ReminderDue, note: str) -> Decision:
    outcome = ReminderOutcome(reminder_id=event.reminder_id, sent=True, note=note)
    return decision.model_copy(update={"reminders": (*decision.reminders, outcome)})


def _in_window(context: StepContext) -> bool:
    return window_open(context.reminders.last_inbound_at, context.now)


def _payment_reminder(
    conversation: Conversation, event: ReminderDue, context: StepContext
) -> Decision:
    """The link again while it is good; a fresh one if it expired (the customer's cart being
    what they ordered); nothing for a paid, cancelled or replaced order."""
    order = _known_order(context, event.order_id or "")
    if order is None:
        return _reminder_skipped(conversation, event, "the order is not the customer's")
    if order.cash_on_delivery:
        return _reminder_skipped(conversation, event, "it is paid in cash on delivery")
    if order.status is OrderStatus.PENDING_PAYMENT:
        current = _open_order(context)
        if current is None or current.id != order.id:
            return _reminder_skipped(conversation, event, "a newer order replaced it")
        link = order.link
        if link is None:
            return _reminder_skipped(conversation, event, "its payment link is not made yet")
        if link.expires_at > context.now + LINK_REUSE_MARGIN_SECONDS:
            return _link_reminder(conversation, event, context, order, link)
    elif order.status is not OrderStatus.EXPIRED:
        return _reminder_skipped(conversation, event, f"the order is {order.status.value}")
    return _fresh_link_reminder(conversation, event, context, order)


def _link_reminder(
    conversation: Conversation,
    event: ReminderDue,
    context: StepContext,
    order: Order,
    link: PaymentLink,
) -> Decision:
    texts = context.config.messages
    if _in_window(context):
        said = views.text_message(texts.payment_reminder.format(order_id=order.id))
        messages = (said, *views.payment_link(context.config, order, link.url))
        return _reminder_sent(_reply(conversation, *messages), event, "the link again")
    template = context.config.templates.payment_reminder
    if template is None:
        why = "outside the 24-hour window and no [templates] payment_reminder in config.toml"
        return _reminder_skipped(conversation, event, why)
    message = SendTemplate(
        name=template.name,
        language=template.language,
        body_parameters=(order.id, context.config.money(order.total, order.currency), link.url),
    )
    return _reminder_sent(_reply(conversation, message), event, "template (window closed)")


def _fresh_link_reminder(
    conversation: Conversation, event: ReminderDue, context: StepContext, order: Order
) -> Decision:
    if not _in_window(context):
        return _reminder_skipped(conversation, event, "the link expired and the window closed")

    def items(lines: Sequence[CartLine | OrderLine]) -> list[tuple[str, int]]:
        return sorted((line.product_id, line.quantity) for line in lines)

    if items(conversation.cart) != items(order.lines):
        return _reminder_skipped(conversation, event, "the cart changed since the order")
    checked, priced, notes, short = _checked_cart(conversation, context)
    if short:  # the customer sees a cart stock changed before paying for it (as at checkout)
        return _reminder_skipped(conversation, event, "stock changed what can be ordered")
    if not priced.lines or priced.total < PAYMENT_LINK_MIN_AMOUNT:
        return _reminder_skipped(conversation, event, "nothing left to pay for")
    note = context.config.messages.payment_reminder_fresh_link.format(order_id=order.id)
    placed = _place_order(checked, context, order.address)
    return _reminder_sent(_with_notes([note, *notes], placed), event, "a fresh link")


def _cart_reminder(
    conversation: Conversation, event: ReminderDue, context: StepContext
) -> Decision:
    if not _in_window(context):
        return _reminder_skipped(conversation, event, "outside the 24-hour window")
    if isinstance(conversation.phase, AwaitingPayment):
        return _reminder_skipped(conversation, event, "an order is waiting for payment")
    priced = cart.price(conversation.cart, context.config.catalog)
    if not priced.lines:
        return _reminder_skipped(conversation, event, "the cart is empty")
    message = views.cart_view(context.config, priced, [context.config.messages.cart_reminder])
    return _reminder_sent(_reply(conversation, message), event, "cart nudge")


def _stop_reminders(conversation: Conversation, context: StepContext) -> Decision:
    changes: tuple[ReminderChange, ...] = (
        CancelReminders(reason="the customer typed stop"),
        SetReminders(stopped_by=StoppedBy.CUSTOMER),
    )
    said = _say(conversation, context.config.messages.reminders_stopped)
    return said.model_copy(update={"reminders": changes})


def _start_reminders(conversation: Conversation, context: StepContext) -> Decision:
    shown = _with_notes(
        [context.config.messages.reminders_started], _show_menu(conversation, context)
    )
    return shown.model_copy(update={"reminders": (SetReminders(stopped_by=None),)})


def _marketing_preference(
    conversation: Conversation, event: MarketingPreferenceChanged, context: StepContext
) -> Decision:
    """Meta's opt-out stops reminders (nothing is said); its resume undoes only its own stop,
    never a `stop` the customer typed."""
    stopped_by = context.reminders.stopped_by
    if event.stopped and stopped_by is None:
        changes: tuple[ReminderChange, ...] = (
            CancelReminders(reason="the customer stopped marketing messages"),
            SetReminders(stopped_by=StoppedBy.MARKETING_OPT_OUT),
        )
        return Decision(state=conversation, reminders=changes)
    if not event.stopped and stopped_by is StoppedBy.MARKETING_OPT_OUT:
        return Decision(state=conversation, reminders=(SetReminders(stopped_by=None),))
    return _unchanged(conversation)


_WORDS: dict[str, Handler] = {
    "menu": _show_menu,
    "मेनू": _show_menu,
    "मेन्यू": _show_menu,
    "cart": _view_cart,
    "कार्ट": _view_cart,
    "टोकरी": _view_cart,
    "checkout": _checkout,
    "चेकआउट": _checkout,
    "help": _help,
    "मदद": _help,
    "सहायता": _help,
    "cancel": _cancel,
    "रद्द": _cancel,
    "रद्द करें": _cancel,
    "कैंसल": _cancel,
    "language": _show_languages,
    "languages": _show_languages,
    "भाषा": _show_languages,
    "bhasha": _show_languages,
    "stop": _stop_reminders,
    **dict.fromkeys(_ORDERS_WORDS, _show_orders),
}
"""Typed commands; the English words always work, whatever the customer's language."""
