"""The one way to start sending in the background (Outbox.kick): one thread per process.

Kicks come from Send, Resume and one-off SMS in the web app, the bridge's cron tick, the
worker's schedule and the CLI. They merge: a kick while a run is asked for or going makes
it run once more afterwards (with the first batches asked for meanwhile), never N times, so
a burst of kicks costs one extra run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Runner:
    """Runs `work(first_batches)` on one daemon thread whenever kicked. Thread-safe."""

    def __init__(self, work: Callable[[list[int]], object], name: str = "sms-queue") -> None:
        self._work, self._name = work, name
        self._cond = threading.Condition()
        self._wanted = self._busy = self._closed = False
        self._first: list[int] = []  # campaigns waiting for their first batch
        self._thread: threading.Thread | None = None

    def kick(self, campaign_id: int | None = None) -> bool:
        """Ask for a run, giving `campaign_id` one batch first. True when this kick starts
        a run, False when it joins one already asked for or going."""
        with self._cond:
            if self._closed:
                return False
            joined = self._wanted or self._busy
            self._wanted = True
            if campaign_id is not None and campaign_id not in self._first:
                self._first.append(campaign_id)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name,
                                                daemon=True)
                self._thread.start()
            self._cond.notify_all()
        return not joined

    def take_first_batch(self) -> int | None:
        """A campaign still waiting for its first batch, for a run that is going to serve
        now rather than after it ends."""
        with self._cond:
            return self._first.pop(0) if self._first else None

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no run is asked for or going; False if `timeout` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not (self._wanted or self._busy), timeout)

    def close(self) -> None:
        """Take no more kicks; return once the run going (if any) has ended."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._wanted or self._closed)
                if self._closed:
                    self._wanted = False
                    self._first.clear()
                    self._cond.notify_all()
                    return
                first, self._first = self._first, []
                self._wanted, self._busy = False, True
            try:
                self._work(first)
            except Exception:  # the runner must outlive any one run
                logger.exception("background queue run failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
