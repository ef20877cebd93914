"""Pause takes effect at once, in this process and in every other (DESIGN.md §4, §13).

A send thread asks `SendGate.may_send(campaign)` right before each message goes to the
provider. The answer comes from the campaign's status row, read again whenever the last
read of it in this process *began* more than CHECK_SECONDS ago (monotonic time), or at
once when this process paused something since (`paused_here`, the in-process signal). A
read made by one send thread serves all of them, so a busy process reads a campaign's
status about every CHECK_SECONDS, not per message or per thread.

The bound. Let a pause commit at time T, and let its call return at R >= T + SETTLE_SECONDS
(`Outbox.paused` waits SETTLE_SECONDS, a little more than CHECK_SECONDS, after the commit).
A thread starts a message at time s only after a read that began at some c >= s -
CHECK_SECONDS and saw the campaign active; that read began before T, or it would have seen
the committed pause (READ COMMITTED, and SQLite serialises). So c < T, and s < T +
CHECK_SECONDS < R: every message of the campaign started before the pause returned. A
thread has at most one message in a call to the provider at a time, so after R at most
SEND_CONCURRENCY messages per process serving the campaign can still reach the provider,
and each of those was already inside its call. Everything else a thread holds is released
untouched when `may_send` says no, and nothing new is claimed (the claim itself reads the
status). Only durations are compared, so the clocks of different machines need not agree;
the margin covers their rates differing.

In the process that paused, the epoch bump makes the next `may_send` read again, so there
the pause stops sending before `Outbox.paused` even starts waiting.
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


class _Read:
    """One status read in flight, which the other threads of the campaign wait for."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.active = False


class SendGate:
    """The status checks of one Outbox. Thread-safe."""

    def __init__(self, is_active: Callable[[int], bool], *,
                 check_seconds: float = CHECK_SECONDS,
                 ticker: Callable[[], float] = time.monotonic) -> None:
        self.is_active, self.check_seconds, self.ticker = is_active, check_seconds, ticker
        self._epoch = 0
        # campaign id -> (when the last read that saw it active began, the epoch then)
        self._seen_active: dict[int, tuple[float, int]] = {}
        # campaign id -> the read going now: one at a time per campaign, not one per thread
        self._reading: dict[int, _Read] = {}
        self._lock = threading.Lock()

    def paused_here(self) -> None:
        """Something was paused by this process: read again before the next message."""
        with self._lock:
            self._epoch += 1

    def may_send(self, campaign_id: int) -> bool:
        """True if the campaign may have one more message started now; False once it is
        paused, finished or deleted (or its status cannot be read: sending on would break
        the bound, so the caller releases what it holds).

        When the last answer is too old, one thread reads the status and the others wait
        for that read and then judge its answer by their own clock, as if they had read
        it (it began before they asked again, so the bound above still holds)."""
        while True:
            now = self.ticker()
            with self._lock:
                epoch = self._epoch  # taken before the read: a pause meanwhile reads again
                seen = self._seen_active.get(campaign_id)
                if (seen is not None and seen[1] == epoch
                        and now - seen[0] <= self.check_seconds):
                    return True
                going = self._reading.get(campaign_id)
                if going is None:
                    mine = self._reading[campaign_id] = _Read()
                    break
            going.done.wait()
            if not going.active:
                return False
        try:
            active = self._read(campaign_id)
            with self._lock:
                latest = self._seen_active.get(campaign_id)
                if not active:
                    self._seen_active.pop(campaign_id, None)
                elif latest is None or latest[0] < now:
                    self._seen_active[campaign_id] = (now, epoch)
            mine.active = active
        finally:
            with self._lock:
                self._reading.pop(campaign_id, None)
            mine.done.set()
        return active

    def _read(self, campaign_id: int) -> bool:
        try:
            return self.is_active(campaign_id)
        except Exception as exc:  # the database is unreachable: cannot prove it is active
            logger.warning("could not read the campaign status; releasing the batch",
                           extra={"campaign_id": campaign_id, "error": str(exc)})
            return False
