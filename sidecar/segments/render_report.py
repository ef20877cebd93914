"""The render report (DESIGN.md §11): every recipient's message, rendered as the engine will
render it, summarised before Send — segments, encodings, the characters that force UCS-2,
the shortcodes that come out empty, and the cost.

A message depends only on the body and the recipient's first name, last name and phone
(`sms_text.render`), and what the report counts of it only on the characters that are not
plain one-unit GSM-7 ones and on lengths: a character of the GSM-7 basic table costs one
unit in either encoding (one septet, or one UTF-16 unit: they are all in the BMP) and
forces nothing. So a name made only of such characters can stand for every name of its
length ("Smith" for "Jones"), and an E.164 phone ('+' and digits) for every phone of its
length, without changing the encoding, the number of units, where a part boundary falls or
whether a shortcode is empty. The report therefore reads, per recipient, only the columns
the body uses — the names as bytes, the phone's length — counts the distinct ones in one
pass (`Counter`, in C; the database counts when no name is read), maps each to its
stand-in, and renders and counts each distinct message once with `sms_text.render` and
`sms_text.count_segments`: the functions the engine sends with. 100,000 recipients with
100,000 distinct names are a few hundred renders.

Grouping in SQL instead was measured slower as soon as names are mostly distinct (a GROUP BY
of 100,000 long binary keys: 1.2 s against 0.7 s for reading the rows, bench/render).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    LargeBinary,
    Select,
    Table,
    cast,
    func,
    literal_column,
    select,
)

from ..sms_text import GSM7_BASIC, count_segments, render, shortcodes_in, without_ucs2

# The recipient rows copy at most this many characters of each name (the snapshot's
# columns are VARCHAR(191)); the report reads the names the same way.
SNAPSHOT_NAME_CHARS = 191

# Which shortcodes read which part of the recipient (sms_text.render).
_READS_FIRST = frozenset({"customer_first_name", "customer_name", "customer_full_name"})
_READS_LAST = frozenset({"customer_last_name", "customer_name", "customer_full_name"})
# The full name falls back to the phone when both names are empty.
_READS_PHONE = frozenset({"customer_phone", "customer_name", "customer_full_name"})


@dataclass(frozen=True)
class BodyNeeds:
    """What of a recipient a body's shortcodes read."""

    codes: tuple[str, ...]  # the known shortcodes in the body, in order, without braces
    first: bool
    last: bool
    phone: bool

    @classmethod
    def of(cls, body: str) -> BodyNeeds:
        codes = tuple(shortcodes_in(body))
        return cls(codes, bool(_READS_FIRST.intersection(codes)),
                   bool(_READS_LAST.intersection(codes)), bool(_READS_PHONE.intersection(codes)))


def recipient_kinds(conn: Connection, recipients: Any, customers: Table,
                    needs: BodyNeeds) -> Counter[tuple[Any, Any, Any]]:
    """How many recipients there are of each (first name, last name, phone length) — each
    None when the body does not read it — for the recipients in `recipients` (a subquery
    with `customer_id` and `phone`: the snapshot's), joined to their customers like the
    snapshot does. Names come as bytes: exact, whatever the collation.

    With a name in the body, one row per recipient is read and counted in one pass
    (`Counter`, in C); without, the database counts the few phone lengths itself.
    """
    source = recipients.join(customers, customers.c.id == recipients.c.customer_id)
    length = func.length(recipients.c.phone) if needs.phone else literal_column("NULL")
    if not (needs.first or needs.last):
        stmt: Select[Any] = select(length, func.count()).select_from(source)
        if needs.phone:
            stmt = stmt.group_by(length)
        return Counter({(None, None, size): int(n) for size, n in conn.execute(stmt) if n})

    def wanted(flag: bool, column: Any) -> Any:
        return cast(column, LargeBinary) if flag else literal_column("NULL")

    stmt = select(wanted(needs.first, customers.c.first_name),
                  wanted(needs.last, customers.c.last_name), length).select_from(source)
    return Counter(map(tuple, conn.execute(stmt)))


@dataclass
class RenderReport:
    """The summary over every recipient (not a sample). `ucs2_sources` and
    `ucs2_extra_segments` say, for the page, where the UCS-2 characters come from (the body;
    how many messages got one from a first or last name; its Unicode name) and what they
    cost: segments beyond what the same messages would take with them replaced by plain
    characters."""

    messages: int = 0
    segments_total: int = 0
    encoding: dict[str, int] = field(default_factory=lambda: {"gsm7": 0, "ucs2": 0})
    segments_histogram: dict[str, int] = field(default_factory=dict)
    ucs2_characters: dict[str, int] = field(default_factory=dict)
    empty_placeholders: dict[str, int] = field(default_factory=dict)
    estimated_cost: float | None = None
    ucs2_sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    ucs2_extra_segments: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = {
            "messages": self.messages, "segments_total": self.segments_total,
            "encoding": self.encoding, "segments_histogram": self.segments_histogram,
            "ucs2_characters": self.ucs2_characters,
            "empty_placeholders": self.empty_placeholders,
            "ucs2_sources": self.ucs2_sources, "ucs2_extra_segments": self.ucs2_extra_segments,
        }
        if self.estimated_cost is not None:
            data["estimated_cost"] = self.estimated_cost
        return data


@dataclass(frozen=True)
class _Rendered:
    """One distinct message (up to the phone's digits) and what the report counts of it."""

    segments: int
    ucs2: bool
    ucs2_chars: tuple[str, ...]
    extra_segments: int  # over the same text with its UCS-2 characters replaced
    empty: tuple[str, ...]  # the codes that render empty or blank
    from_first: tuple[str, ...]  # UCS-2 characters in the first name the body uses
    from_last: tuple[str, ...]


# Not a one-unit GSM-7 basic character (a name without any can be stood in for).
_SPECIAL = re.compile("[^" + re.escape("".join(sorted(GSM7_BASIC))) + "]")


def _stand_in(raw: bytes | str | None) -> str:
    """A name as the snapshot copies it (NULL as '', at most SNAPSHOT_NAME_CHARS
    characters) and the engine reads it (stripped); a name of plain GSM-7 characters only
    becomes the same number of "a"s (see the module docstring). WordPress tables are
    utf8mb4, so the bytes are UTF-8."""
    if raw is None:
        return ""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes | bytearray) \
        else str(raw)
    name = text[:SNAPSHOT_NAME_CHARS].strip()
    return name if _SPECIAL.search(name) else "a" * len(name)


def _render_one(body: str, needs: BodyNeeds, first: str, last: str, phone: str) -> _Rendered:
    text = render(body, first_name=first, last_name=last, phone=phone)
    info = count_segments(text)
    ucs2 = info.encoding == "UCS-2"
    extra = info.segments - count_segments(without_ucs2(text)).segments if ucs2 else 0
    empty = tuple(code for code in needs.codes
                  if not render("{" + code + "}", first_name=first, last_name=last,
                                phone=phone).strip())
    return _Rendered(
        info.segments, ucs2, tuple(info.ucs2_chars), extra, empty,
        tuple(c for c in info.ucs2_chars if needs.first and c in first),
        tuple(c for c in info.ucs2_chars if needs.last and c in last))


def summarise(body: str, kinds: Mapping[tuple[Any, Any, Any], int], *,
              price_per_segment: Decimal | None = None) -> RenderReport:
    """The report for `body` over the recipients counted by `recipient_kinds`."""
    needs = BodyNeeds.of(body)
    names: dict[Any, str] = {}
    outcomes: Counter[_Rendered] = Counter()
    rendered: dict[tuple[str, str, int], _Rendered] = {}
    for (raw_first, raw_last, length), n in kinds.items():
        first = names.get(raw_first)
        if first is None:
            first = names[raw_first] = _stand_in(raw_first)
        last = names.get(raw_last)
        if last is None:
            last = names[raw_last] = _stand_in(raw_last)
        key = (first, last, int(length or 0))
        done = rendered.get(key)
        if done is None:
            # An E.164 number of that length: '+' and digits, all one-unit GSM-7.
            phone = "+" + "0" * (key[2] - 1) if key[2] else ""
            done = rendered[key] = _render_one(body, needs, first, last, phone)
        outcomes[done] += n

    messages = segments_total = extra_total = 0
    encoding = {"gsm7": 0, "ucs2": 0}
    histogram: Counter[int] = Counter()
    ucs2_chars: Counter[str] = Counter()
    from_first: Counter[str] = Counter()
    from_last: Counter[str] = Counter()
    empty: Counter[str] = Counter({code: 0 for code in needs.codes})
    for done, n in outcomes.items():
        messages += n
        segments_total += n * done.segments
        histogram[done.segments] += n
        encoding["ucs2" if done.ucs2 else "gsm7"] += n
        extra_total += n * done.extra_segments
        for counter, chars in ((ucs2_chars, done.ucs2_chars), (from_first, done.from_first),
                               (from_last, done.from_last), (empty, done.empty)):
            for char in chars:
                counter[char] += n
    # Most frequent first, ties by character: the rows come in no set order, and the page
    # shows only the first few, so the same audience must always list the same ones.
    ordered = dict(sorted(ucs2_chars.items(), key=lambda item: (-item[1], item[0])))
    return RenderReport(
        messages=messages,
        segments_total=segments_total,
        encoding=encoding,
        segments_histogram={str(k): histogram[k] for k in sorted(histogram)},
        ucs2_characters=ordered,
        empty_placeholders={"{" + code + "}": empty[code] for code in needs.codes},
        estimated_cost=(None if price_per_segment is None
                        else float(price_per_segment * segments_total)),
        ucs2_sources={char: {"in_body": char in body, "first_names": from_first[char],
                             "last_names": from_last[char],
                             "name": unicodedata.name(char, "").lower()}
                      for char in ordered},
        ucs2_extra_segments=extra_total,
    )
