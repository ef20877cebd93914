"""Subcommands of `bkntc-sms`, one module per area; cli.py assembles them.

Each module has `register(subparsers)`; each handler parses its flags, calls one service
and prints text or, with --json, the contract's JSON (DESIGN.md §7).
"""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..segments import SegmentQuery

if TYPE_CHECKING:
    from ..runtime import Runtime


def settings() -> Settings:
    return Settings.from_env(os.environ)


def runtime() -> Runtime:
    from ..runtime import Runtime

    return Runtime.build(settings())


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


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
    parser.add_argument("--exclude-upcoming-days", type=int, default=None, metavar="N",
                        help="leave out customers with an appointment in the next N days")


def filters_from_args(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "service_ids": args.service,
        "location_ids": args.location,
        "statuses": args.status,
        "min_appointments": args.min_appointments,
        "exclude_suppressed": not args.include_suppressed,
        "exclude_upcoming_days": args.exclude_upcoming_days,
    }


def query_from_args(segment: str, args: argparse.Namespace) -> SegmentQuery:
    return SegmentQuery.from_filters(segment, filters_from_args(args), args.tenant)
