"""Pause takes effect at once, in this process and in every other (DESIGN.md §4, §13).

A send thread asks `Watch.may_send()` right before each message goes to the provider. The
answer comes from the campaign's status row, read again whenever the thread's last read
*began* more than CHECK_SECONDS ago (monotonic time), or at once when this process paused
something since (`SendGate.paused_here`, the in-process signal). Between reads it costs a
clock call, so a busy thread reads the status about every CHECK_SECONDS, not per message.

The bound. Let a pause commit at time T, and let its call return at R ≥ T + SETTLE_SECONDS
(`Outbox.paused` waits SETTLE_SECONDS, a little more than CHECK_SECONDS, after the commit).
A thread starts a message at time s only after a read that began at some c ≥ s -
CHECK_SECONDS and saw the campaign active; that read began before T, or it would have seen
the committed pause (READ COMMITTED, and SQLite serialises). So c < T, and s < T +
CHECK_SECONDS < R: every message of the campaign started before the pause returned. A
thread has at most one message in a call to the provider at a time, so after R at most
SEND_CONCURRENCY messages per process serving the campaign can still reach the provider,
and each of those was already inside its call. Everything else a thread holds is released
untouched when its next `may_send` says no, and nothing new is claimed (the claim itself
reads the status). Only durations are compared, so the clocks of different machines need
not agree; the margin covers their rates differing.

In the process that paused, the epoch bump makes every thread read again before its next
message, so there the pause stops sending before `Outbox.paused` even starts waiting.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

# How stale a thread's "the campaign is active" may be when it starts a message.
CHECK_SECONDS = 0.2
# How long a pause waits after its commit before it returns (> CHECK_SECONDS; see above).
SETTLE_SECONDS = CHECK_SECONDS * 1.25


class SendGate:
    """The status checks of one Outbox. Thread-safe."""

    def __init__(self, is_active: Callable[[int], bool], *,
                 check_seconds: float = CHECK_SECONDS,
                 ticker: Callable[[], float] = time.monotonic) -> None:
        self.is_active, self.check_seconds, self.ticker = is_active, check_seconds, ticker
        self._epoch = 0
        self._lock = threading.Lock()

    @property
    def epoch(self) -> int:
        return self._epoch

    def paused_here(self) -> None:
        """Something was paused by this process: every thread reads the status again before
        its next message."""
        with self._lock:
            self._epoch += 1

    def watch(self, campaign_id: int) -> Watch:
        """The checks of one send thread for one campaign."""
        return Watch(self, campaign_id)


class Watch:
    """One send thread's view of one campaign's status (not shared between threads)."""

    def __init__(self, gate: SendGate, campaign_id: int) -> None:
        self.gate, self.campaign_id = gate, campaign_id
        self._read_at: float | None = None  # when the last read that saw "active" began
        self._epoch = -1

    def may_send(self) -> bool:
        """True if the campaign may have one more message started now; False once it is
        paused, finished or deleted (or its status cannot be read: sending on would break
        the bound, so the caller releases what it holds)."""
        gate = self.gate
        now = gate.ticker()
        if (self._epoch == gate.epoch and self._read_at is not None
                and now - self._read_at <= gate.check_seconds):
            return True
        epoch = gate.epoch  # taken before the read: a pause signalled meanwhile reads again
        try:
            active = gate.is_active(self.campaign_id)
        except Exception as exc:  # the database is unreachable: cannot prove it is active
            logger.warning("could not read the campaign status; releasing the batch",
                           extra={"campaign_id": self.campaign_id, "error": str(exc)})
            return False
        if active:
            self._read_at, self._epoch = now, epoch
        return active
