"""`bkntc-sms segments list|preview`."""

from __future__ import annotations

import argparse
from typing import Any

from ..campaigns import body_error
from ..errors import Invalid
from ..segments import SEGMENTS
from . import add_filter_flags, print_json, query_from_args, runtime


def cmd_list(args: argparse.Namespace) -> int:
    rows = [{"key": d.key, "label": d.label, "description": d.description}
            for d in SEGMENTS.values()]
    if args.json:
        print_json(rows)
    else:
        width = max(len(r["key"]) for r in rows)
        for r in rows:
            print(f"{r['key']:<{width}}  {r['label']} — {r['description']}")
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    query = query_from_args(args.segment, args)
    if not 0 <= args.limit <= 1000:
        raise Invalid({"--limit": "must be between 0 and 1000"})
    if args.body is not None and (problem := body_error(args.body)):
        raise Invalid({"--body": problem})
    rt = runtime()
    preview = rt.segments.preview(
        query, limit=args.limit, body=args.body,
        price_per_segment=None if args.body is None else rt.segment_price(args.tenant))
    if args.json:
        print_json(preview.to_dict())
        return 0
    definition = SEGMENTS[preview.segment]
    print(f"{definition.key} — {definition.label}")
    print(f"  recipients: {preview.count}")
    print(f"  skipped:    {preview.skipped_invalid_phone} invalid phone, "
          f"{preview.skipped_duplicate_phone} duplicate phone, "
          f"{preview.skipped_suppressed} suppressed"
          + (f", {preview.skipped_upcoming} with an appointment coming up"
             if query.exclude_upcoming_days is not None else ""))
    for row in preview.sample:
        print(f"    #{row['customer_id']:<7} {row['phone']:<16} {_name(row)}")
    if preview.render is not None:
        _print_render(preview.render)
    return 0


def _print_render(report: dict[str, Any]) -> None:
    """The render report in words (the --json form is the contract)."""
    print(f"  messages:   {report['messages']}, {report['segments_total']} SMS segments"
          + (f", estimated cost {report['estimated_cost']:.2f}"
             if "estimated_cost" in report else ""))
    ucs2 = report["encoding"]["ucs2"]
    print(f"  encoding:   {report['encoding']['gsm7']} GSM-7, {ucs2} UCS-2"
          + (" (70 characters per segment instead of 160)" if ucs2 else ""))
    print("  segments:   " + ", ".join(f"{n} messages of {size}" for size, n
                                       in report["segments_histogram"].items()))
    for char, n in report["ucs2_characters"].items():
        source = report["ucs2_sources"][char]
        where = [label for label, hit in (("the message", source["in_body"]),
                                          (f"{source['first_names']} first names",
                                           source["first_names"]),
                                          (f"{source['last_names']} last names",
                                           source["last_names"])) if hit]
        print(f"  UCS-2:      {char!r} in {n} messages (from {', '.join(where)})")
    if report["ucs2_extra_segments"]:
        print(f"              UCS-2 costs {report['ucs2_extra_segments']} extra segments")
    for code, n in report["empty_placeholders"].items():
        if n:
            print(f"  empty:      {code} for {n} recipients"
                  + (" (try {customer_name}: it falls back to the phone number)"
                     if code == "{customer_first_name}" else ""))


def _name(row: dict[str, Any]) -> str:
    return f"{row['first_name']} {row['last_name']}".strip() or "(no name)"


def register(sub: Any) -> None:
    seg = sub.add_parser("segments", help="list segments or preview one")
    actions = seg.add_subparsers(dest="segments_command", metavar="ACTION", required=True)
    p = actions.add_parser("list", help="list the segment keys")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)
    p = actions.add_parser("preview", help="count and sample a segment's recipients")
    p.add_argument("segment", metavar="SEGMENT", help="segment key (see `segments list`)")
    add_filter_flags(p)
    p.add_argument("--limit", type=int, default=10, metavar="N", help="sample size (10)")
    p.add_argument("--body", default=None, metavar="TEXT",
                   help="also render this message for every recipient and report "
                        "segments, encodings and empty placeholders")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_preview)
