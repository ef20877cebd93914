"""The narrow interface the send engine uses to deliver one SMS.

The engine only ever sees `SmsProvider.send()` returning a `SendResult` whose `outcome`
tells it what to do with the recipient row; which vendor errors mean what is the
provider's business.
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
    PERMANENT = "permanent"  # can never succeed for this recipient (invalid, opted out…)
    HALT = "halt"            # nothing can be sent until an admin fixes the configuration


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    message_id: str | None = None
    error_code: int | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.SENT


class ProviderNotReady(Conflict, RuntimeError):
    """The provider cannot send at all (add-on inactive, credentials missing)."""

    code = "provider_not_ready"


class SmsProvider(Protocol):
    def send(self, to: str, body: str) -> SendResult:
        """Send one SMS; never raises for delivery problems, returns the outcome."""
        ...

    def find_sent(self, to: str, body: str, since: int) -> str | None:
        """The id of a message already accepted for `to` with `body` at or after `since`
        (epoch seconds), or None. Used before re-sending after an unknown outcome."""
        ...
