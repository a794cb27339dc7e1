"""The welcome and the help menu depend on nothing but the shop and the language, and every
first "hi" sends the welcome: each is built once per shop and language, and kept on the shop."""

from flows_support import Chat, context, shop

from flows import views
from flows.messages import SendButtons


def test_every_customer_saying_hi_gets_the_welcome_built_once() -> None:
    tea = shop()
    first, second = Chat(ctx=context(tea)), Chat(ctx=context(tea))

    greeted = first.says("hi").messages[-1]

    assert isinstance(greeted, SendButtons)
    assert greeted.body.startswith("Welcome to Chai Point")
    assert second.says("hello").messages[-1] is greeted


def test_each_language_and_each_shop_has_its_own_welcome() -> None:
    tea = shop()
    english, hindi = views.welcome(tea), views.welcome(tea.in_language("hi"))
    renamed = tea.model_copy(update={"shop": tea.shop.model_copy(update={"name": "Chai Bar"})})

    assert hindi.body.startswith("Chai Point में आपका स्वागत है")
    assert english.body.startswith("Welcome to Chai Point")
    assert views.welcome(renamed).body.startswith("Welcome to Chai Bar")
    assert views.welcome(tea) is english


def test_help_is_built_once_per_language() -> None:
    tea = shop()

    assert views.help_menu(tea) is views.help_menu(tea)
    assert views.help_menu(tea.in_language("hi")) != views.help_menu(tea)
