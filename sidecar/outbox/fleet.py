"""Many senders against one database (DESIGN.md §13): campaign leases and live processes.

A queue run leases the campaign it is sending now (`campaign_leases`, one row per campaign
being sent), so each process takes a campaign nobody holds before it helps with another's
batches; batch claims stay atomic on their own (recipient_rows.py), so a lease decides
*who should* send a campaign, never *whether a row may be sent*: losing one costs no
duplicate, only the spread of work. Every process running the queue also keeps a row in
`processes` (host, pid, its configured rate), which `bkntc-sms check` lists and whose
lowest rate the shared limiter obeys (rate_limit.py).

One heartbeat thread per process renews both every TTL/4 (`LEASE_SECONDS`); a process
that dies stops renewing, and its campaigns are free again once their TTL has passed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, and_, delete, func, or_, select, update

from .. import __version__
from ..campaigns import ACTIVE
from ..db import insert_ignore, upsert
from ..schema import SmsTables

logger = logging.getLogger(__name__)

ACTIVE_VALUES = [s.value for s in ACTIVE]
# Candidates read per attempt to take a free campaign (others may win some of them).
CANDIDATES = 8
# Rows of processes dead for this long are forgotten by the heartbeat.
FORGET_AFTER = 86400


@dataclass(frozen=True)
class LiveProcess:
    holder: str
    host: str
    pid: int
    version: str
    rate_per_second: float
    started_at: int
    seen_at: int
    campaigns: tuple[int, ...]


class Fleet:
    """This process's membership of the fleet: its registration, the campaign leases it
    holds, and the heartbeat renewing them. Thread-safe; one per Outbox."""

    def __init__(self, engine: Engine, tables: SmsTables, holder: str, *, ttl: int,
                 rate_per_second: float, clock: Callable[[], float],
                 on_rate: Callable[[float], None] | None = None) -> None:
        self.engine, self.tables, self.holder = engine, tables, holder
        self.ttl, self.rate, self.clock = ttl, rate_per_second, clock
        self.on_rate = on_rate  # told the fleet's lowest rate after each beat
        self._held: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._joined = False  # registered at least once (else leave() has nothing to undo)

    # -- membership -----------------------------------------------------------------------

    def join(self) -> None:
        """Register this process (again) and start the heartbeat if it is not running."""
        self.beat()
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._heartbeat, daemon=True,
                                                name="sms-fleet-heartbeat")
                self._thread.start()

    def leave(self) -> None:
        """Stop the heartbeat, give back every lease and unregister (best effort: when the
        database is unreachable the rows simply expire)."""
        self._stop.set()
        with self._lock:
            thread, joined = self._thread, self._joined
        if thread is not None:
            thread.join(timeout=10)
        if not joined:  # e.g. a CLI command that never ran the queue
            return
        p, leases = self.tables.processes, self.tables.campaign_leases
        try:
            with self.engine.begin() as conn:
                conn.execute(update(leases).where(leases.c.holder == self.holder)
                             .values(expires_at=0))
                conn.execute(delete(p).where(p.c.holder == self.holder))
        except Exception as exc:
            logger.warning("could not unregister; the rows expire instead",
                           extra={"error": str(exc)})

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.ttl / 4):
            try:
                self.beat()
            except Exception as exc:  # the database is down: try again next beat
                logger.warning("fleet heartbeat failed", extra={"error": str(exc)})

    def beat(self) -> None:
        """One heartbeat: register or renew this process, renew its campaign leases, and
        tell `on_rate` the lowest rate among the live processes."""
        self._beat_process()
        with self._lock:
            self._joined = True
        self._renew_leases()

    def _beat_process(self) -> None:
        p = self.tables.processes
        now = int(self.clock())
        with self.engine.begin() as conn:
            kept = conn.execute(update(p).where(p.c.holder == self.holder).values(
                seen_at=now, expires_at=now + self.ttl,
                rate_per_second=self.rate)).rowcount
            if not kept:
                host, pid = _host_and_pid(self.holder)
                upsert(conn, p, [{"holder": self.holder, "host": host, "pid": pid,
                                  "version": __version__[:32],
                                  "rate_per_second": self.rate, "started_at": now,
                                  "seen_at": now, "expires_at": now + self.ttl}],
                       key=["holder"], update=["seen_at", "expires_at"])
            conn.execute(delete(p).where(p.c.expires_at < now - FORGET_AFTER))
            lowest = conn.execute(select(func.min(p.c.rate_per_second)).where(
                p.c.expires_at >= now, p.c.rate_per_second > 0)).scalar()
        if self.on_rate is not None:
            self.on_rate(float(lowest or 0))

    def _renew_leases(self) -> None:
        with self._lock:
            held = sorted(self._held)
        if not held:
            return
        leases = self.tables.campaign_leases
        now = int(self.clock())
        with self.engine.begin() as conn:
            kept = conn.execute(update(leases).where(
                leases.c.holder == self.holder, leases.c.campaign_id.in_(held))
                .values(expires_at=now + self.ttl)).rowcount
        if kept < len(held):  # expired while the database was away, and taken: harmless
            logger.warning("lost campaign leases", extra={"held": held, "renewed": kept})

    # -- campaign leases --------------------------------------------------------------------

    def take_free(self, *, exclude: set[int], only: set[int] | None = None) -> int | None:
        """Lease the oldest-queued active campaign that no live process holds (expired or
        missing lease, or ours already), skipping `exclude` and, given `only`, anything
        outside it. Returns its id, or None when there is none to take."""
        c, leases = self.tables.campaigns, self.tables.campaign_leases
        now = int(self.clock())
        free = or_(leases.c.campaign_id.is_(None), leases.c.expires_at < now,
                   leases.c.holder == self.holder)
        query = (select(c.c.id).select_from(c.outerjoin(leases,
                                                        leases.c.campaign_id == c.c.id))
                 .where(c.c.status.in_(ACTIVE_VALUES), free)
                 .order_by(c.c.queued_at, c.c.id).limit(CANDIDATES + len(exclude)))
        if only is not None:
            if not only - exclude:
                return None
            query = query.where(c.c.id.in_(sorted(only)))
        with self.engine.connect() as conn:
            candidates = [int(i) for i in conn.execute(query).scalars() if i not in exclude]
        for campaign_id in candidates:
            if self._take(campaign_id, now):
                return campaign_id
        return None

    def _take(self, campaign_id: int, now: int) -> bool:
        """Lease one campaign: a conditional UPDATE of an expired (or our own) lease, or
        the INSERT of a missing one; whoever changed the row holds it."""
        leases = self.tables.campaign_leases
        values = {"holder": self.holder, "expires_at": now + self.ttl, "taken_at": now}
        with self.engine.begin() as conn:
            taken = conn.execute(update(leases).where(
                leases.c.campaign_id == campaign_id,
                or_(leases.c.expires_at < now, leases.c.holder == self.holder))
                .values(values)).rowcount == 1
            if not taken:
                taken = insert_ignore(conn, leases, [{"campaign_id": campaign_id,
                                                      **values}]) == 1
        if taken:
            with self._lock:
                self._held.add(campaign_id)
        return taken

    def release(self, campaign_id: int) -> None:
        """Give a campaign's lease back (this process stopped sending it). The row keeps
        who held it last and since when (`check`, the tests); expires_at 0 frees it."""
        with self._lock:
            self._held.discard(campaign_id)
        leases = self.tables.campaign_leases
        with self.engine.begin() as conn:
            conn.execute(update(leases).where(leases.c.campaign_id == campaign_id,
                                              leases.c.holder == self.holder)
                         .values(expires_at=0))

    def held_by_others(self, *, exclude: set[int]) -> list[int]:
        """Active campaigns other live processes are sending, oldest-queued first: the
        ones this process may help with once no campaign is free."""
        c, leases = self.tables.campaigns, self.tables.campaign_leases
        now = int(self.clock())
        with self.engine.connect() as conn:
            ids = conn.execute(
                select(c.c.id).join(leases, leases.c.campaign_id == c.c.id)
                .where(c.c.status.in_(ACTIVE_VALUES), leases.c.expires_at >= now,
                       leases.c.holder != self.holder)
                .order_by(c.c.queued_at, c.c.id).limit(CANDIDATES + len(exclude))
            ).scalars().all()
        return [int(i) for i in ids if i not in exclude]


def live_processes(engine: Engine, tables: SmsTables, now: int) -> list[LiveProcess]:
    """The processes whose registration has not expired, with the campaigns they lease."""
    p, leases = tables.processes, tables.campaign_leases
    with engine.connect() as conn:
        rows = conn.execute(select(p).where(p.c.expires_at >= now)
                            .order_by(p.c.started_at, p.c.holder)).all()
        held = conn.execute(select(leases.c.holder, leases.c.campaign_id).where(
            and_(leases.c.expires_at >= now)).order_by(leases.c.campaign_id)).all()
    by_holder: dict[str, list[int]] = {}
    for holder, campaign_id in held:
        by_holder.setdefault(str(holder), []).append(int(campaign_id))
    return [LiveProcess(str(r.holder), str(r.host), int(r.pid), str(r.version),
                        float(r.rate_per_second), int(r.started_at), int(r.seen_at),
                        tuple(by_holder.get(str(r.holder), ())))
            for r in rows]


def worker_id() -> str:
    """This process's holder id: host:pid:random (random, so a reused pid is another)."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


def _host_and_pid(holder: str) -> tuple[str, int]:
    host, _, rest = holder.rpartition(":")[0].rpartition(":")
    pid = rest if host else ""
    try:
        return (host or holder)[:128], int(pid)
    except ValueError:
        return holder[:128], 0
