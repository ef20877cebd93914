"""Error families: every error the product expects belongs to exactly one.

Domain modules raise small named exceptions (`CampaignNotFound`, `TemplateInvalid`,
`ProviderNotReady`, …) that subclass a family here. `FAMILIES` is the one table that says
what a family means to a web client (HTTP status, JSON error code) and to an operator at
the command line (exit code). The web layer has one handler per family (web/errors.py);
the CLI reads the same table (cli.py). Nothing here knows Flask.

A member may refine its family's JSON code (a conflict that is `provider_not_ready`) but
never its status or exit code: those belong to the family.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar


class SidecarError(Exception):
    """Base of the expected errors. `code`, when set, refines the family's JSON code."""

    code: ClassVar[str | None] = None

    @property
    def message(self) -> str:
        """What a person is shown."""
        return str(self)


class Malformed(SidecarError):
    """The request itself cannot be read (not JSON, nested too deep)."""

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = dict(fields or {})


class Invalid(SidecarError, ValueError):
    """Input that cannot be used: `errors` maps each field to what is wrong with it, and
    `invalid` lists the rejected values where one field holds many (pasted numbers).
    Without a `message`, people are asked to correct the marked fields."""

    def __init__(self, errors: Mapping[str, str], invalid: Sequence[str] | None = None, *,
                 message: str | None = None) -> None:
        self.errors = dict(errors)
        self.invalid = list(invalid or [])
        self._message = message
        super().__init__(message if message is not None
                         else "; ".join(f"{k}: {v}" for k, v in self.errors.items()))

    @property
    def message(self) -> str:
        return self._message or "Please correct the marked fields."


class Unauthorized(SidecarError):
    """The request is not authentically from the bridge."""


class Forbidden(SidecarError):
    """The signed user may not do this."""


class NotFound(SidecarError, LookupError):
    """No such object for this tenant (another tenant's objects do not exist either)."""


class Conflict(SidecarError):
    """Not possible in the current state (a campaign's status, a read-only built-in, a
    provider that cannot send)."""


class ProviderRefused(SidecarError):
    """The SMS provider was asked and said no (a test SMS it did not accept)."""


class Unavailable(SidecarError):
    """Something the sidecar depends on cannot be used right now; trying again later may
    work (the database, Booknetic's tables)."""

    retry_after: ClassVar[int] = 10  # seconds, for the web's Retry-After header


class Misconfigured(SidecarError):
    """The sidecar's own configuration is wrong; it names the setting to fix."""


@dataclass(frozen=True)
class Family:
    status: int  # HTTP status
    code: str  # JSON error code, unless the member refines it
    exit_code: int  # of the bkntc-sms command
    cli_prefix: str = ""  # before the message on stderr


FAMILIES: dict[type[SidecarError], Family] = {
    Malformed: Family(400, "bad_request", 2),
    Invalid: Family(422, "validation_failed", 2),
    Unauthorized: Family(401, "unauthorized", 1),
    Forbidden: Family(403, "forbidden", 1),
    NotFound: Family(404, "not_found", 1),
    Conflict: Family(409, "conflict", 1),
    ProviderRefused: Family(502, "sms_failed", 1),
    Unavailable: Family(503, "unavailable", 1),
    Misconfigured: Family(500, "misconfigured", 2, "configuration error: "),
}


def family_of(exc: SidecarError) -> Family:
    """The family row of `exc` (its nearest family ancestor)."""
    for cls in type(exc).__mro__:
        if cls in FAMILIES:
            return FAMILIES[cls]
    raise TypeError(f"{type(exc).__name__} belongs to no error family")


def code_of(exc: SidecarError) -> str:
    return exc.code or family_of(exc).code
