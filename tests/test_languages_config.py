"""A merchant adds a language by dropping a file into `languages/` beside config.toml, or a
`[messages.ta]` table into it; check-config checks them as it checks `[messages]`."""

from pathlib import Path

import pytest

from bot.cli import main
from bot.shop_config import ConfigError, load_shop_config
from flows.events import TextReceived
from flows.machine import StepContext, step
from flows.state import Conversation, Customer

CONFIG = """
[shop]
name = "Chai Point"

[[products]]
id = "chai"
name = "Masala Chai"
price = "249.00"
category = "Tea"
"""

TAMIL = """
# Tamil, for Chai Point's customers in Chennai.
language_name = "தமிழ்"
welcome = "{shop} க்கு வரவேற்கிறோம்! 👋\\nஎன்ன செய்ய விரும்புகிறீர்கள்?"
button_browse = "பொருட்கள்"
"""


def write(tmp_path: Path, config: str = CONFIG, **languages: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(config, encoding="utf-8")
    if languages:
        (tmp_path / "languages").mkdir()
    for code, text in languages.items():
        (tmp_path / "languages" / f"{code}.toml").write_text(text, encoding="utf-8")
    return path


def greeting(path: Path, language: str) -> str:
    context = StepContext(
        config=load_shop_config(path),
        customer=Customer(key="919800000001", phone="919800000001"),
        now=1_750_000_000,
        new_order_id="ord_1",
        language=language,
    )
    [welcome] = step(Conversation(), TextReceived(message_id="w", text="menu"), context).messages
    return welcome.body


def test_a_language_file_beside_the_config_is_a_language_of_the_shop(tmp_path: Path) -> None:
    path = write(tmp_path, ta=TAMIL)
    config = load_shop_config(path)
    assert config.language_codes == ("en", "hi", "ta")
    assert config.texts_in("ta").button_browse == "பொருட்கள்"
    assert config.texts_in("ta").button_view_cart == "View cart"  # not translated: English
    assert greeting(path, "ta") == "Chai Point க்கு வரவேற்கிறோம்! 👋\nஎன்ன செய்ய விரும்புகிறீர்கள்?"


def test_a_messages_table_in_the_config_adds_or_rewords_a_language(tmp_path: Path) -> None:
    config = CONFIG + (
        '\n[messages]\nhint = "Type *menu*."\n'
        '\n[messages.ta]\nbutton_browse = "பார்க்க"\n'
        '\n[messages.hi]\nwelcome = "राम राम! {shop} में पधारिए।"\n'
    )
    path = write(tmp_path, config, ta=TAMIL)
    loaded = load_shop_config(path)
    assert loaded.messages.hint == "Type *menu*."
    assert loaded.texts_in("ta").button_browse == "பார்க்க"  # the table wins over the file
    assert loaded.texts_in("ta").language_name == "தமிழ்"
    assert greeting(path, "hi") == "राम राम! Chai Point में पधारिए।"
    assert loaded.texts_in("hi").cart_empty == "आपका कार्ट खाली है।"  # the rest stays bundled


def test_a_file_under_a_messages_table_reads_the_same(tmp_path: Path) -> None:
    path = write(tmp_path, ta="[messages]\n" + TAMIL.replace("# Tamil", "# Tamil again"))
    assert load_shop_config(path).texts_in("ta").language_name == "தமிழ்"


def test_check_config_names_every_problem_of_a_language_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = (
        'language_name = "தமிழ் (இந்தியா) — சென்னை கிளை"\n'
        'welcome = "{store} க்கு வரவேற்கிறோம்"\n'
        'welcom = "x"\n'
        'button_browse = "பொருட்களைப் பார்க்கவும் இங்கே"\n'
        'cart_line = "{quantity:>99} × {product}"\n'
    )
    path = write(tmp_path, ta=bad, Tamil='welcome = "x"\n', mr="not toml = = =\n")
    assert main(["check-config", str(path)], env={}) == 1
    problems = [line.removeprefix("  - ") for line in capsys.readouterr().err.splitlines()[1:]]
    assert problems[0].startswith("languages/mr.toml: not valid TOML")
    assert len(problems) == 1  # a file that does not parse stops the check there

    (tmp_path / "languages" / "mr.toml").unlink()
    assert main(["check-config", str(path)], env={}) == 1
    problems = [line.removeprefix("  - ") for line in capsys.readouterr().err.splitlines()[1:]]
    assert sorted(problems) == sorted(
        [
            "languages/Tamil.toml: 'Tamil' is not a language code (like ta, hi or pt-BR)",
            "languages/ta.toml, key language_name: String should have at most 24 characters",
            "languages/ta.toml, key welcome: uses store; allowed: {shop}",
            "languages/ta.toml, key welcom: unknown key; did you mean 'welcome'?",
            "languages/ta.toml, key button_browse: String should have at most 20 characters",
            "languages/ta.toml, key cart_line: uses {quantity:>99}: write placeholders plain, "
            "like {shop}, without a format spec (:...) or conversion (!r)",
        ]
    )


def test_check_config_names_a_bad_messages_table_and_a_bad_translation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = (
        CONFIG.replace(
            'category = "Tea"\n',
            'category = "Tea"\n[products.translations.hi]\nname = "मसाला चाय"\ncolour = "लाल"\n',
        )
        + '\n[messages.hi]\nhint = "{nope}"\n'
    )
    path = write(tmp_path, config)
    with pytest.raises(ConfigError) as raised:
        load_shop_config(path)
    assert sorted(raised.value.problems) == [
        "[messages.hi], key hint: uses nope; allowed: none",
        "product 'chai', field translations.hi.colour: unknown key; known keys: name, description",
    ]


def test_check_config_lists_the_languages_of_a_good_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, ta=TAMIL)
    assert main(["check-config", str(path)], env={}) == 0
    assert "Languages: en, hi, ta." in capsys.readouterr().out
