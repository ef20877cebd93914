"""The `bkntc-sms` command (DESIGN.md §7).

Each subcommand parses its flags, calls one service, and prints either a readable text or,
with --json, the contract's JSON shape. Exit codes: 0 success, 1 a problem was found or an
operation was refused, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .booknetic import BookneticError, UnknownTenant
from .config import ConfigError, Settings
from .db import DatabaseUnavailable
from .segments import SEGMENTS, SegmentError, SegmentQuery

Handler = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """A problem to print as one line and exit with `code`."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _settings() -> Settings:
    return Settings.from_env(os.environ)


def _runtime(*, auto_migrate: bool = True) -> Any:
    from .runtime import Runtime

    return Runtime.build(_settings(), auto_migrate=auto_migrate)


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False))


# -- migrate ----------------------------------------------------------------------------

def cmd_migrate(args: argparse.Namespace) -> int:
    from .schema import migrate, schema_ddl

    if args.print_sql:
        prefix = os.environ.get("BKNTC_SMS_TABLE_PREFIX", "wp_")
        print(schema_ddl(prefix), end="")
        return 0
    from .db import make_engine

    settings = _settings()
    done = migrate(make_engine(settings.database_url), settings.table_prefix)
    if args.json:
        _print_json({"applied": done})
    elif done:
        for line in done:
            print(line)
    else:
        print("schema is up to date")
    return 0


# -- check ------------------------------------------------------------------------------

def cmd_check(args: argparse.Namespace) -> int:
    from .checks import run_checks

    settings = _settings()
    results = run_checks(settings)
    if args.json:
        _print_json({"ok": all(r.ok for r in results), "checks": [r.to_dict() for r in results]})
    else:
        for r in results:
            print(f"{'OK     ' if r.ok else 'PROBLEM'}  {r.name}: {r.detail}")
    return 0 if all(r.ok for r in results) else 1


# -- segments ---------------------------------------------------------------------------

def cmd_segments_list(args: argparse.Namespace) -> int:
    rows = [{"key": d.key, "label": d.label, "description": d.description}
            for d in SEGMENTS.values()]
    if args.json:
        _print_json(rows)
    else:
        width = max(len(r["key"]) for r in rows)
        for r in rows:
            print(f"{r['key']:<{width}}  {r['label']} — {r['description']}")
    return 0


def add_filter_flags(parser: argparse.ArgumentParser) -> None:
    """The segment filter flags shared by `segments preview` and `campaigns create`."""
    parser.add_argument("--tenant", type=int, default=None, metavar="ID",
                        help="SaaS tenant id (leave out on a single-site install)")
    parser.add_argument("--service", type=int, action="append", default=[], metavar="ID",
                        help="count only appointments of this service (repeatable)")
    parser.add_argument("--location", type=int, action="append", default=[], metavar="ID",
                        help="count only appointments at this location (repeatable)")
    parser.add_argument("--status", action="append", default=[], metavar="S",
                        help="count appointments with this status instead of the default "
                             "set (repeatable)")
    parser.add_argument("--min-appointments", type=int, default=None, metavar="N",
                        help="require at least N counted appointments")
    parser.add_argument("--include-suppressed", action="store_true",
                        help="do not drop numbers on the suppression list")


def query_from_args(segment: str, args: argparse.Namespace) -> SegmentQuery:
    return SegmentQuery.from_filters(
        segment,
        {
            "service_ids": args.service,
            "location_ids": args.location,
            "statuses": args.status,
            "min_appointments": args.min_appointments,
            "exclude_suppressed": not args.include_suppressed,
        },
        args.tenant,
    )


def cmd_segments_preview(args: argparse.Namespace) -> int:
    query = query_from_args(args.segment, args)
    if args.limit < 0 or args.limit > 1000:
        raise CliError("--limit must be between 0 and 1000", 2)
    runtime = _runtime()
    preview = runtime.segments.preview(query, limit=args.limit)
    if args.json:
        _print_json(preview.to_dict())
        return 0
    definition = SEGMENTS[preview.segment]
    print(f"{definition.key} — {definition.label}")
    print(f"  recipients: {preview.count}")
    print(f"  skipped:    {preview.skipped_invalid_phone} invalid phone, "
          f"{preview.skipped_duplicate_phone} duplicate phone, "
          f"{preview.skipped_suppressed} suppressed")
    for row in preview.sample:
        name = f"{row['first_name']} {row['last_name']}".strip() or "(no name)"
        print(f"    #{row['customer_id']:<7} {row['phone']:<16} {name}")
    return 0


# -- demo -------------------------------------------------------------------------------

def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(args.data_dir)


# -- parser -----------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bkntc-sms",
        description="SMS campaigns for Booknetic — the sidecar's command line.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("migrate", help="create or upgrade the sidecar's own tables")
    p.add_argument("--json", action="store_true")
    p.add_argument("--print-sql", action="store_true",
                   help="print the MySQL DDL instead of applying it")
    p.set_defaults(handler=cmd_migrate)

    p = sub.add_parser("check", help="check the database, Booknetic and the Twilio add-on")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_check)

    seg = sub.add_parser("segments", help="list segments or preview one")
    seg_sub = seg.add_subparsers(dest="segments_command", metavar="ACTION", required=True)
    p = seg_sub.add_parser("list", help="list the segment keys")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_segments_list)
    p = seg_sub.add_parser("preview", help="count and sample a segment's recipients")
    p.add_argument("segment", metavar="SEGMENT", help="segment key (see `segments list`)")
    add_filter_flags(p)
    p.add_argument("--limit", type=int, default=10, metavar="N", help="sample size (10)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_segments_preview)

    p = sub.add_parser("demo", help="run the product on a seeded demo database")
    p.add_argument("--data-dir", default=None,
                   help="where to keep the demo database (default: a new temp directory)")
    p.set_defaults(handler=cmd_demo)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"bkntc-sms: configuration error: {exc}", file=sys.stderr)
        return 2
    except SegmentError as exc:
        for name, message in exc.errors.items():
            print(f"bkntc-sms: {name}: {message}", file=sys.stderr)
        return 2
    except (DatabaseUnavailable, BookneticError, UnknownTenant) as exc:
        print(f"bkntc-sms: {exc}", file=sys.stderr)
        return 1
    except CliError as exc:
        print(f"bkntc-sms: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
