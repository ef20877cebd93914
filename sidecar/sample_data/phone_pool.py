"""Unique, valid US numbers written the ways Booknetic users write them, each checked to
mean what the fixture says it means."""

from __future__ import annotations

import random
from collections.abc import Iterator

from ..phones import normalise_phone

AREAS = ["202", "212", "312", "415"]


def format_phone(d: str, style: str) -> str:
    """Write the 10-digit US number `d` the way a Booknetic user might have."""
    a, e, line = d[:3], d[3:6], d[6:]
    return {
        "e164": f"+1{d}",
        "noplus": f"1{d}",
        "spaced": f"+1 ({a}) {e}-{line}",
        "dashed": f"+1 {a}-{e}-{line}",
        "national": f"({a}) {e}-{line}",
        "spaces_noplus": f"1 {a} {e} {line}",
    }[style]


def check_phone(raw: str | None, e164: str | None, style: str) -> None:
    """Make sure the number means what the fixture says it means (with and without region)."""
    with_us = normalise_phone(raw, "US")
    without = normalise_phone(raw, None)
    want_without = None if style == "national" else e164
    if with_us != e164 or without != want_without:
        raise AssertionError(
            f"fixture phone {raw!r} ({style}): US={with_us!r} none={without!r}, wanted {e164!r}"
        )


class PhonePool:
    """Unique valid US numbers: first the fictional 555-01xx lines, then other exchanges."""

    def __init__(self, rng: random.Random) -> None:
        fictional = [f"{a}5550{n:03d}" for a in AREAS for n in range(100, 200)]
        rng.shuffle(fictional)
        self._fictional = fictional
        self._used: set[str] = set()
        self._fallback = self._more()
        self._checked: set[tuple[str, str]] = set()

    @staticmethod
    def _more() -> Iterator[str]:
        for exchange in range(201, 1000):
            if exchange == 555 or exchange % 100 == 11:
                continue
            for area in AREAS:
                prefix = f"{area}{exchange}"
                if normalise_phone(f"+1{prefix}0000") is None:
                    continue
                for line in range(10000):
                    yield f"{prefix}{line:04d}"

    def take(self) -> str:
        while True:
            d = self._fictional.pop() if self._fictional else next(self._fallback)
            if d not in self._used:
                self._used.add(d)
                return d

    def render(self, d: str, style: str) -> str:
        raw = format_phone(d, style)
        # Validity depends on area + exchange (and on the line inside 555), so one check per
        # (style, prefix) proves the rest; 555 numbers are checked one by one.
        key = (style, d if d[3:6] == "555" else d[:6])
        if key not in self._checked:
            check_phone(raw, f"+1{d}", style)
            self._checked.add(key)
        return raw
