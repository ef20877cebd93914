"""What becomes of a message after the fake accepts it, as on a live account: its status
over time and the status callbacks Twilio would post.

Each accepted message gets a `Plan` when it is created: its statuses with their offsets
from creation (queued at 0, sent after `queued_for`, the final status `final_after` later)
and the order its callbacks go out in — normally one per status, but sometimes the final
one before "sent" (out of order), one of them twice, or none at all (lost). The plan is
decided by `DeliveryRules` from a random generator seeded with the rules' seed, the To
number and the body, so a message's fate repeats from run to run whatever order messages
arrive in. Fetches and lists show the status the plan gives at the fake's clock; callbacks
go out only when dispatched (server.py: `flush_callbacks()`, or automatically).

"Queued mode" is `queued_for` > 0: Twilio under its rate limits holds messages queued, with
no `date_sent`, and a DateSent filter does not list them (DESIGN.md §10).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .wire import SERVICE_SENDER, ReceivedMessage

FINAL_STATUSES = ("delivered", "undelivered", "failed")
# Twilio's asynchronous delivery errors (tech-notes §1.7) the fake picks from.
DELIVERY_ERROR_CODES = (30003, 30005, 30006, 30007, 30008)


@dataclass(frozen=True)
class Event:
    offset: float  # seconds after the message was created
    status: str
    error_code: int | None = None


@dataclass
class Plan:
    events: tuple[Event, ...]  # in the order they happen
    callbacks: tuple[int, ...]  # indexes into events, in the order they are posted
    dispatched: int = 0  # how many of `callbacks` have been handed to the poster

    @property
    def final(self) -> Event:
        return self.events[-1]

    def due_callbacks(self, age: float) -> list[Event]:
        """The callbacks not yet dispatched whose event has happened at `age` seconds,
        in posting order (marked dispatched)."""
        due: list[Event] = []
        while self.dispatched < len(self.callbacks):
            event = self.events[self.callbacks[self.dispatched]]
            if event.offset > age:
                break
            due.append(event)
            self.dispatched += 1
        return due

    @property
    def callbacks_left(self) -> bool:
        return self.dispatched < len(self.callbacks)


@dataclass(frozen=True)
class DeliveryRules:
    """How the fake decides each message's fate. Rates are fractions of messages."""

    queued_for: float = 0.0  # seconds a message stays queued, without date_sent
    final_after: float = 0.0  # seconds from "sent" to the final status
    status: str = "delivered"  # the final status unless a rate or `outcomes` says otherwise
    undelivered_rate: float = 0.0
    failed_rate: float = 0.0
    error_codes: tuple[int, ...] = DELIVERY_ERROR_CODES  # for undelivered/failed
    # Fixed fates by To number: (final status, error code or None).
    outcomes: Mapping[str, tuple[str, int | None]] = field(
        default_factory=lambda: MappingProxyType({}))
    callbacks: bool = True  # False: no status callbacks at all (only the poller learns)
    lost_rate: float = 0.0  # messages whose callbacks never come
    duplicate_rate: float = 0.0  # messages with one callback posted twice
    out_of_order_rate: float = 0.0  # messages whose final callback comes before "sent"
    seed: int = 0

    def __post_init__(self) -> None:
        rates = (self.undelivered_rate, self.failed_rate, self.lost_rate,
                 self.duplicate_rate, self.out_of_order_rate)
        if any(not 0.0 <= r <= 1.0 for r in rates) or self.undelivered_rate + \
                self.failed_rate > 1.0:
            raise ValueError("delivery rates must be in [0, 1]; undelivered + failed <= 1")
        if self.queued_for < 0 or self.final_after < 0:
            raise ValueError("queued_for and final_after must be >= 0")
        if self.status not in FINAL_STATUSES:
            raise ValueError(f"status must be one of {FINAL_STATUSES}")
        for status, _code in self.outcomes.values():
            if status not in FINAL_STATUSES:
                raise ValueError(f"outcome statuses must be one of {FINAL_STATUSES}")

    def plan(self, to: str, body: str, first_status: str) -> Plan:
        """The fate of one message (deterministic for the seed, number and body)."""
        rng = random.Random(f"{self.seed}|{to}|{body}")
        draw, code_draw = rng.random(), rng.random()
        lost, duplicate, swap = rng.random(), rng.random(), rng.random()
        status = self.status
        if draw < self.undelivered_rate:
            status = "undelivered"
        elif draw < self.undelivered_rate + self.failed_rate:
            status = "failed"
        code = None
        if status != "delivered":
            code = self.error_codes[int(code_draw * len(self.error_codes))]
        if to in self.outcomes:
            status, code = self.outcomes[to]
        events = (Event(0.0, first_status), Event(self.queued_for, "sent"),
                  Event(self.queued_for + self.final_after, status, code))
        order = [0, 1, 2]
        if swap < self.out_of_order_rate:
            order = [0, 2, 1]
        if duplicate < self.duplicate_rate:
            order.insert(order.index(2) + 1, 2)  # the final status, twice in a row
        if not self.callbacks or lost < self.lost_rate:
            order = []
        return Plan(events, tuple(order))


def settle(message: ReceivedMessage, now: float) -> None:
    """Bring a planned message's status, error code and dates to the fake clock's `now`."""
    plan = message.plan
    if plan is None:
        return
    age = now - message.received_at
    current = plan.events[0]
    for event in plan.events:
        if event.offset <= age:
            current = event
    message.status, message.error_code = current.status, current.error_code
    sent = plan.events[1]
    message.date_sent = message.received_at + sent.offset if sent.offset <= age else None
    if current is not plan.events[0]:
        message.updated_at = message.received_at + current.offset
    if message.date_sent is not None:
        message.from_ = message.from_ or SERVICE_SENDER
