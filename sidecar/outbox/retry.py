"""Riding out a database outage without leaving work to the lease.

What a batch learned from the provider exists only in this process's memory until it is
recorded. When the database stops answering, the engine keeps it and tries again with a
short back-off until the database answers (or the process is shutting down), so a live
process records its own claims within about a second of the database coming back instead
of leaving them to whoever claims them after LEASE_SECONDS.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

logger = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_DELAY, LONGEST_DELAY = 0.05, 1.0


class RetryStopped(Exception):
    """Gave up waiting for the database: the run was stopped or the process is closing."""


def database_unreachable(exc: BaseException) -> bool:
    """True for errors that mean "the database did not answer" (server down, connection
    lost, pool exhausted, lock timeouts and deadlocks) rather than a wrong statement."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class DatabaseRetry:
    """Calls that wait out an unreachable database; one per Outbox."""

    def __init__(self, closing: threading.Event) -> None:
        self.closing = closing

    def call(self, what: str, action: Callable[[], T],
             stopping: Callable[[], bool] | None = None) -> T:
        """`action()`, retried with back-off while the database is unreachable. Raises
        RetryStopped once `stopping()` is true or the Outbox is closing; other errors pass."""
        delay, down_since = FIRST_DELAY, None
        while True:
            try:
                result = action()
            except Exception as exc:
                if not database_unreachable(exc):
                    raise
                if down_since is None:
                    down_since = time.monotonic()
                    logger.warning("database unreachable; will retry",
                                   extra={"action": what, "error": str(exc).splitlines()[0]})
            else:
                if down_since is not None:
                    logger.info("database answers again", extra={
                        "action": what, "seconds": round(time.monotonic() - down_since, 1)})
                return result
            if self.closing.wait(delay) or (stopping is not None and stopping()):
                raise RetryStopped(what)
            delay = min(delay * 2, LONGEST_DELAY)
