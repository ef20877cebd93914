"""The narrow interface the send engine uses to deliver one SMS.

The engine only ever sees `SmsProvider.send()` returning a `SendResult` whose `outcome`
tells it what to do with the recipient row; which vendor errors mean what is the
provider's business. The engine acts on the class alone: it never reads `error_code`,
which is only kept for people (logs, CSV).

After sending, what became of a message comes back as a `DeliveryUpdate` (from a status
callback or `fetch_status`): the vendor's status already mapped to one of ours, with the
carrier's error in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ..errors import Conflict


class Outcome(StrEnum):
    SENT = "sent"            # accepted by the provider; message id known
    TRANSIENT = "transient"  # failed, but trying again later may work (429, queue full…)
    UNKNOWN = "unknown"      # no definite answer (timeout, 5xx): the message MAY exist
    PERMANENT = "permanent"  # can never succeed for this recipient (invalid, not a mobile…)
    OPTED_OUT = "opted_out"  # permanent, and the number must never be texted again: the
    #                          engine fails the row and adds `SendResult.suppress`
    HALT = "halt"            # nothing can be sent until an admin fixes the configuration


@dataclass(frozen=True)
class Suppress:
    """A suppression-list entry the provider asks for (with an OPTED_OUT outcome)."""

    source: str  # the list's `source` column: "provider" (Twilio refused the number)
    reason: str  # shown to people on the list, e.g. "Replied STOP (Twilio error 21610)"


class DeliveryStatus(StrEnum):
    """What became of an accepted message (DESIGN.md §10), in the order it can move."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"

    @property
    def rank(self) -> int:
        """Statuses only move to a higher rank; the three final ones share the top."""
        return {"queued": 1, "sent": 2}.get(self.value, 3)

    @property
    def final(self) -> bool:
        return self.rank == 3


@dataclass(frozen=True)
class DeliveryUpdate:
    """A provider's word on one message: its status, when, and the carrier's error."""

    message_id: str
    status: DeliveryStatus
    at: int  # epoch seconds the provider reached this status (or we learned it)
    error_code: int | None = None
    error: str = ""  # the error in words, with the code ("" when none)


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    message_id: str | None = None
    error_code: int | None = None
    error: str = ""
    suppress: Suppress | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.SENT


class ProviderNotReady(Conflict, RuntimeError):
    """The provider cannot send at all (add-on inactive, credentials missing)."""

    code = "provider_not_ready"


class SmsProvider(Protocol):
    def send(self, to: str, body: str, *, validity_period: int | None = None) -> SendResult:
        """Send one SMS; never raises for delivery problems, returns the outcome. With
        `validity_period` (seconds) the provider drops it if it is not out by then."""
        ...

    def find_sent(self, to: str, body: str, since: int) -> str | None:
        """The id of a message already accepted for `to` with `body` at or after `since`
        (epoch seconds), or None. Used before re-sending after an unknown outcome."""
        ...

    def fetch_status(self, message_id: str) -> DeliveryUpdate | None:
        """The message's delivery status now, or None when the provider has nothing we
        track (unknown message, a status outside DeliveryStatus). Raises when it cannot
        be asked (network, credentials): the poller tries again later."""
        ...
