"""The error families (sidecar/errors.py): every named exception of the domain belongs to
one, and the one table gives its HTTP status, JSON code and CLI exit code. The API tests
check the same statuses and codes end to end; this keeps the whole mapping in one view."""

from __future__ import annotations

import pytest

from sidecar.booknetic import BookneticError, UnknownTenant
from sidecar.campaigns import CampaignInvalid, CampaignNotFound, Status, TransitionRefused
from sidecar.config import ConfigError
from sidecar.db import DatabaseUnavailable
from sidecar.errors import FAMILIES, Invalid, SidecarError, code_of, family_of
from sidecar.message_templates import TemplateInvalid, TemplateNotFound, TemplateReadOnly
from sidecar.oneoff import OneOffInvalid
from sidecar.providers.base import ProviderNotReady
from sidecar.segments import SegmentError
from sidecar.suppressions import SuppressionError, SuppressionNotFound
from sidecar.web.auth import AuthError, CsrfFailed

CASES: list[tuple[SidecarError, int, str, int]] = [
    (CampaignInvalid({"name": "give the campaign a name"}), 422, "validation_failed", 2),
    (SegmentError({"segment": "unknown"}), 422, "validation_failed", 2),
    (TemplateInvalid({"body": "the message is empty"}), 422, "validation_failed", 2),
    (SuppressionError({"phone": "not a valid phone"}, ["x"]), 422, "validation_failed", 2),
    (OneOffInvalid({"recipients": "nobody"}), 422, "validation_failed", 2),
    (CampaignNotFound(7), 404, "not_found", 1),
    (TemplateNotFound("template 7 not found"), 404, "not_found", 1),
    (SuppressionNotFound("suppression 7 not found"), 404, "not_found", 1),
    (UnknownTenant("tenant 9 does not exist"), 404, "not_found", 1),
    (TransitionRefused("send", Status.COMPLETED, "Spring"), 409, "conflict", 1),
    (TemplateReadOnly("built-in"), 409, "read_only", 1),
    (ProviderNotReady("the add-on is inactive"), 409, "provider_not_ready", 1),
    (BookneticError("no bkntc_customers"), 503, "booknetic_unavailable", 1),
    (DatabaseUnavailable("cannot connect"), 503, "database_unavailable", 1),
    (AuthError("bad signature"), 401, "unauthorized", 1),
    (CsrfFailed("stale token"), 403, "csrf_failed", 1),
    (ConfigError("BKNTC_SMS_BATCH_SIZE must be a whole number"), 500, "misconfigured", 2),
]


@pytest.mark.parametrize(("exc", "status", "code", "exit_code"), CASES,
                         ids=[type(c[0]).__name__ for c in CASES])
def test_each_named_error_belongs_to_its_family(exc: SidecarError, status: int, code: str,
                                                exit_code: int) -> None:
    family = family_of(exc)
    assert (family.status, code_of(exc), family.exit_code) == (status, code, exit_code)


def test_the_invalid_errors_share_one_shape() -> None:
    """The five 'Invalid' classes of one shape are one family: fields, rejected values, and
    the message people see; str() keeps what each said before (pytest.raises(match=…))."""
    for exc in (CampaignInvalid({"name": "x"}), SegmentError({"name": "x"})):
        assert isinstance(exc, Invalid) and exc.errors == {"name": "x"}
        assert str(exc) == "name: x" and exc.message == "Please correct the marked fields."
    listed = SuppressionError({"numbers": "2 are not valid"}, ["a", "b"])
    assert listed.invalid == ["a", "b"] and listed.message == str(listed) == "2 are not valid"
    # Callers that caught the old bases still catch them.
    assert isinstance(CampaignNotFound(1), LookupError)
    assert isinstance(TemplateInvalid({}), ValueError)
    assert isinstance(ProviderNotReady("x"), RuntimeError)


def test_every_family_has_one_row() -> None:
    assert len({family.status for family in FAMILIES.values()}) == len(FAMILIES)
