"""The transition function: `step(conversation, event, context) -> Decision`."""

from pydantic import BaseModel, ConfigDict

from flows.catalog import ShopConfig
from flows.effects import Effect
from flows.events import Event
from flows.messages import OutgoingMessage
from flows.orders import Order
from flows.state import Conversation, Customer


class StepContext(BaseModel):
    """Everything a step may know besides the state and the event, supplied by the runner."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    config: ShopConfig
    customer: Customer
    now: int  # Unix seconds
    new_order_id: str  # the id to use if this step places an order (unused otherwise)
    open_order: Order | None = None  # the customer's newest order still awaiting payment
    event_order: Order | None = None  # for payment events: the order the event names, if ours


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    state: Conversation
    messages: tuple[OutgoingMessage, ...] = ()
    effects: tuple[Effect, ...] = ()


def step(conversation: Conversation, event: Event, context: StepContext) -> Decision:
    raise NotImplementedError  # written in flows/machine.py by the flows work
