"""The render report (DESIGN.md §11): every recipient's message, rendered as the engine will
render it, summarised before Send — segments, encodings, the characters that force UCS-2,
the shortcodes that come out empty, and the cost.

A message depends only on the body and the recipient's first name, last name and phone
(sms_text.render), and the phone — E.164, a '+' and digits, each a one-septet GSM-7
character — changes the message's encoding and size only through its length. So one
statement groups the recipients by exactly what the body reads (the names byte for byte,
the phone's length), and each group is rendered once, with a real recipient's phone, by
`sms_text.render` and counted by `sms_text.count_segments`: the functions the engine sends
with. 100,000 recipients with a few thousand distinct names are a few thousand renders.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import LargeBinary, Select, Table, cast, func, select

from ..sms_text import count_segments, render, shortcodes_in, without_ucs2

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


def render_groups_select(recipients: Any, customers: Table, needs: BodyNeeds) -> Select[Any]:
    """The recipients (a subquery with `customer_id`, `phone`: the snapshot's) joined to their
    customers like the snapshot does, grouped by what the body reads: `first_name` and
    `last_name` as bytes (a text GROUP BY would merge "Zoë" with "Zoe" under WordPress's
    accent-insensitive collation), `phone_length`; with a sample `phone` and the size `n`."""
    columns: list[Any] = []
    grouping: list[Any] = []
    for wanted, column in ((needs.first, customers.c.first_name),
                           (needs.last, customers.c.last_name)):
        if wanted:
            as_bytes = cast(column, LargeBinary)
            columns.append(as_bytes.label(column.name))
            grouping.append(as_bytes)
    if needs.phone:
        length = func.length(recipients.c.phone)
        columns += [length.label("phone_length"), func.min(recipients.c.phone).label("phone")]
        grouping.append(length)
    stmt = (select(*columns, func.count().label("n"))
            .select_from(recipients.join(customers,
                                         customers.c.id == recipients.c.customer_id)))
    return stmt.group_by(*grouping) if grouping else stmt


@dataclass
class RenderReport:
    """The summary over every recipient (not a sample). `ucs2_sources` and
    `ucs2_extra_segments` say, for the page, where the UCS-2 characters come from and what
    they cost: segments beyond what the same messages would take with those characters
    replaced by plain ones."""

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


def _name(raw: bytes | str | None) -> str:
    """A name as the snapshot copies it: NULL as '', at most SNAPSHOT_NAME_CHARS characters.
    WordPress tables are utf8mb4, so the bytes are UTF-8."""
    if raw is None:
        return ""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes | bytearray) \
        else str(raw)
    return text[:SNAPSHOT_NAME_CHARS]


def _render_one(body: str, needs: BodyNeeds, first: str, last: str, phone: str) -> _Rendered:
    text = render(body, first_name=first, last_name=last, phone=phone)
    info = count_segments(text)
    ucs2 = info.encoding == "UCS-2"
    extra = info.segments - count_segments(without_ucs2(text)).segments if ucs2 else 0
    empty = tuple(code for code in needs.codes
                  if not render("{" + code + "}", first_name=first, last_name=last,
                                phone=phone).strip())
    first_used, last_used = first.strip(), last.strip()
    return _Rendered(
        info.segments, ucs2, tuple(info.ucs2_chars), extra, empty,
        tuple(c for c in info.ucs2_chars if needs.first and c in first_used),
        tuple(c for c in info.ucs2_chars if needs.last and c in last_used))


def summarise(body: str, groups: Iterable[Any], *,
              price_per_segment: Decimal | None = None) -> RenderReport:
    """The report for `body` over the rows of `render_groups_select` (any order).

    Groups whose names differ only in what rendering strips (surrounding blanks, NULL
    against '') render alike and are rendered once.
    """
    needs = BodyNeeds.of(body)
    cache: dict[tuple[str, str, int], _Rendered] = {}
    messages = segments_total = extra_total = 0
    encoding = {"gsm7": 0, "ucs2": 0}
    histogram: Counter[int] = Counter()
    ucs2_chars: Counter[str] = Counter()
    from_first: Counter[str] = Counter()
    from_last: Counter[str] = Counter()
    empty: Counter[str] = Counter({code: 0 for code in needs.codes})
    for group in groups:
        n = int(group.n)
        if not n:
            continue
        first = _name(group.first_name).strip() if needs.first else ""
        last = _name(group.last_name).strip() if needs.last else ""
        phone = str(group.phone) if needs.phone else ""
        key = (first, last, len(phone))
        done = cache.get(key)
        if done is None:
            done = cache[key] = _render_one(body, needs, first, last, phone)
        messages += n
        segments_total += n * done.segments
        histogram[done.segments] += n
        encoding["ucs2" if done.ucs2 else "gsm7"] += n
        extra_total += n * done.extra_segments
        for char in done.ucs2_chars:
            ucs2_chars[char] += n
        for char in done.from_first:
            from_first[char] += n
        for char in done.from_last:
            from_last[char] += n
        for code in done.empty:
            empty[code] += n
    ordered = dict(ucs2_chars.most_common())
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
                             "last_names": from_last[char]}
                      for char in ordered},
        ucs2_extra_segments=extra_total,
    )
