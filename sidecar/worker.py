"""APScheduler wiring — the only place a scheduler is started.

Jobs are declared as a list with stable ids. The scheduler keeps no shared job store: the
real queue state is in our tables, and a queue run leases the campaigns it sends
(outbox/fleet.py), so any number of workers on any number of machines run side by side,
each sending campaigns the others do not hold — and if one dies, another takes its
campaigns when their leases run out (DESIGN.md §13).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from .runtime import Runtime
from .segments.phone_upkeep import UPKEEP_SECONDS, keep_phones_fresh

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobSpec:
    id: str
    seconds: int
    run: Callable[[], object]


def jobs(runtime: Runtime) -> list[JobSpec]:
    return [
        JobSpec("queue-run", runtime.settings.tick_seconds, lambda: run_queue_job(runtime)),
        JobSpec("housekeeping", 300, lambda: housekeeping_job(runtime)),
        JobSpec("phone-upkeep", UPKEEP_SECONDS, lambda: phone_upkeep_job(runtime)),
    ]


def run_queue_job(runtime: Runtime) -> None:
    """Start a queue run on the outbox's own thread (kicks merge with a run going)."""
    runtime.outbox.kick()


def phone_upkeep_job(runtime: Runtime) -> None:
    """Check every tenant's phones not checked for UPKEEP_SECONDS, so previews only read
    (segments/phone_upkeep.py); logs and goes on when a check fails."""
    try:
        keep_phones_fresh(runtime.segments)
    except Exception:  # e.g. the database is down: the next run tries again
        logger.exception("phone upkeep failed")


def housekeeping_job(runtime: Runtime) -> None:
    """Forget bridge nonces older than the replay window (DESIGN.md §6: 600 s)."""
    from sqlalchemy import delete

    nonces = runtime.tables.nonces
    try:
        with runtime.engine.begin() as conn:
            conn.execute(delete(nonces).where(nonces.c.seen_at < int(runtime.clock()) - 600))
    except Exception:
        logger.exception("housekeeping failed")


def build_scheduler(runtime: Runtime, *, blocking: bool = False) -> BaseScheduler:
    scheduler: BaseScheduler = BlockingScheduler() if blocking else BackgroundScheduler()
    for job in jobs(runtime):
        scheduler.add_job(job.run, "interval", seconds=job.seconds, id=job.id,
                          coalesce=True, max_instances=1,
                          misfire_grace_time=max(job.seconds, 30),
                          next_run_time=datetime.now(UTC))
    return scheduler
