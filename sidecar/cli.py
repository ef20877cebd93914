"""The `bkntc-sms` command (DESIGN.md §7).

Subcommands live in `sidecar/commands/`, one module per area. Exit codes: 0 success,
1 a problem was found or an operation was refused, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .booknetic import BookneticError, UnknownTenant
from .campaigns import CampaignError, CampaignInvalid
from .commands import CliError, admin, campaigns, messages, segments, service
from .config import ConfigError
from .db import DatabaseUnavailable
from .logs import configure_logging
from .message_templates import TemplateInvalid
from .oneoff import OneOffInvalid
from .providers.base import ProviderNotReady
from .segments import SegmentError
from .suppressions import SuppressionError, SuppressionNotFound

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bkntc-sms", description="SMS campaigns for Booknetic — the sidecar's command line.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (admin, segments, campaigns, messages, service):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    configure_logging("WARNING")  # long-running commands raise it to INFO themselves
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"bkntc-sms: configuration error: {exc}", file=sys.stderr)
        return 2
    except (SegmentError, CampaignInvalid, TemplateInvalid, SuppressionError,
            OneOffInvalid) as exc:
        for name, message in exc.errors.items():
            print(f"bkntc-sms: {name}: {message}", file=sys.stderr)
        return 2
    except (DatabaseUnavailable, BookneticError, UnknownTenant, CampaignError,
            ProviderNotReady, SuppressionNotFound) as exc:
        print(f"bkntc-sms: {exc}", file=sys.stderr)
        return 1
    except CliError as exc:
        print(f"bkntc-sms: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
