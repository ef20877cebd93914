"""POST /api/v1/campaigns/<id>/resend-failed (DESIGN.md §12) through the signed client:
the new draft, its snapshot when sent, and the refusals."""

from __future__ import annotations

from tests.api_support import wait_finished
from tests.security_support import failed_campaign
from tests.web_support import TENANT2, SignedClient, Web, assert_error, settle


def test_resend_failed_makes_a_draft_that_sends_to_the_failed_number(web: Web,
                                                                     api: SignedClient) -> None:
    source = failed_campaign(web, "Winter offer")
    failed_phone = web.shop.rows(source)[0]["phone"]
    reply = api.post(f"/api/v1/campaigns/{source}/resend-failed")
    assert reply.status == 201, reply
    draft = reply.json()
    assert draft["status"] == "draft" and draft["name"] == "Resend of Winter offer"
    assert draft["resend_recipients"] == 1 and draft["filters"]["resend_of"] == source
    assert draft["actions"] == ["edit", "delete", "send", "duplicate", "schedule"]
    # Another tenant cannot see the source, so cannot resend it either.
    assert_error(api.post(f"/api/v1/campaigns/{source}/resend-failed", who=TENANT2), 404,
                 "not_found")
    assert_error(api.post("/api/v1/campaigns/987654/resend-failed"), 404, "not_found")
    sent = api.post(f"/api/v1/campaigns/{draft['id']}/send")
    assert sent.status == 200 and sent.json()["total"] == 1, sent
    assert wait_finished(api, draft["id"])["status"] == "completed"
    assert failed_phone in {m.to for m in web.shop.fake.received()}
    settle()


def test_nothing_to_resend_is_a_conflict_and_makes_no_draft(web: Web,
                                                           api: SignedClient) -> None:
    draft = web.campaign(1, name="Never sent")
    before = len(web.campaign_rows())
    error = assert_error(api.post(f"/api/v1/campaigns/{draft}/resend-failed"), 409)
    assert "no failed messages that may succeed" in error["message"]
    assert len(web.campaign_rows()) == before
