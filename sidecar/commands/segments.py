"""`bkntc-sms segments list|preview`."""

from __future__ import annotations

import argparse
from typing import Any

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
    preview = runtime().segments.preview(query, limit=args.limit)
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
    return 0


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
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_preview)
