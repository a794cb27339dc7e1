"""A shop, an order or a message is checked once, when it is built. Putting it into a
`StepContext` or a `Decision` (every step builds both) must not run its checks again: pydantic
reruns a model's own validators for an instance, and the shop's looked at every product on
every message.

`model_copy(update=...)` builds an instance without checks, so each case below holds something
its checks would refuse: if they ran again, building the context or decision would raise."""

from flows_support import CUSTOMER, NEW_ORDER_ID, NOW, order, shop

from flows.catalog import ProductText
from flows.machine import Decision, StepContext
from flows.messages import Button, SendButtons, SendList
from flows.state import Conversation


def test_a_shop_is_taken_as_built_by_every_step_context() -> None:
    config = shop()
    # Tamil names for a shop without Tamil: refused when a shop is read from config.toml.
    tamil = config.products[0].model_copy(
        update={"translations": {"ta": ProductText(name="மசாலா டீ")}}
    )
    unchecked = config.model_copy(update={"products": (tamil, *config.products[1:])})

    context = StepContext(config=unchecked, customer=CUSTOMER, now=NOW, new_order_id=NEW_ORDER_ID)

    assert context.config is unchecked


def test_an_order_is_taken_as_built_by_every_step_context() -> None:
    placed = order()
    unchecked = placed.model_copy(update={"total": placed.total + 1})  # lines say otherwise

    context = StepContext(
        config=shop(),
        customer=CUSTOMER,
        now=NOW,
        new_order_id=NEW_ORDER_ID,
        open_order=unchecked,
        event_order=unchecked,
        recent_orders=(unchecked,),
    )

    assert context.open_order is unchecked
    assert context.recent_orders == (unchecked,)


def test_messages_are_taken_as_built_by_every_decision() -> None:
    yes = Button(id="yes", title="Yes")
    menu = SendButtons(body="Go on?", buttons=(yes, Button(id="no", title="No")))
    twice = menu.model_copy(update={"buttons": (yes, yes)})  # duplicate ids: refused when built
    rows = SendList.model_validate(
        {
            "body": "Pick one",
            "button_label": "Pick",
            "sections": [{"title": "Tea", "rows": [{"id": "a", "title": "A"}]}],
        }
    )
    doubled = rows.model_copy(
        update={"sections": (rows.sections[0], rows.sections[0])}  # row "a" twice
    )

    decision = Decision(state=Conversation(), messages=(twice, doubled))

    assert decision.messages[0] is twice
    assert decision.messages[1] is doubled
