"""One RATE_PER_SECOND per Twilio sender for every process together (DESIGN.md §13).

The limit belongs to (Account SID, From) as the provider was built from the add-on's
options; all tenants and processes using them share one row of `rate_limits`, holding the
next free send slot (epoch microseconds). Slots are 1/RATE apart and handed out in order:
a process reads the row and moves it on by n slots with a conditional UPDATE (`WHERE
next_slot_us = <what it read>`; a lost race reads again), never starting before now, so
no credit piles up while the fleet is idle. Each POST then waits for its own slot.

Why this meets §13's rule. Slots are spaced evenly from one shared counter, so any window
of W seconds holds at most SHARE x RATE x W + 1 of them, and a slot is never in the past
when it is handed out: a POST leaves at its slot, late only by this machine's scheduling,
so the fleet's bursts are one message plus that jitter (far below RATE x 0.25 s) and a
5-second window stays under RATE x W x 1.05 even when messages leave up to ~0.45 s late. Slots are
reserved for the send threads waiting (at least SEND_CONCURRENCY per round trip: each
thread is back for another within about one provider call, so the round trip is
amortised), and a reserved slot nobody took within STALE seconds is dropped, never used
late; with enough due work every thread is waiting, every slot is used, and the fleet
sustains the rate.

The slot is taken inside the provider's send (PacedProvider), so the engine's batches, Send's
first batch, test and one-off SMS all count, each POST once, and lookups (GETs) never. In a
batch that is after the pause gate (gate.py) let the message go: a thread still has at most
one message past the gate, so the gate's bound is unchanged.

When live processes are configured with different rates the lowest wins: each process
learns the fleet's lowest from the heartbeat (fleet.py) and spaces its slots by it.
Clocks of different machines must agree to well under a slot (NTP): slots are wall-clock
times.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, select, update

from ..db import insert_ignore, is_mysql
from ..metrics import SidecarMetrics
from ..providers.base import DeliveryUpdate, Outcome, SendResult, SmsProvider
from ..schema import SmsTables

logger = logging.getLogger(__name__)

# Slots are spaced for this share of RATE: the sustained rate stays well above §13's 90 %,
# and a window at Twilio holds at most 0.96 x RATE x W + 1 slots, leaving 0.45 s of the
# 1.05 bound for messages a busy machine sends late (see the module docstring).
SHARE = 0.96
# A slot reserved ahead that no thread of this process took within this many seconds after
# its time is dropped rather than used late (a late POST would crowd a later window).
STALE = 0.2
# A reservation that keeps losing its race gives up after this many reads (then the send
# is retried later as a transient failure; nothing was sent).
MAX_RACES = 200


@dataclass
class LimiterStats:
    """What the limiter did in this process (for /metrics)."""

    slots: int = 0
    waits: int = 0  # sends that had to wait for their slot
    waited_seconds: float = 0.0
    round_trips: int = 0
    dropped: int = 0  # slots reserved ahead that went stale unused


@dataclass
class _Sender:
    """The send threads of this process waiting for slots of one sender."""

    cond: threading.Condition = field(default_factory=threading.Condition)
    slots: deque[int] = field(default_factory=deque)
    demand: int = 0  # threads waiting for a slot not yet handed to them
    fetching: bool = False


class SharedRateLimiter:
    """Hands out send slots per sender through the database. Thread-safe."""

    def __init__(self, engine: Engine, tables: SmsTables, rate_per_second: float, *,
                 block: int = 1, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.engine, self.table = engine, tables.rate_limits
        self.own_rate = rate_per_second
        # Slots reserved per round trip at least (the process's send threads: each comes
        # back for another within about one provider call).
        self.block = max(block, 1)
        self.fleet_rate = 0.0  # the lowest rate among live processes (0 = none known)
        self.clock, self.sleep = clock, sleep
        self.stats = LimiterStats()
        self._senders: dict[str, _Sender] = {}
        self._lock = threading.Lock()

    @property
    def rate(self) -> float:
        """The rate in force: the lowest of ours and the fleet's (0 = no limit)."""
        rates = [r for r in (self.own_rate, self.fleet_rate) if r > 0]
        return min(rates) if rates else 0.0

    def fleet_rate_is(self, lowest: float) -> None:
        self.fleet_rate = lowest

    def acquire(self, sender: str) -> float:
        """Wait for this process's next send slot of `sender`; returns the seconds waited.
        Raises when the database cannot be asked (the caller sends nothing then)."""
        rate = self.rate
        if rate <= 0:
            return 0.0
        state = self._sender(sender)
        with state.cond:
            state.demand += 1
            try:
                while not self._fresh(state):
                    if state.fetching:
                        state.cond.wait()
                        continue
                    state.fetching, wanted = True, max(state.demand, self.block)
                    state.cond.release()
                    try:
                        slots = self._reserve(sender, wanted, rate)
                    finally:
                        state.cond.acquire()
                        state.fetching = False
                        state.cond.notify_all()
                    state.slots.extend(slots)
                slot = state.slots.popleft()
            finally:
                state.demand -= 1
        wait = slot / 1e6 - self.clock()
        with self._lock:
            self.stats.slots += 1
            if wait > 0:
                self.stats.waits += 1
                self.stats.waited_seconds += wait
        if wait > 0:
            self.sleep(wait)
        return max(wait, 0.0)

    def _fresh(self, state: _Sender) -> bool:
        """Whether a usable slot is at hand, after dropping those gone stale."""
        oldest = (self.clock() - STALE) * 1e6
        while state.slots and state.slots[0] < oldest:
            state.slots.popleft()
            with self._lock:
                self.stats.dropped += 1
        return bool(state.slots)

    def _sender(self, sender: str) -> _Sender:
        with self._lock:
            return self._senders.setdefault(sender, _Sender())

    def _reserve(self, sender: str, n: int, rate: float) -> list[int]:
        """Move the sender's next free slot on by `n` slots (never from before now) and
        return the `n` slots passed over."""
        t = self.table
        interval = max(math.ceil(1e6 / (rate * SHARE)), 1)
        for _ in range(MAX_RACES):
            now_us = int(self.clock() * 1e6)
            with self.engine.begin() as conn:
                # MariaDB/MySQL: the row lock makes the reservations queue instead of
                # racing (SQLite serialises writers anyway; the WHERE below still guards).
                read = select(t.c.next_slot_us).where(t.c.sender == sender)
                current = conn.execute(read.with_for_update() if is_mysql(conn)
                                       else read).scalar()
                if current is None:
                    insert_ignore(conn, t, [{"sender": sender, "next_slot_us": 0,
                                             "updated_at": now_us // 1_000_000}])
                    continue
                start = max(int(current), now_us)
                moved = conn.execute(update(t).where(
                    t.c.sender == sender, t.c.next_slot_us == current).values(
                    next_slot_us=start + n * interval,
                    updated_at=now_us // 1_000_000)).rowcount
            with self._lock:
                self.stats.round_trips += 1
            if moved == 1:
                return [start + i * interval for i in range(n)]
        raise RuntimeError(f"could not reserve a send slot for {sender} "
                           f"({MAX_RACES} races lost)")


def sender_key(provider: SmsProvider) -> str:
    """The Twilio sender a provider sends as: `<Account SID>:<From or service SID>`."""
    account = getattr(provider, "account_sid", "") or type(provider).__name__
    return f"{account}:{getattr(provider, 'sender', '')}"[:191]


class PacedProvider:
    """A provider whose every send (the Messages POST) first takes a slot of the shared
    limit, and is counted in the metrics; lookups (GETs) pass straight through."""

    def __init__(self, inner: SmsProvider, limiter: SharedRateLimiter,
                 metrics: SidecarMetrics | None = None) -> None:
        self.inner, self.limiter, self.metrics = inner, limiter, metrics
        self.sender = sender_key(inner)

    def send(self, to: str, body: str, *, validity_period: int | None = None) -> SendResult:
        try:
            self.limiter.acquire(self.sender)
        except Exception as exc:  # nothing was sent: a plain retry later is safe
            logger.warning("no send slot (rate limit unavailable)",
                           extra={"to": to, "error": str(exc)})
            return SendResult(Outcome.TRANSIENT,
                              error=f"the shared rate limit could not be read: {exc}"[:500])
        if self.metrics is None:
            return self.inner.send(to, body, validity_period=validity_period)
        with self.metrics.provider_latency.time():
            result = self.inner.send(to, body, validity_period=validity_period)
        self.metrics.messages.labels(result.outcome.value).inc()
        return result

    def find_sent(self, to: str, body: str, since: int) -> str | None:
        return self.inner.find_sent(to, body, since)

    def fetch_status(self, message_id: str) -> DeliveryUpdate | None:
        return self.inner.fetch_status(message_id)
