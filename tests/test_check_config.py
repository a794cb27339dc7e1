"""A merchant's first config.toml: every mistake is named in one run, and the bot will not start
on a file that check-config rejects."""

from pathlib import Path

import pytest

from bot.cli import main

FIRST_MISTAKES = """
[shop]
name = "Chai Point"

[[products]]
id = "dup-1"
name = "Masala Chai 250 g"
price = "249.999"
category = "Tea"

[[products]]
id = "dup-1"
name = "Green Tea 100 g"
price = "-10.00"
category = "Tea"

[[products]]
id = "kettle"
price = "899.00"
category = "Brewing"

[[products]]
id = "strainer"
name = "Tea Strainer"
price = "149.00"
prise = "10"
category = "Brewing"
"""


def check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """Run `python -m bot check-config` on `text`; the exit code and the problems it lists."""
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    code = main(["check-config", str(path)], env={})
    lines = capsys.readouterr().err.splitlines()
    return code, [line.removeprefix("  - ") for line in lines[1:]]


def test_the_first_five_mistakes_are_all_named_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, problems = check(tmp_path, FIRST_MISTAKES, capsys)
    assert code == 1
    assert problems == [
        "product 'dup-1' (#1), field price: '249.999' has more than 2 decimals",
        "product 'dup-1' (#2), field price: '-10.00' is negative; the price must be more than zero",
        "product 'dup-1' (#2), field id: the same id is used by products #1 and #2; "
        "give each product its own",
        "product 'kettle', field name: required, but missing",
        "product 'strainer', field prise: unknown key; did you mean 'price'?",
    ]


def test_the_bot_refuses_to_start_with_the_same_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(FIRST_MISTAKES, encoding="utf-8")
    assert main(["check-config", str(path)], env={}) == 1
    checked = capsys.readouterr().err

    assert main(["serve"], env={"BOT_CONFIG": str(path)}) == 1
    started = capsys.readouterr()
    assert started.err == checked
    assert started.err.startswith(f"{path}: 5 problem(s)\n")
    assert "Sandbox shop ready" not in started.err + started.out


def test_a_duplicate_id_is_named_even_when_every_field_is_right(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = FIRST_MISTAKES.replace('"249.999"', '"249.00"').replace('"-10.00"', '"10.00"')
    text = text.replace('prise = "10"\n', "").replace('id = "kettle"', 'id = "kettle"\nname = "K"')
    code, problems = check(tmp_path, text, capsys)
    assert code == 1
    assert problems == [
        "product 'dup-1' (#2), field id: the same id is used by products #1 and #2; "
        "give each product its own",
    ]


def test_unknown_keys_are_named_in_every_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = """
    [shop]
    name = "Chai Point"
    curency = "INR"

    [checkout]
    collect_adress = false

    [mesages]
    welcome = "Hi"

    [messages]
    welcom = "Namaste!"

    [[products]]
    id = "chai"
    name = "Chai"
    price = "10.00"
    category = "Tea"
    colour = "brown"
    """
    code, problems = check(tmp_path, text.replace("\n    ", "\n"), capsys)
    assert code == 1
    assert sorted(problems) == [
        "checkout.collect_adress: unknown key; did you mean 'collect_address'?",
        "mesages: unknown key; did you mean 'messages'?",
        "messages.welcom: unknown key; did you mean 'welcome'?",
        "product 'chai', field colour: unknown key; known keys: "
        "id, name, price, category, description, available, shopify_variant_id, stock, "
        "translations",
        "shop.curency: unknown key; did you mean 'currency'?",
    ]


def test_categories_a_customer_could_not_tell_apart_are_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = """
    [shop]
    name = "Chai Point"
    [[products]]
    id = "a"
    name = "A"
    price = "1.00"
    category = "Premium Darjeeling Tea Leaves"
    [[products]]
    id = "b"
    name = "B"
    price = "1.00"
    category = "Premium Darjeeling Tea Bags"
    [[products]]
    id = "c"
    name = "C"
    price = "1.00"
    category = "Snacks"
    [[products]]
    id = "d"
    name = "D"
    price = "1.00"
    category = "snacks"
    """
    code, problems = check(tmp_path, text.replace("\n    ", "\n"), capsys)
    assert code == 1
    assert problems == [
        "product 'b', field category: 'Premium Darjeeling Tea Bags' and "
        "'Premium Darjeeling Tea Leaves' both show as 'Premium Darjeeling Tea…' in the category "
        "list (rows show 24 characters); make them differ sooner",
        "product 'd', field category: 'snacks' and 'Snacks' differ only in capitals; "
        "use one spelling",
    ]


def test_shop_settings_and_wording_are_checked_in_the_same_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = """
    [shop]
    name = ""
    currency = "RUPEES"
    [checkout]
    payment_link_expiry_minutes = 5
    max_quantity_per_item = 0
    [[products]]
    id = "chai"
    name = "Chai"
    price = "10.001"
    category = "Tea"
    [messages]
    welcome = "Welcome to {store}"
    button_browse = "Browse our lovely catalog"
    """
    code, problems = check(tmp_path, text.replace("\n    ", "\n"), capsys)
    assert code == 1
    assert problems == [
        "shop.name: String should have at least 1 character",
        "shop.currency: 'RUPEES' is not a currency code: write the three capital letters of "
        'ISO 4217, like "INR", "USD" or "JPY"',
        "checkout.payment_link_expiry_minutes: Input should be greater than or equal to 16",
        "checkout.max_quantity_per_item: Input should be greater than or equal to 1",
        "messages.welcome: uses store; allowed: {shop}",
        "messages.button_browse: String should have at most 20 characters",
        "product 'chai', field price: '10.001' has more than 2 decimals",
    ]


def test_a_currency_razorpay_does_not_take_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = """
    [shop]
    name = "Kissa"
    currency = "JPY"
    locale = "ja_JP"
    [[products]]
    id = "matcha"
    name = "Matcha"
    price = "1500"
    category = "Tea"
    """
    code, problems = check(tmp_path, text.replace("\n    ", "\n"), capsys)
    assert code == 1
    assert problems == [
        "currency 'JPY': Razorpay does not take it (it takes INR); change [shop] currency or "
        "PAYMENT_PROVIDER"
    ]


def test_prices_are_read_with_the_currency_s_decimals_and_checked_against_razorpay_s_maximum(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = """
    [shop]
    name = "Kissa"
    currency = "JPY"
    locale = "nowhere"
    [[products]]
    id = "matcha"
    name = "Matcha"
    price = "1500.50"
    category = "Tea"
    """
    code, problems = check(tmp_path, text.replace("\n    ", "\n"), capsys)
    assert code == 1
    assert problems == [
        "shop.locale: 'nowhere' is not a locale Babel knows: write a language and country, like "
        '"en_IN", "en_US" or "ja_JP"',
        "product 'matcha', field price: '1500.50' has decimals, but JPY has none",
    ]

    text = """
    [shop]
    name = "Chai Point"
    [[products]]
    id = "samovar"
    name = "Silver Samovar"
    price = "500000.01"
    category = "Brewing"
    """
    code, problems = check(tmp_path, text.replace("\n    ", "\n"), capsys)
    assert code == 1
    assert problems == [
        "product 'samovar': ₹5,00,000.01 is above ₹5,00,000.00, the most Razorpay takes in one "
        "payment"
    ]


def test_cash_on_delivery_settings_are_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = """
    [shop]
    name = "Chai Point"
    [checkout]
    {checkout}
    [[products]]
    id = "chai"
    name = "Chai"
    price = "10.00"
    category = "Tea"
    """
    cases = {
        'cash_on_delivery = true\ncod_max_amount = "2000.001"': [
            "checkout.cod_max_amount: '2000.001' has more than 2 decimals"
        ],
        "cash_on_delivery = true\ncod_max_amount = 2000": [
            'checkout.cod_max_amount: write the amount as a string of INR, like "2000"'
        ],
        'cash_on_delivery = true\ncod_max_amount = "0"': [
            "checkout.cod_max_amount: must be more than zero (leave it out for no limit)"
        ],
        'cod_max_amount = "2000"': [
            "checkout: cod_max_amount is set but cash_on_delivery is not true: set "
            "cash_on_delivery = true to offer pay on delivery, or remove cod_max_amount"
        ],
    }
    for checkout, expected in cases.items():
        text = base.replace("{checkout}", checkout).replace("\n    ", "\n")
        code, problems = check(tmp_path, text, capsys)
        assert (code, problems) == (1, expected), checkout

    text = base.replace("{checkout}", 'cash_on_delivery = true\ncod_max_amount = "2000"')
    assert check(tmp_path, text.replace("\n    ", "\n"), capsys)[0] == 0
