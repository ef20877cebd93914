"""What goes wrong at the fake, and when: latency on every request; on creates, a queue of
scripted outcomes first, then random 429 / 500 / timeouts from a seeded RNG (so runs
repeat); and scripted Twilio errors for chosen numbers."""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

TIMEOUT = "timeout"  # an item for script_response_sequence


@dataclass
class ScriptedError:
    code: int
    status: int
    message: str
    remaining: int | None


class Faults:
    """Fault settings and scripts of one FakeTwilio. Thread-safe."""

    def __init__(self, seed: int | None) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._scripts: dict[str, ScriptedError] = {}
        self._sequence: deque[int | str | None] = deque()
        self.latency = self.failure_rate_429 = self.failure_rate_500 = self.timeout_rate = 0.0
        self.timeout_sleep, self.lost_answer = 30.0, False

    def configure(
        self,
        *,
        latency: float | None = None,
        failure_rate_429: float | None = None,
        failure_rate_500: float | None = None,
        timeout_rate: float | None = None,
        timeout_sleep: float | None = None,
        lost_answer: bool | None = None,
    ) -> None:
        """Change fault injection at runtime; arguments left as None keep their value."""
        rates = {
            "failure_rate_429": self.failure_rate_429
            if failure_rate_429 is None
            else failure_rate_429,
            "failure_rate_500": self.failure_rate_500
            if failure_rate_500 is None
            else failure_rate_500,
            "timeout_rate": self.timeout_rate if timeout_rate is None else timeout_rate,
        }
        if any(not 0.0 <= r <= 1.0 for r in rates.values()) or sum(rates.values()) > 1.0:
            raise ValueError(f"fault rates must be in [0, 1] and sum to at most 1: {rates}")
        if (latency is not None and latency < 0) or (
            timeout_sleep is not None and timeout_sleep <= 0
        ):
            raise ValueError("latency must be >= 0 and timeout_sleep > 0")
        with self._lock:
            self.failure_rate_429 = rates["failure_rate_429"]
            self.failure_rate_500 = rates["failure_rate_500"]
            self.timeout_rate = rates["timeout_rate"]
            if latency is not None:
                self.latency = latency
            if timeout_sleep is not None:
                self.timeout_sleep = timeout_sleep
            if lost_answer is not None:
                self.lost_answer = lost_answer

    def script_error(self, to: str, code: int, status: int, message: str,
                     times: int | None) -> None:
        with self._lock:
            self._scripts[to] = ScriptedError(code, status, message, times)

    def script_sequence(self, outcomes: Iterable[int | str | None]) -> None:
        items = list(outcomes)
        for item in items:
            if not (
                item is None
                or item == TIMEOUT
                or item == 429
                or (isinstance(item, int) and 500 <= item <= 599)
            ):
                raise ValueError(f"unsupported scripted outcome: {item!r}")
        with self._lock:
            self._sequence.extend(items)

    def clear_scripts(self) -> None:
        with self._lock:
            self._scripts.clear()
            self._sequence.clear()

    def draw(self) -> int | str | None:
        """The fault for the next create: a scripted outcome first, else a random one."""
        with self._lock:
            if self._sequence:
                return self._sequence.popleft()
            draw = self._rng.random()
            for outcome, rate in (
                (429, self.failure_rate_429),
                (500, self.failure_rate_500),
                (TIMEOUT, self.timeout_rate),
            ):
                if draw < rate:
                    return outcome
                draw -= rate
        return None

    def scripted_error_for(self, to: str) -> ScriptedError | None:
        """The scripted error for a create to `to`, counting it against `times`."""
        with self._lock:
            script = self._scripts.get(to)
            if script is not None and script.remaining is not None:
                script.remaining -= 1
                if script.remaining <= 0:
                    del self._scripts[to]
        return script
