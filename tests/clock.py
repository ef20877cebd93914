"""The one clock of a test: epoch seconds that move only when the test moves them.

A test hands the same `FrozenClock` to everything that asks for the time — the sample data
("now" the appointments are placed around), the runtime's services, the web app's signature
check, the relay and the test clients that sign, the fake Twilio — so a segment boundary
sits exactly where the data put it, and nothing depends on how long a step took.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

# 2026-05-28 20:26:40 UTC: a fixed instant, so every run sees the same data and calendar.
START = 1_780_000_000


@dataclass
class FrozenClock:
    """A wall clock (epoch seconds) that stands still until `advance()`; thread-safe."""

    now: float = START
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds
