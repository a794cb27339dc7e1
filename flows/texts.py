"""The bot's wording. Every field can be overridden under `[messages]` in config.toml.

Placeholders in braces are filled with `str.format`; an override must keep the same ones.
"""

from pydantic import BaseModel, ConfigDict


class Texts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    welcome: str = "Welcome to {shop}! 👋\nWhat would you like to do?"
    help: str = (
        "You can type these words at any time:\n"
        "• *menu*: start over\n"
        "• *cart*: see your cart\n"
        "• *checkout*: pay for your cart\n"
        "• *cancel*: stop what you are doing\n"
        "• *help*: this message"
    )
    hint: str = "Sorry, I didn't get that. Type *menu* to start over or *help* for help."
