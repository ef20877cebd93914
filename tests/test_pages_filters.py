"""The pages' new filters through the signed client (no browser): the logs page's delivery
filter and its CSV link, the suppression list's source filter, and their refusals."""

from __future__ import annotations

import html
from urllib.parse import unquote

from tests.web_support import SignedClient, Web, settle


def test_logs_page_filters_by_delivery_and_the_csv_link_keeps_it(web: Web,
                                                                 api: SignedClient) -> None:
    cid = web.campaign(1, name="Delivery filter")
    web.recipient_rows(cid, 1, [
        {"phone": "+12025550301", "status": "sent", "attempts": 1,
         "provider_message_id": "SM" + "1" * 32, "delivery_status": "delivered"},
        {"phone": "+12025550302", "status": "sent", "attempts": 1,
         "provider_message_id": "SM" + "2" * 32, "delivery_status": "undelivered",
         "delivery_error": "unreachable (Twilio 30003)"},
        {"phone": "+12025550303", "status": "sent", "attempts": 1,
         "provider_message_id": "SM" + "3" * 32, "delivery_status": "queued"}])
    page = api.get(f"/ui/campaigns/{cid}/logs?delivery=not_delivered")
    assert page.status == 200, page
    text = html.unescape(page.text)
    assert "+12025550302" in text and "+12025550301" not in text and "+12025550303" not in text
    assert f"/api/v1/campaigns/{cid}/logs.csv?delivery=not_delivered" in unquote(text)
    assert '<option value="not_delivered" selected>' in page.text
    waiting = html.unescape(api.get(f"/ui/campaigns/{cid}/logs?delivery=pending").text)
    assert "+12025550303" in waiting and "+12025550302" not in waiting
    refused = api.get(f"/ui/campaigns/{cid}/logs?delivery=lost")
    assert refused.status == 422 and "unknown delivery status" in html.unescape(refused.text)
    settle()


def test_suppression_list_filters_by_source(web: Web, api: SignedClient) -> None:
    web.runtime.suppressions.add(1, "+12025550311", "front desk")
    web.runtime.opt_outs.opt_out("+12025550312", "Replied STOP")
    web.runtime.opt_outs.opt_out("+12025550312", "Replied STOP")  # twice: one row
    manual = html.unescape(api.get("/ui/suppressions?source=manual").text)
    assert "+12025550311" in manual and "+12025550312" not in manual
    refused = api.get("/ui/suppressions?source=carrier")
    assert refused.status == 422 and "unknown source 'carrier'" in html.unescape(refused.text)
