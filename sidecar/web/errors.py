"""One place that turns errors into responses: JSON for the API, HTML for pages.

Every JSON error has one shape: {"error": {"code": str, "message": str, "fields": {...}}}
(plus "invalid", the rejected values, where an Invalid error lists them). The error
families and what they mean (status, code) are in sidecar/errors.py; here is one handler
per family, plus the two ways in from outside our code: HTTP errors raised by Flask itself
(404 for an unknown path, 405, 413) and a database that cannot be reached (503).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from ..db import unreachable
from ..errors import (
    FAMILIES,
    Invalid,
    Malformed,
    Misconfigured,
    SidecarError,
    Unauthorized,
    Unavailable,
    code_of,
    family_of,
)

logger = logging.getLogger(__name__)

Handler = Callable[[Any], Any]


@dataclass(frozen=True)
class Shown:
    """An error as the client sees it (error.html reads `status` and `message`)."""

    status: int
    code: str
    message: str
    fields: Mapping[str, str] = field(default_factory=dict)
    invalid: list[str] = field(default_factory=list)
    headers: Mapping[str, str] = field(default_factory=dict)


def _wants_json() -> bool:
    return not request.path.startswith("/ui/")


def _respond(shown: Shown) -> tuple[Response | str, int, dict[str, str]]:
    if _wants_json():
        body: dict[str, Any] = {"code": shown.code, "message": shown.message}
        if shown.fields:
            body["fields"] = dict(shown.fields)
        if shown.invalid:
            body["invalid"] = shown.invalid
        return jsonify({"error": body}), shown.status, dict(shown.headers)
    return render_template("error.html", error=shown), shown.status, dict(shown.headers)


def _shown(exc: SidecarError, **extra: Any) -> Shown:
    return Shown(family_of(exc).status, code_of(exc), exc.message, **extra)


# -- one handler per family ------------------------------------------------------------


def _plain(exc: SidecarError) -> Any:
    """Forbidden, NotFound, Conflict, ProviderRefused: status, code and message."""
    return _respond(_shown(exc))


def _invalid(exc: Invalid) -> Any:
    return _respond(_shown(exc, fields=exc.errors, invalid=exc.invalid))


def _malformed(exc: Malformed) -> Any:
    return _respond(_shown(exc, fields=exc.errors))


def _unauthorized(exc: Unauthorized) -> Any:
    logger.warning("bridge request refused", extra={"path": request.path, "reason": str(exc)})
    shown = _shown(exc)
    return _respond(Shown(shown.status, shown.code, f"Request refused: {exc}"))


def _unavailable(exc: Unavailable) -> Any:
    logger.warning("dependency unavailable", extra={"path": request.path, "reason": str(exc),
                                                     "code": code_of(exc)})
    return _respond(_shown(exc, headers={"Retry-After": str(exc.retry_after)}))


def _misconfigured(exc: SidecarError) -> Any:
    logger.error("configuration error", extra={"path": request.path, "reason": str(exc)})
    return _respond(_shown(exc))


_HANDLERS: dict[type[SidecarError], Handler] = {
    Invalid: _invalid,
    Malformed: _malformed,
    Misconfigured: _misconfigured,
    Unauthorized: _unauthorized,
    Unavailable: _unavailable,
}


# -- errors from outside our code ------------------------------------------------------

_HTTP = {  # status: (code, message)
    400: ("bad_request", "The request could not be understood."),
    404: ("not_found", "No such page or endpoint."),
    405: ("method_not_allowed", None),
    413: ("too_large", "The request is too large."),
    415: ("unsupported_media_type", None),
}


def _http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    code, message = _HTTP.get(status, ("http_error", None))
    if status == 405:
        message = f"{request.method} is not allowed here."
    return _respond(Shown(status, code, message or exc.description or exc.name))


def _unexpected(exc: Exception) -> Any:
    logger.exception("unhandled error", extra={"path": request.path})
    return _respond(Shown(500, "internal_error",
                          "Something went wrong on the server; it has been logged."))


def _database_error(exc: DBAPIError) -> Any:
    """A database that cannot be reached is Unavailable (503, try again); any other
    database error is a bug (500)."""
    outage = unreachable(exc)
    if outage is None:
        return _unexpected(exc)
    return _unavailable(outage)


def register_error_handlers(app: Flask) -> None:
    for family in FAMILIES:
        app.register_error_handler(family, _HANDLERS.get(family, _plain))
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(Exception, _unexpected)
