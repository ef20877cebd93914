"""Twilio's public webhooks through a real WordPress (DESIGN.md §10): the bridge's two REST
routes relay Twilio's raw request to the sidecar's /twilio/status and /twilio/inbound,
bridge-signed, with X-Bkntc-Public-Url and Twilio's signature headers; they refuse
everything else without reaching the sidecar; and the bridge records the public base the
sidecar builds its StatusCallback URLs on (option bkntc_sms_public_base_url). The whole
callback path, to the database and the logs page, is in test_wordpress_deliveries.py.

The sidecar sits behind tests/wp_e2e_support.py's recording proxy, so every test can see
exactly what WordPress sent it (or that it sent nothing) and what it answered.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
import requests

from sidecar.web.auth import signature
from tests.conftest import MariaDBServer, free_port
from tests.wp_e2e_support import Blackhole, Site, bring_up

pytestmark = pytest.mark.slow  # a WordPress under php -S

NAMESPACE = "/wp-json/bkntc-sms/v1"
STATUS = f"{NAMESPACE}/twilio/status"
INBOUND = f"{NAMESPACE}/twilio/inbound"
FORM = "application/x-www-form-urlencoded"
PUBLIC_BASE_OPTION = "bkntc_sms_public_base_url"
SIDECAR_URL_OPTION = "bkntc_sms_sidecar_url"
SETTINGS = "/wp-admin/options-general.php?page=bkntc-sms-bridge"
LIMIT = 65536  # Webhooks::MAX_BODY
SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"  # names Twilio's HMAC-SHA256

# A callback as Twilio posts it, with what a careless relay would change: `+` and %-escapes
# (of UTF-8 text too), a repeated key, fields not in sorted order.
TWILIO_BODY = (b"SmsSid=SM0123456789abcdef0123456789abcdef&SmsStatus=delivered"
               b"&MessageStatus=delivered&To=%2B15005550006&Body=caf%C3%A9+%26+more"
               b"&ApiVersion=2010-04-01&Body=twice&AccountSid=AC00")


@pytest.fixture(scope="module")
def single(mariadb: MariaDBServer) -> Iterator[Site]:
    yield from bring_up(mariadb, "single")


@pytest.fixture(autouse=True)
def no_php_messages_from_the_bridge(single: Site) -> Iterator[None]:
    """Not one PHP error, warning, notice or deprecation names the plugin."""
    yield
    single.assert_no_bridge_messages()


def _post(site: Site, path: str, body: bytes = TWILIO_BODY, content_type: str | None = FORM,
          method: str = "POST", **headers: str) -> requests.Response:
    if content_type is not None:
        headers["Content-Type"] = content_type
    return requests.request(method, site.wp.url + path, data=body, headers=headers, timeout=60)


def _identity(encoded: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))


# -- what goes through ----------------------------------------------------------------------


@pytest.mark.parametrize(("route", "path"), [
    ("status", f"{STATUS}?campaign=7&q=a%20b%2F'c"),
    ("inbound", INBOUND),
    ("status", "/index.php?rest_route=/bkntc-sms/v1/twilio/status&x=1"),  # no pretty URL
    ("inbound", f"{INBOUND}/"),
])
def test_a_webhook_reaches_its_sidecar_path_exactly_as_twilio_sent_it(
        single: Site, route: str, path: str) -> None:
    before = len(single.recorder.seen)
    content_type = f"{FORM}; charset=UTF-8"
    response = _post(single, path, content_type=content_type,
                     **{"X-Twilio-Signature": "0Jc+mZ/Ugh1TQyc4gZ8yDsqkNzA=",
                        SETTINGS_HEADER: "key=KS1,algorithm=HMAC_SHA256"})
    relayed = single.recorder.seen[before:]
    assert len(relayed) == 1, single.wp.diag(response.text)
    seen = relayed[0]
    # Only the fixed service path, never the query or anything from the request's path
    assert (seen["method"], seen["path"]) == ("POST", f"/twilio/{route}")
    assert seen["body"] == TWILIO_BODY
    headers = seen["headers"]
    assert headers["Content-Type"] == content_type
    assert headers["X-Twilio-Signature"] == "0Jc+mZ/Ugh1TQyc4gZ8yDsqkNzA="
    assert headers[SETTINGS_HEADER] == "key=KS1,algorithm=HMAC_SHA256"
    # The URL Twilio called, byte for byte (WordPress's slashes on $_SERVER taken off).
    assert headers["X-Bkntc-Public-Url"] == single.wp.url + path
    # Bridge-signed over exactly what was sent, as Twilio: no user, no tenant.
    secret = single.wp.get_option("bkntc_sms_bridge_secret")
    assert secret
    encoded = headers["X-Bkntc-Identity"]
    assert headers["X-Bkntc-Signature"] == signature(secret, "POST", f"/twilio/{route}",
                                                     encoded, TWILIO_BODY)
    identity = _identity(encoded)
    assert {k: identity[k] for k in ("user_id", "user_login", "display_name", "tenant_id",
                                     "caps")} == {
        "user_id": 0, "user_login": "", "display_name": "Twilio", "tenant_id": None,
        "caps": ["twilio_webhook"]}
    # The sidecar's answer came back as it gave it, with no WordPress wrapping.
    answer = seen["answer"]
    assert (response.status_code, response.content) == (answer["status"], answer["body"])
    assert response.headers.get("Content-Type") == answer["content_type"]


def test_the_public_url_names_the_site_whatever_host_the_client_claims(single: Site) -> None:
    before = len(single.recorder.seen)
    _post(single, STATUS, Host="attacker.example")
    (seen,) = single.recorder.seen[before:]
    assert seen["headers"]["X-Bkntc-Public-Url"] == single.wp.url + STATUS


def test_a_missing_twilio_signature_is_left_for_the_sidecar_to_refuse(single: Site) -> None:
    before = len(single.recorder.seen)
    _post(single, STATUS)
    (seen,) = single.recorder.seen[before:]
    assert "X-Twilio-Signature" not in seen["headers"]
    assert SETTINGS_HEADER not in seen["headers"]
    assert seen["headers"]["X-Bkntc-Public-Url"] == single.wp.url + STATUS


def test_a_body_at_the_limit_goes_through(single: Site) -> None:
    body = b"Body=" + b"x" * (LIMIT - 5)
    before = len(single.recorder.seen)
    _post(single, INBOUND, body)
    (seen,) = single.recorder.seen[before:]
    assert seen["body"] == body


# -- what does not --------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "content_type", "status", "code"), [
    # WordPress answers a method a route does not take like an unknown route.
    ("GET", STATUS, FORM, 404, "rest_no_route"),
    ("PUT", STATUS, FORM, 404, "rest_no_route"),
    ("DELETE", INBOUND, FORM, 404, "rest_no_route"),
    ("POST", f"{STATUS}?_method=GET", FORM, 404, "rest_no_route"),  # WordPress's override
    ("POST", STATUS, "application/json", 415, "bkntc_sms_content_type"),
    ("POST", INBOUND, "multipart/form-data; boundary=x", 415, "bkntc_sms_content_type"),
    ("POST", STATUS, "text/plain", 415, "bkntc_sms_content_type"),
    ("POST", INBOUND, None, 415, "bkntc_sms_content_type"),
    ("POST", f"{STATUS}x", FORM, 404, "rest_no_route"),
    ("POST", f"{STATUS}/extra", FORM, 404, "rest_no_route"),
    ("POST", f"{NAMESPACE}/twilio", FORM, 404, "rest_no_route"),
    ("POST", f"{NAMESPACE}/twilio/other", FORM, 404, "rest_no_route"),
    ("POST", f"{NAMESPACE}/bridge/tick", FORM, 404, "rest_no_route"),
    ("POST", f"{NAMESPACE}/api/v1/campaigns", FORM, 404, "rest_no_route"),
    ("POST", NAMESPACE, FORM, 404, "rest_no_route"),
    ("POST", "/index.php?rest_route=/bkntc-sms/v1/ui/campaigns", FORM, 404, "rest_no_route"),
])
def test_anything_else_is_refused_without_reaching_the_sidecar(
        single: Site, method: str, path: str, content_type: str | None, status: int,
        code: str) -> None:
    before = len(single.recorder.seen)
    body = b'{"MessageSid":"SM1"}' if content_type == "application/json" else TWILIO_BODY
    response = _post(single, path, body, content_type, method,
                     **{"X-Twilio-Signature": "0Jc+mZ/Ugh1TQyc4gZ8yDsqkNzA="})
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["code"] == code  # WordPress's REST error, never an HTML page
    assert len(single.recorder.seen) == before


def test_an_oversized_body_is_refused_without_reaching_the_sidecar(single: Site) -> None:
    before = len(single.recorder.seen)
    for path in (STATUS, INBOUND):
        response = _post(single, path, b"Body=" + b"x" * (LIMIT - 4))
        assert response.status_code == 413, response.text
        assert response.json()["code"] == "bkntc_sms_too_large"
    assert len(single.recorder.seen) == before


def test_a_sidecar_down_or_hung_gives_502_and_keeps_its_address_private(single: Site) -> None:
    hung = Blackhole()
    try:
        for url in (f"http://127.0.0.1:{free_port()}", hung.url):
            single.wp.set_option(SIDECAR_URL_OPTION, url)
            response = _post(single, STATUS)
            assert response.status_code == 502, response.text
            assert response.json()["code"] == "bkntc_sms_service_unreachable"
            assert "127.0.0.1" not in response.text and "curl" not in response.text.lower()
    finally:
        hung.close()
        single.wp.set_option(SIDECAR_URL_OPTION, single.proxy_url)


# -- the public base ------------------------------------------------------------------------


def test_activation_records_the_public_base(single: Site) -> None:
    wp = single.wp
    base = f"{wp.url}/wp-json/bkntc-sms/v1/"
    assert wp.get_option(PUBLIC_BASE_OPTION) == base
    assert wp.php_json("return rest_url('bkntc-sms/v1/');") == base


def _settings_page(session: requests.Session, site: Site) -> str:
    return site.wp.expect(session.get(site.wp.url + SETTINGS, timeout=60)).text


def _input_value(page: str, element_id: str) -> str:
    match = re.search(rf'<input[^>]*id="{element_id}"[^>]*value="([^"]*)"', page)
    assert match, page[:3000]
    return match.group(1)


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.hidden[str(a["name"])] = a.get("value") or ""


def _hidden_fields(html: str) -> dict[str, str]:
    parser = _Inputs()
    parser.feed(html)
    return parser.hidden


def test_the_settings_screen_shows_the_addresses_for_twilio(single: Site) -> None:
    page = _settings_page(single.wp.requests_session("admin"), single)
    base = single.wp.get_option(PUBLIC_BASE_OPTION)
    assert _input_value(page, "bkntc-sms-public-base") == base
    assert _input_value(page, "bkntc-sms-inbound-url") == f"{base}twilio/inbound"
    assert "A message comes in" in page and "HTTP POST" in page


def test_saving_the_settings_records_the_public_base_again(single: Site) -> None:
    wp = single.wp
    base = wp.get_option(PUBLIC_BASE_OPTION)
    session = wp.requests_session("admin")
    page = _settings_page(session, single)
    form = page[page.index('action="options.php"'):]
    fields = _hidden_fields(form[:form.index("</form>")])
    assert {"option_page", "action", "_wpnonce"} <= set(fields)
    wp.set_option(PUBLIC_BASE_OPTION, "http://old-name.example/wp-json/bkntc-sms/v1/")
    saved = session.post(f"{wp.url}/wp-admin/options.php", timeout=60, allow_redirects=False,
                         data={**fields, SIDECAR_URL_OPTION: single.proxy_url,
                               PUBLIC_BASE_OPTION: "http://typed.example/"})
    assert saved.status_code == 302, wp.diag(saved.text[:2000])
    assert wp.get_option(PUBLIC_BASE_OPTION) == base  # WordPress's own, not what was posted
    assert wp.get_option(SIDECAR_URL_OPTION) == single.proxy_url


def test_an_update_without_activation_gets_the_public_base_on_the_next_admin_page(
        single: Site) -> None:
    wp = single.wp
    base = wp.get_option(PUBLIC_BASE_OPTION)
    wp.delete_option(PUBLIC_BASE_OPTION)  # a site that had 0.2, then got this plugin's files
    wp.expect(wp.requests_session("admin").get(wp.admin_url, timeout=60))
    assert wp.get_option(PUBLIC_BASE_OPTION) == base


def test_a_permalink_change_records_the_public_base_again(single: Site) -> None:
    wp = single.wp
    pretty = wp.get_option(PUBLIC_BASE_OPTION)
    structure = wp.get_option("permalink_structure")
    try:
        wp.php("global $wp_rewrite; $wp_rewrite->set_permalink_structure(''); "
               "flush_rewrite_rules(false);")
        plain = wp.get_option(PUBLIC_BASE_OPTION)
        assert plain == f"{wp.url}/index.php?rest_route=/bkntc-sms/v1/"
        # …and what Twilio then calls is relayed with a URL under that base.
        before = len(single.recorder.seen)
        _post(single, plain.removeprefix(wp.url) + "twilio/status")
        (seen,) = single.recorder.seen[before:]
        assert seen["path"] == "/twilio/status"
        assert seen["headers"]["X-Bkntc-Public-Url"] == f"{plain}twilio/status"
    finally:
        wp.php(f"global $wp_rewrite; $wp_rewrite->set_permalink_structure('{structure}'); "
               "flush_rewrite_rules(false);")
    assert wp.get_option(PUBLIC_BASE_OPTION) == pretty
