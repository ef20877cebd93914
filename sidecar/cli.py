"""The `bkntc-sms` command (DESIGN.md §7).

Subcommands live in `sidecar/commands/`, one module per area. Exit codes: 0 success,
1 a problem was found or an operation was refused, 2 bad usage or configuration — the
error families' table (sidecar/errors.py) says which for every expected error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from sqlalchemy.exc import DBAPIError

from .commands import (
    admin,
    campaigns,
    deliveries,
    messages,
    outcomes,
    segments,
    service,
    tenant_settings,
)
from .db import unreachable
from .errors import Invalid, SidecarError, family_of
from .logs import configure_logging

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bkntc-sms", description="SMS campaigns for Booknetic — the sidecar's command line.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (admin, segments, campaigns, messages, service, deliveries, tenant_settings,
                   outcomes):
        module.register(sub)
    return parser


def report(exc: SidecarError) -> int:
    """Print an expected error as the operator should read it; return its exit code."""
    family = family_of(exc)
    if isinstance(exc, Invalid) and exc.errors:
        for name, message in exc.errors.items():
            print(f"bkntc-sms: {name}: {message}", file=sys.stderr)
    else:
        print(f"bkntc-sms: {family.cli_prefix}{exc}", file=sys.stderr)
    return family.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    configure_logging("WARNING")  # long-running commands raise it to INFO themselves
    try:
        return handler(args)
    except SidecarError as exc:
        return report(exc)
    except DBAPIError as exc:
        outage = unreachable(exc)
        if outage is None:
            raise
        return report(outage)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
