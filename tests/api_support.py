"""Helpers for the JSON API tests (test_api_*.py, test_bridge_endpoints.py): the app they
share per module, and a campaign made, read and waited for through the signed client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.conftest import MariaDBServer
from tests.web_support import TENANT1, SignedClient, Web, Who, wait_for, web_fixture


def api_web(mariadb: MariaDBServer) -> Iterator[Web]:
    """Body of the API modules' module-scoped `web` fixture."""
    # Small batches, few in flight: a pause leaves pending rows to resume.
    yield from web_fixture(mariadb, env={"BKNTC_SMS_BATCH_SIZE": "5",
                                         "BKNTC_SMS_SEND_CONCURRENCY": "2"})


def new_campaign(api: SignedClient, who: Who = TENANT1, **fields: Any) -> dict[str, Any]:
    payload = {"name": "Spring offer", "segment": "repeat",
               "body": "Hi {customer_first_name}, 10% off this week!", **fields}
    reply = api.post("/api/v1/campaigns", payload, who=who)
    assert reply.status == 201, reply
    created: dict[str, Any] = reply.json()
    return created


def progress(api: SignedClient, cid: int, who: Who = TENANT1) -> dict[str, Any]:
    reply = api.get(f"/api/v1/campaigns/{cid}/progress", who=who)
    assert reply.status == 200, reply
    data: dict[str, Any] = reply.json()
    return data


def wait_finished(api: SignedClient, cid: int, who: Who = TENANT1,
                  timeout: float = 120.0) -> dict[str, Any]:
    return wait_for(lambda: (p if (p := progress(api, cid, who))["status"]
                             in ("completed", "failed") else None),
                    timeout=timeout, what=f"campaign {cid} to finish")


VALID = {"name": "Spring", "segment": "repeat", "body": "Hello {customer_first_name}"}


def spaced(phone: str) -> str:
    """+12025552000 written the way people type it: +1 (202) 555-2000."""
    return f"{phone[:2]} ({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
