"""`python -m sidecar` is the same as the `bkntc-sms` command."""

from .cli import main

raise SystemExit(main())
