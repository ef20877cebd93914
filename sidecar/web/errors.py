"""One place that turns errors into responses: JSON for the API, HTML for pages.

Every JSON error has one shape: {"error": {"code": str, "message": str, "fields": {...}}}.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from ..booknetic import BookneticError, UnknownTenant
from ..campaigns import CampaignInvalid, CampaignNotFound, TransitionRefused
from ..message_templates import TemplateInvalid, TemplateNotFound, TemplateReadOnly
from ..oneoff import OneOffInvalid
from ..providers.base import ProviderNotReady
from ..segments import SegmentError
from ..suppressions import SuppressionError, SuppressionNotFound
from .auth import AuthError

logger = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str,
                 fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


def not_found(what: str = "not found") -> ApiError:
    return ApiError(404, "not_found", what)


def _wants_json() -> bool:
    return not request.path.startswith("/ui/")


def _respond(error: ApiError) -> tuple[Response | str, int]:
    if _wants_json():
        body: dict[str, Any] = {"code": error.code, "message": error.message}
        if error.fields:
            body["fields"] = error.fields
        return jsonify({"error": body}), error.status
    return render_template("error.html", error=error), error.status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Any:
        return _respond(exc)

    @app.errorhandler(AuthError)
    def auth_error(exc: AuthError) -> Any:
        logger.warning("bridge request refused", extra={"path": request.path,
                                                        "reason": str(exc)})
        return _respond(ApiError(401, "unauthorized", f"Request refused: {exc}"))

    @app.errorhandler(CampaignInvalid)
    def campaign_invalid(exc: CampaignInvalid) -> Any:
        return _respond(ApiError(422, "validation_failed", "Please correct the marked fields.",
                                 exc.errors))

    @app.errorhandler(SegmentError)
    def segment_invalid(exc: SegmentError) -> Any:
        return _respond(ApiError(422, "validation_failed", "Please correct the marked fields.",
                                 exc.errors))

    @app.errorhandler(TemplateInvalid)
    @app.errorhandler(SuppressionError)
    @app.errorhandler(OneOffInvalid)
    def list_invalid(exc: TemplateInvalid | SuppressionError | OneOffInvalid) -> Any:
        error = ApiError(422, "validation_failed", str(exc) or "Please correct the fields.",
                         exc.errors)
        invalid = getattr(exc, "invalid", None)
        if invalid and _wants_json():
            return jsonify({"error": {"code": error.code, "message": error.message,
                                      "fields": error.fields, "invalid": invalid}}), 422
        return _respond(error)

    @app.errorhandler(TemplateNotFound)
    @app.errorhandler(SuppressionNotFound)
    def list_missing(exc: Exception) -> Any:
        return _respond(not_found(str(exc)))

    @app.errorhandler(TemplateReadOnly)
    def read_only(exc: TemplateReadOnly) -> Any:
        return _respond(ApiError(409, "read_only", str(exc)))

    @app.errorhandler(CampaignNotFound)
    def campaign_missing(exc: CampaignNotFound) -> Any:
        return _respond(not_found(str(exc)))

    @app.errorhandler(TransitionRefused)
    def refused(exc: TransitionRefused) -> Any:
        return _respond(ApiError(409, "conflict", str(exc)))

    @app.errorhandler(ProviderNotReady)
    def provider(exc: ProviderNotReady) -> Any:
        return _respond(ApiError(409, "provider_not_ready", str(exc)))

    @app.errorhandler(UnknownTenant)
    def tenant(exc: UnknownTenant) -> Any:
        return _respond(not_found(str(exc)))

    @app.errorhandler(BookneticError)
    def booknetic(exc: BookneticError) -> Any:
        return _respond(ApiError(503, "booknetic_unavailable", str(exc)))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        messages = {404: "No such page or endpoint.",
                    405: f"{request.method} is not allowed here.",
                    413: "The request is too large.",
                    400: "The request could not be understood."}
        codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large",
                 400: "bad_request"}
        return _respond(ApiError(status, codes.get(status, "http_error"),
                                 messages.get(status, exc.description or exc.name)))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        logger.exception("unhandled error", extra={"path": request.path})
        return _respond(ApiError(500, "internal_error",
                                 "Something went wrong on the server; it has been logged."))
