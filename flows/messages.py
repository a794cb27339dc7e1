"""Outgoing WhatsApp messages, named as commands. The Cloud API limits are field constraints,
so an illegal message raises `pydantic.ValidationError` at construction, never at Meta.

The recipient is not part of a message: the runner sends to the customer whose event it was.
`bot/whatsapp/render.py` turns these into wire JSON.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ModelWrapValidatorHandler, model_validator

from flows import limits


class _Message(BaseModel):
    """Checks across fields are "wrap" validators that hand back a message that is already one:
    pydantic runs a model's own validators again (an "after" one included) each time an
    instance is put into another model, and every step's `Decision` holds its messages."""

    model_config = ConfigDict(frozen=True, extra="forbid")


Header = Annotated[str, Field(min_length=1, max_length=limits.HEADER_TEXT_MAX)]
Footer = Annotated[str, Field(min_length=1, max_length=limits.FOOTER_TEXT_MAX)]
InteractiveBody = Annotated[str, Field(min_length=1, max_length=limits.INTERACTIVE_BODY_MAX)]


class SendText(_Message):
    kind: Literal["text"] = "text"
    body: Annotated[str, Field(min_length=1, max_length=limits.TEXT_BODY_MAX)]
    preview_url: bool = False


class Button(_Message):
    id: Annotated[str, Field(min_length=1, max_length=limits.BUTTON_ID_MAX)]
    title: Annotated[str, Field(min_length=1, max_length=limits.BUTTON_TITLE_MAX)]


class SendButtons(_Message):
    kind: Literal["buttons"] = "buttons"
    body: InteractiveBody
    buttons: Annotated[
        tuple[Button, ...], Field(min_length=limits.BUTTONS_MIN, max_length=limits.BUTTONS_MAX)
    ]
    header: Header | None = None
    footer: Footer | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _unique(cls, data: Any, handler: ModelWrapValidatorHandler["SendButtons"]) -> "SendButtons":
        if isinstance(data, cls):
            return data  # checked when it was built (see `_Message`)
        message = handler(data)
        if len({b.id for b in message.buttons}) != len(message.buttons):
            raise ValueError("button ids must be unique")
        if len({b.title for b in message.buttons}) != len(message.buttons):
            raise ValueError("button titles must be unique")
        return message


class Row(_Message):
    id: Annotated[str, Field(min_length=1, max_length=limits.LIST_ROW_ID_MAX)]
    title: Annotated[str, Field(min_length=1, max_length=limits.LIST_ROW_TITLE_MAX)]
    description: Annotated[str, Field(max_length=limits.LIST_ROW_DESCRIPTION_MAX)] | None = None


class Section(_Message):
    title: Annotated[str, Field(min_length=1, max_length=limits.LIST_SECTION_TITLE_MAX)]
    rows: Annotated[tuple[Row, ...], Field(min_length=1, max_length=limits.LIST_ROWS_MAX)]


class SendList(_Message):
    kind: Literal["list"] = "list"
    body: InteractiveBody
    button_label: Annotated[str, Field(min_length=1, max_length=limits.LIST_BUTTON_LABEL_MAX)]
    sections: Annotated[
        tuple[Section, ...], Field(min_length=1, max_length=limits.LIST_SECTIONS_MAX)
    ]
    header: Header | None = None
    footer: Footer | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _rows_fit(cls, data: Any, handler: ModelWrapValidatorHandler["SendList"]) -> "SendList":
        if isinstance(data, cls):
            return data  # checked when it was built (see `_Message`)
        message = handler(data)
        rows = [row for section in message.sections for row in section.rows]
        if len(rows) > limits.LIST_ROWS_MAX:
            raise ValueError(f"a list holds at most {limits.LIST_ROWS_MAX} rows in total")
        if len({row.id for row in rows}) != len(rows):
            raise ValueError("row ids must be unique across the list")
        return message


class SendCtaUrl(_Message):
    """A message with one button that opens a URL: how the payment link is delivered."""

    kind: Literal["cta_url"] = "cta_url"
    body: InteractiveBody
    display_text: Annotated[str, Field(min_length=1, max_length=limits.CTA_DISPLAY_TEXT_MAX)]
    url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000)]
    header: Header | None = None
    footer: Footer | None = None


TemplateParameter = Annotated[str, Field(min_length=1, max_length=limits.TEMPLATE_PARAMETER_MAX)]


class SendTemplate(_Message):
    """A template the merchant had approved by Meta: the only message allowed outside the
    customer's 24-hour window. The body parameters fill `{{1}}`, `{{2}}`, … in order."""

    kind: Literal["template"] = "template"
    name: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,512}$")]
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(_[A-Za-z]{2,4})?$")]
    body_parameters: tuple[TemplateParameter, ...] = ()


OutgoingMessage = Annotated[
    SendText | SendButtons | SendList | SendCtaUrl | SendTemplate, Field(discriminator="kind")
]
