"""Message text helpers: shortcode rendering and SMS segment counting. No I/O.

Shortcodes follow DESIGN.md §5. Segment counting follows 3GPP TS 23.038 and Twilio's rules
(tech-notes §5): one character outside the GSM-7 default alphabet (basic table plus extension
table) switches the whole message to UCS-2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SHORTCODES = (
    "customer_full_name",
    "customer_name",
    "customer_first_name",
    "customer_last_name",
    "customer_phone",
)

# Twilio rejects longer bodies with error 21617.
MAX_BODY_CHARS = 1600

# A known shortcode, exactly as written (case-sensitive, no inner spaces).
_SHORTCODE = re.compile(r"\{(" + "|".join(SHORTCODES) + r")\}")
# Anything that looks like a shortcode: braces around one word-ish token with no whitespace.
_TOKEN = re.compile(r"\{[^{}\s]{1,64}\}")


def render(body: str, *, first_name: str | None, last_name: str | None, phone: str) -> str:
    """Return `body` with the customer shortcodes replaced; unknown `{codes}` stay as written.

    The substitution is a single pass, so a customer name that itself contains "{...}" is
    inserted literally and never expanded.
    """
    first = (first_name or "").strip()
    last = (last_name or "").strip()
    full = " ".join(part for part in (first, last) if part) or phone
    values = {
        "customer_full_name": full,
        "customer_name": full,
        "customer_first_name": first,
        "customer_last_name": last,
        "customer_phone": phone,
    }
    return _SHORTCODE.sub(lambda match: values[match.group(1)], body)


def shortcodes_in(body: str) -> list[str]:
    """Return the distinct known shortcodes in `body` (without braces), in order."""
    return list(dict.fromkeys(match.group(1) for match in _SHORTCODE.finditer(body)))


def unknown_shortcodes(body: str) -> list[str]:
    """Return the distinct `{token}`s in `body` that are not known shortcodes, in order."""
    seen: dict[str, None] = {}
    for match in _TOKEN.finditer(body):
        token = match.group(0)
        if token[1:-1] not in SHORTCODES:
            seen.setdefault(token, None)
    return list(seen)


# --- GSM 03.38 ---------------------------------------------------------------------------

# The default alphabet, 3GPP TS 23.038 §6.2.1, one row per 16 code points (0x00-0x7F).
# 0x1B is the escape to the extension table, not a character; it is kept as a placeholder so
# each row stays aligned with the standard, and removed from the set below.
_GSM7_BASIC_ROWS = (
    "@£$¥èéùìòÇ\nØø\rÅå",  # 0x00
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ",  # 0x10
    " !\"#¤%&'()*+,-./",  # 0x20
    "0123456789:;<=>?",  # 0x30
    "¡ABCDEFGHIJKLMNO",  # 0x40
    "PQRSTUVWXYZÄÖÑÜ§",  # 0x50
    "¿abcdefghijklmno",  # 0x60
    "pqrstuvwxyzäöñüà",  # 0x70
)
GSM7_BASIC = frozenset("".join(_GSM7_BASIC_ROWS)) - {"\x1b"}

# The default extension table, 3GPP TS 23.038 §6.2.1.1: each costs ESC + code = 2 septets.
# Form feed is 0x0A; the CR2 (0x0D) and SS2 (0x1B) controls have no character to map.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
_GSM7_ALL = GSM7_BASIC | GSM7_EXTENSION

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67


@dataclass(frozen=True)
class SegmentInfo:
    """How an SMS body is encoded and billed.

    `units` are septets (GSM-7) or UTF-16 code units (UCS-2); `per_segment` is the capacity
    that applies (the single-message limit when it fits in one, else the per-part limit).
    """

    encoding: str
    units: int
    segments: int
    per_segment: int
    ucs2_chars: list[str] = field(default_factory=list)


# One scan in C instead of a Python call per character: the render report counts every
# recipient's message (100,000 of them in well under a second), and the engine counts each
# message it sends.
_NOT_GSM7 = re.compile("[^" + re.escape("".join(sorted(_GSM7_ALL))) + "]")
_GSM7_DOUBLE = re.compile("[" + re.escape("".join(sorted(GSM7_EXTENSION))) + "]")
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


def _gsm7_cost(char: str) -> int:
    return 2 if char in GSM7_EXTENSION else 1


def _ucs2_cost(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def without_ucs2(text: str, replacement: str = "?") -> str:
    """Return `text` with every character outside GSM-7 replaced (what a message would cost
    without them)."""
    return _NOT_GSM7.sub(replacement, text)


def count_segments(text: str) -> SegmentInfo:
    """Return the encoding, size and number of segments Twilio bills for `text`.

    In a concatenated message no character is split across two parts: an ESC pair in GSM-7 and
    a surrogate pair in UCS-2 move whole to the next part, as Twilio's segment calculator does.
    """
    ucs2_chars = list(dict.fromkeys(_NOT_GSM7.findall(text)))
    if ucs2_chars:
        encoding, cost, single, multi = "UCS-2", _ucs2_cost, UCS2_SINGLE, UCS2_MULTI
        doubles = len(_ASTRAL.findall(text))
    else:
        encoding, cost, single, multi = "GSM-7", _gsm7_cost, GSM7_SINGLE, GSM7_MULTI
        doubles = len(_GSM7_DOUBLE.findall(text))
    units = len(text) + doubles
    if units == 0:
        return SegmentInfo(encoding, 0, 0, single, ucs2_chars)
    if units <= single:
        return SegmentInfo(encoding, units, 1, single, ucs2_chars)
    if not doubles:  # every character costs one unit: parts are simply full
        return SegmentInfo(encoding, units, -(-units // multi), multi, ucs2_chars)
    segments, used = 1, 0
    for unit_cost in map(cost, text):
        if used + unit_cost > multi:
            segments, used = segments + 1, 0
        used += unit_cost
    return SegmentInfo(encoding, units, segments, multi, ucs2_chars)
