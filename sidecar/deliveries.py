"""What became of sent messages (DESIGN.md §10): status callbacks and the poller.

Both end in the row protocol's step 4 (sidecar/outbox/delivery_rows.py): a status only
moves forward, and the campaign's counters move with the rows. A callback for a message id
no row has yet is kept for an hour: its batch may still be sending, and the transaction
that records the batch applies it.
"""

from __future__ import annotations

import contextlib
import logging
from enum import StrEnum

from sqlalchemy import select

from .outbox import Outbox
from .outbox.delivery_rows import DeliveryRows
from .outbox.poller import PollReport
from .providers.base import DeliveryUpdate

logger = logging.getLogger(__name__)


class CallbackResult(StrEnum):
    APPLIED = "applied"  # the row's delivery status moved
    UNCHANGED = "unchanged"  # repeated, late or out of order: nothing to do
    HELD = "held"  # no row has the message id yet: kept for its batch


class DeliveryService:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.rows: DeliveryRows = outbox.deliveries

    def record_callback(self, update: DeliveryUpdate) -> CallbackResult:
        """Apply one status callback (forward only), or keep it until its row knows the
        message id. Logs one line saying which."""
        applied = self.rows.apply([update])
        result = CallbackResult.APPLIED if applied.changed else CallbackResult.UNCHANGED
        if applied.unknown:
            self.rows.hold_early(update)
            # The batch may have been recorded between the two statements above, without
            # seeing the held status: try once more now that it is held.
            again = self.rows.apply([update])
            if again.unknown:
                result = CallbackResult.HELD
            else:
                self.rows.forget_early([update.message_id])
                result = (CallbackResult.APPLIED if again.changed
                          else CallbackResult.UNCHANGED)
        if result is CallbackResult.APPLIED and update.status.final:
            self._observe_lag(update)
        # Repeats and late ones are routine (Twilio sends several per message): debug only.
        log = logger.debug if result is CallbackResult.UNCHANGED else logger.info
        log("status callback", extra={"message_id": update.message_id,
                                      "status": update.status.value,
                                      "error_code": update.error_code,
                                      "error": update.error or None, "result": result.value})
        return result

    def _observe_lag(self, update: DeliveryUpdate) -> None:
        """The delivery-callback lag (/metrics): from the message's send being recorded to
        the callback that gave its final status."""
        r = self.outbox.tables.recipients
        with contextlib.suppress(Exception), self.outbox.engine.connect() as conn:
            sent_at = conn.execute(select(r.c.sent_at).where(
                r.c.provider_message_id == update.message_id).limit(1)).scalar()
            if sent_at is not None:
                self.outbox.metrics.callback_lag.observe(max(update.at - int(sent_at), 0))

    def poll(self, limit: int | None = None) -> PollReport:
        """Ask the provider about due messages once (`bkntc-sms deliveries poll`)."""
        return self.outbox.poll_deliveries(limit)

    def due(self) -> int:
        """How many messages are waiting for a check now."""
        return self.outbox.poller.due_count()
