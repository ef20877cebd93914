"""The product end to end in a real WordPress (see tests/wp_e2e_support.py): everything the
browser does goes through WordPress's relay (admin-ajax.php), Booknetic's cron reaches the
sidecar the ways Booknetic 5.2 runs it, and no page, relay call, cron run, activation or
uninstall may log a PHP message of any kind that names the bridge plugin.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, expect

from sidecar.segments import SegmentQuery
from tests.conftest import ARTIFACTS, MariaDBServer, free_port
from tests.wp_e2e_support import (
    Blackhole,
    Site,
    bring_up,
    expect_glyph,
    menu_visible,
    page_ready,
    wait_for,
)
from tests.wp_support import BRIDGE_DIR, BRIDGE_PLUGIN, BRIDGE_SLUG, _fontawesome, start_wordpress

pytestmark = pytest.mark.slow  # a WordPress under php -S, Chromium

SHOTS = ARTIFACTS / "screenshots"
VERSION_OPTION = f"bkntc_addon_{BRIDGE_SLUG}_version"
PLUGIN_VERSION = re.search(r"const VERSION\s*=\s*'([^']+)'",
                           (BRIDGE_DIR / f"{BRIDGE_SLUG}.php").read_text()).group(1)


@pytest.fixture(scope="module")
def single(mariadb: MariaDBServer) -> Iterator[Site]:
    yield from bring_up(mariadb, "single")


@pytest.fixture(scope="module")
def saas(mariadb: MariaDBServer) -> Iterator[Site]:
    yield from bring_up(mariadb, "saas")


@pytest.fixture(autouse=True)
def no_php_messages_from_the_bridge(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test, on every site it used (activation ran when the site was built):
    not one PHP error, warning, notice, deprecation or misuse notice names the plugin."""
    yield
    for name in ("single", "saas"):
        if name in request.fixturenames:
            site: Site = request.getfixturevalue(name)
            site.assert_no_bridge_messages()


# -- Booknetic's add-on API ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["single", "saas"])
def test_version_record_keeps_booknetic_from_the_licence_server(
        kind: str, request: pytest.FixtureRequest) -> None:
    site: Site = request.getfixturevalue(kind)
    wp = site.wp
    assert wp.get_option(VERSION_OPTION) == PLUGIN_VERSION  # written on activation
    owner = "admin" if kind == "single" else "tenant1"
    session = wp.requests_session(owner)
    for url in (wp.panel_url("sms_campaigns"), site.relay("/ui/campaigns"), f"{wp.url}/"):
        wp.expect(session.get(url, timeout=30))
    # An update runs no activation hook: an older record is brought up to date on load,
    # before Booknetic compares it.
    wp.set_option(VERSION_OPTION, "0.0.1")
    wp.expect(session.get(wp.panel_url("sms_campaigns"), timeout=30))
    assert wp.get_option(VERSION_OPTION) == PLUGIN_VERSION
    assert wp.licence is not None and wp.licence.migration_requests(BRIDGE_SLUG) == 0
    # Booknetic's own getVersion() would have read bkntc-sms-bridge/init.php
    assert wp.php_json("return \\BkntcSms\\Bridge\\Addon::getVersion();") == PLUGIN_VERSION


def test_menu_only_for_users_who_may_see_it(single: Site) -> None:
    assert menu_visible(single, "admin")
    assert not menu_visible(single, "staff1")  # Booknetic staff lack the capability
    session = single.wp.requests_session("staff1")
    denied = session.get(single.relay("/ui/campaigns"), timeout=30)
    assert denied.status_code == 403 and "do not have access" in denied.text
    anonymous = requests.get(single.relay("/ui/campaigns"), timeout=30)
    assert anonymous.status_code == 400  # admin-ajax.php: no nopriv handler, nothing relayed


def test_panel_page_inside_booknetics_layout(single: Site) -> None:
    page = single.wp.requests_session("admin").get(single.wp.panel_url("sms_campaigns"),
                                                   timeout=30).text
    # The real layout prints menu icons for Font Awesome 5.15.4; the icon must exist there.
    icon = re.search(r'id="bkntc-menu-sms_campaigns"[^>]*>\s*<i class="l_m_nav_item_icon ([^"]+)"',
                     page)
    assert icon, page[:3000]
    css = (_fontawesome() / "css" / "all.css").read_text()
    names = [c for c in icon.group(1).split() if c.startswith("fa-")]
    assert names and all(f".{n}:before" in css for n in names), icon.group(1)
    # Script and style through WordPress's enqueue, versioned; no inline script of ours.
    version = re.escape(PLUGIN_VERSION)
    assert re.search(rf'<script[^>]+src=[\'"][^\'"]*/{BRIDGE_SLUG}/assets/panel\.js\?ver={version}',
                     page), page[:3000]
    assert re.search(rf'<link[^>]+href=[\'"][^\'"]*/{BRIDGE_SLUG}/assets/panel\.css\?ver={version}',
                     page), page[:3000]
    frame = re.search(r'<iframe id="bkntc-sms-frame"[^>]*>', page)
    assert frame and 'title="SMS Campaigns"' in frame.group(0)
    main = page[page.index('id="bkntc-main"'):]
    assert "<script" not in main[:main.index("</main>")]


def test_campaign_end_to_end_through_wordpress(single: Site, browser: Browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1366, "height": 900},
                                  accept_downloads=True)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    single.wp.login(page, "admin")
    page.goto(single.wp.panel_url())
    page.click("#bkntc-menu-sms_campaigns")
    expect_glyph(page, "#bkntc-menu-sms_campaigns i")
    frame = page.frame_locator("#bkntc-sms-frame")
    frame.locator("#new-campaign").click()
    expect(frame.locator("#f-name")).to_be_visible()
    frame = page_ready(page)
    frame.locator("#f-name").fill("Spring in WordPress")
    frame.locator("#f-segment").select_option("all_with_phone")
    frame.locator("#f-body").fill("Hi {customer_first_name}, spring offers are here!")
    previewed = single.runtime.segments.preview(SegmentQuery("all_with_phone")).count
    assert previewed > 0
    expect(frame.locator("#preview-count")).to_have_text(str(previewed), timeout=20000)
    page.screenshot(path=str(SHOTS / "wordpress-form.png"))
    frame.locator("#save").click()
    row = frame.locator("#campaign-table tbody tr").first
    expect(row).to_contain_text("Spring in WordPress")
    campaign_id = int(row.get_attribute("data-id") or 0)
    # The list's buttons work only once app.js has run (CI once clicked Send too early:
    # nothing happened and the campaign stayed a draft).
    frame = page_ready(page)
    frame.locator(f'#campaign-table tr[data-id="{campaign_id}"] button[data-action=send]').click()
    expect(frame.locator("#send-recipients")).to_have_text(f"{previewed:,}", timeout=60000)
    frame.locator("#send-confirm").click()
    expect(frame.locator("#wizard-close")).to_be_visible(timeout=60000)
    page.screenshot(path=str(SHOTS / "wordpress-wizard-done.png"))
    progress = single.runtime.campaigns.progress(None, campaign_id)
    assert progress["status"] == "completed" and progress["total"] == previewed
    expect(frame.locator("#count-sent")).to_have_text(str(progress["sent"]))
    expect(frame.locator("#count-failed")).to_have_text(str(progress["failed"]))
    assert len(single.fake.received()) == progress["sent"]
    frame.locator("#wizard-logs").click()
    expect(frame.locator("#log-table tbody tr")).to_have_count(min(previewed, 50))  # a page
    with page.expect_download() as download_info:
        frame.locator("#download-csv").click()
    content = download_info.value.path().read_text(encoding="utf-8")
    table = list(csv.DictReader(io.StringIO(content)))
    assert len(table) == previewed
    assert {r["status"] for r in table} <= {"sent", "failed"}
    assert download_info.value.suggested_filename.startswith(f"sms-campaign-{campaign_id}-")
    # Every request the browser made reached the sidecar through WordPress, signed.
    assert single.recorder.seen and all("X-Bkntc-Signature" in r["headers"]
                                        for r in single.recorder.seen)
    context.close()


def test_replayed_and_tampered_relay_requests_are_refused(single: Site) -> None:
    session = single.wp.requests_session("admin")
    nonce = re.search(r'name="bkntc-wp-nonce" content="([^"]+)"',
                      session.get(single.relay("/ui/campaigns"), timeout=30).text)
    assert nonce
    created = session.post(single.relay("/api/v1/templates"),
                           json={"name": "Relayed", "body": "Hello {customer_name}"},
                           headers={"X-WP-Nonce": nonce.group(1),
                                    "X-Bkntc-Csrf": _csrf(session, single)}, timeout=30)
    assert created.status_code == 201, created.text
    recorded = next(r for r in reversed(single.recorder.seen)
                    if r["method"] == "POST" and r["path"] == "/api/v1/templates")
    direct = single.sidecar.url + recorded["path"]
    replay = requests.post(direct, data=recorded["body"], headers=recorded["headers"],
                           timeout=30)
    assert replay.status_code == 401 and "replayed" in replay.text
    tampered_body = recorded["body"].replace(b"Relayed", b"Hijacked")
    tampered = requests.post(direct, data=tampered_body, headers=recorded["headers"],
                             timeout=30)
    assert tampered.status_code == 401 and "bad signature" in tampered.text
    names = [t["name"] for t in single.runtime.templates.list(None)]
    assert names.count("Relayed") == 1 and "Hijacked" not in names


def _csrf(session: requests.Session, site: Site) -> str:
    page = session.get(site.relay("/ui/campaigns"), timeout=30).text
    match = re.search(r'name="bkntc-csrf" content="([^"]+)"', page)
    assert match
    return match.group(1)


def test_writes_without_the_wordpress_nonce_are_refused(single: Site) -> None:
    session = single.wp.requests_session("admin")
    response = session.post(single.relay("/api/v1/templates"), json={"name": "x", "body": "y"},
                            headers={"Accept": "application/json",
                                     "X-Bkntc-Csrf": _csrf(session, single)}, timeout=30)
    assert response.status_code == 403 and response.json()["error"]["code"] == "wp_nonce"


# -- Booknetic's cron ---------------------------------------------------------------------


def _queued_campaign(site: Site, name: str) -> int:
    runtime = site.runtime
    campaign = runtime.campaigns.create(None, {"name": name, "segment": "repeat",
                                               "body": "Thanks for coming back!"})
    queued = runtime.campaigns.send(None, campaign["id"])  # snapshot only: nothing sent yet
    assert queued["status"] == "queued" and queued["sent"] == 0
    return int(campaign["id"])


@pytest.mark.parametrize("via", ["request", "wp-cron"])
def test_booknetic_cron_advances_the_queue(single: Site, via: str) -> None:
    """An ordinary page view (Booknetic's loopback background process) or wp-cron.php
    (inline) opens Booknetic's gate, and its bkntc_cronjob tick reaches the sidecar."""
    campaign_id = _queued_campaign(single, f"By cron ({via})")
    ticks = single.recorder.count("/bridge/tick")
    single.wp.fire_cron(via=via)  # returns once the bridge recorded the sidecar's answer
    # (Any page view once Booknetic's minute is up may add a tick of its own: at least one.)
    assert single.recorder.count("/bridge/tick") >= ticks + 1
    tick = single.wp.php_json("return get_option('bkntc_sms_last_tick');")
    assert tick["ok"] is True, tick
    wait_for(lambda: single.runtime.campaigns.progress(None, campaign_id)["status"]
             == "completed", 60, "the cron tick to send the campaign")


def test_booknetic_cron_gate(single: Site) -> None:
    """Booknetic's compare-and-swap on bkntc_cron_job_runned_on: a deleted row does not
    open the gate, a row just swapped keeps it shut, a back-dated one opens it."""
    wp = single.wp
    wp.delete_option("bkntc_cron_job_runned_on")
    wp.expect(requests.get(f"{wp.url}/wp-cron.php?doing_wp_cron", timeout=30))  # runs inline
    taken = wp.get_option("bkntc_cron_job_runned_on")
    assert taken not in (None, "", "0", "1")  # re-inserted as "now", and the swap failed
    wp.expect(requests.get(f"{wp.url}/wp-cron.php?doing_wp_cron", timeout=30))
    assert wp.get_option("bkntc_cron_job_runned_on") == taken  # within 60 s: shut
    wp.fire_cron(via="wp-cron")  # back-dated: open (raises unless the gate was taken)
    assert wp.php_json("return get_option('bkntc_sms_last_tick');")["ok"] is True


# -- settings, failures -------------------------------------------------------------------


def test_settings_screen_tests_the_connection(single: Site, browser: Browser) -> None:
    page = browser.new_page()
    single.wp.login(page, "admin")
    page.goto(f"{single.wp.url}/wp-admin/options-general.php?page=bkntc-sms-bridge")
    page.click("#bkntc-sms-test")
    result = page.locator("#bkntc-sms-test-result")
    expect(result).to_contain_text("Connected")
    expect(result).to_contain_text("twilio")
    page.close()


def test_sidecar_down_or_hung_gives_a_page_that_says_what_to_check(single: Site) -> None:
    session = single.wp.requests_session("admin")
    hung = Blackhole()
    try:
        for url in (f"http://127.0.0.1:{free_port()}", hung.url):
            single.wp.set_option("bkntc_sms_sidecar_url", url)
            response = session.get(single.relay("/ui/campaigns"), timeout=60)
            assert response.status_code == 502
            assert 'id="bkntc-sms-error"' in response.text
            assert "bkntc-sms serve" in response.text and url in response.text
        # The hung service was given the page timeout (10 s), not more.
        assert re.search(r"timed out after 1\d{4} milliseconds", response.text), response.text
    finally:
        hung.close()
        single.wp.set_option("bkntc_sms_sidecar_url", single.proxy_url)


def test_translations_load(single: Site, tmp_path: Any) -> None:
    """A German .mo in wp-content/languages/plugins/ translates the bridge's texts."""
    po = tmp_path / f"{BRIDGE_SLUG}-de_DE.po"
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
                  '"Language: de_DE\\n"\n\n'
                  'msgid "SMS Campaigns"\nmsgstr "SMS-Kampagnen"\n\n'
                  'msgid "You do not have access to SMS Campaigns."\n'
                  'msgstr "Sie haben keinen Zugriff auf SMS-Kampagnen."\n', encoding="utf-8")
    target = single.wp.content_dir / "languages" / "plugins"
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["msgfmt", "-o", str(target / f"{BRIDGE_SLUG}-de_DE.mo"), str(po)],
                   check=True)
    staff = single.wp.users["staff1"].user_id
    single.wp.php_json(f"return update_user_meta({staff}, 'locale', 'de_DE');")
    try:
        denied = single.wp.requests_session("staff1").get(single.relay("/ui/campaigns"),
                                                          timeout=30)
        assert denied.status_code == 403 and "keinen Zugriff auf SMS-Kampagnen" in denied.text
    finally:
        single.wp.php_json(f"return delete_user_meta({staff}, 'locale');")


# -- SaaS ---------------------------------------------------------------------------------


def test_saas_menu_follows_the_plan_and_the_user(saas: Site) -> None:
    assert menu_visible(saas, "tenant1")          # plan with the gate on
    assert not menu_visible(saas, "tenant3")      # plan with the gate off
    assert not menu_visible(saas, "staff1")       # staff of tenant 1, no capability
    off = saas.wp.requests_session("tenant3").get(saas.relay("/ui/campaigns"), timeout=30)
    assert off.status_code == 403


def test_saas_platform_owner_is_refused(saas: Site) -> None:
    """Booknetic keeps the platform owner out of the tenant panel; so does the relay."""
    owner = saas.wp.requests_session("admin")
    seen = len(saas.recorder.seen)
    page = owner.get(saas.relay("/ui/campaigns"), timeout=30)
    assert page.status_code == 403 and "platform owner" in page.text
    api = owner.get(saas.relay("/api/v1/campaigns"), headers={"Accept": "application/json"},
                    timeout=30)
    assert api.status_code == 403 and api.json()["error"]["code"] == "saas_owner"
    assert len(saas.recorder.seen) == seen  # nothing reached the sidecar


def test_a_tenant_parameter_never_picks_the_tenant(saas: Site) -> None:
    """On admin-ajax.php Booknetic 5.2 takes the tenant from a tenant_id / bkntc_page_id
    request parameter; the relay refuses such requests instead of signing that tenant."""
    theirs = saas.runtime.campaigns.create(saas.wp.users["tenant2"].tenant_id, {
        "name": "Tenant two only", "segment": "all_with_phone", "body": "Hi"})
    tenant1 = saas.wp.requests_session("tenant1")
    headers = {"Accept": "application/json"}
    for name in ("tenant_id", "bkntc_page_id"):
        url = saas.relay(f"/api/v1/campaigns/{theirs['id']}") + f"&{name}=2"
        response = tenant1.get(url, headers=headers, timeout=30)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "tenant_parameter"
        assert "Tenant two only" not in response.text


def test_tenant_a_never_reaches_tenant_b_through_the_relay(saas: Site) -> None:
    runtime = saas.runtime
    tenant1 = saas.wp.users["tenant1"].tenant_id
    mine = runtime.campaigns.create(tenant1, {"name": "Tenant one only",
                                              "segment": "all_with_phone", "body": "Hi"})
    other = saas.wp.requests_session("tenant2")
    headers = {"Accept": "application/json"}
    assert other.get(saas.relay(f"/api/v1/campaigns/{mine['id']}"), headers=headers,
                     timeout=30).status_code == 404
    listed = other.get(saas.relay("/api/v1/campaigns"), headers=headers, timeout=30).json()
    assert mine["id"] not in {c["id"] for c in listed["campaigns"]}
    page = other.get(saas.relay(f"/ui/campaigns/{mine['id']}/edit"), timeout=30)
    assert page.status_code == 404 and "Tenant one only" not in page.text
    owner = saas.wp.requests_session("tenant1")
    assert owner.get(saas.relay(f"/api/v1/campaigns/{mine['id']}"), headers=headers,
                     timeout=30).json()["name"] == "Tenant one only"
    preview = other.get(saas.relay("/ui/campaigns/new"), timeout=30)
    assert preview.status_code == 200
    tenant2 = saas.wp.users["tenant2"].tenant_id
    signed = [r for r in saas.recorder.seen if r["path"] == "/ui/campaigns/new"]
    assert signed, "the relay should have forwarded the page request"
    identity = _identity(signed[-1]["headers"]["X-Bkntc-Identity"])
    assert identity["tenant_id"] == tenant2 and "sms_campaigns" in identity["caps"]


def test_saas_cron_tick_reaches_the_sidecar(saas: Site) -> None:
    ticks = saas.recorder.count("/bridge/tick")
    saas.wp.fire_cron(via="request")
    assert saas.recorder.count("/bridge/tick") >= ticks + 1
    assert saas.wp.php_json("return get_option('bkntc_sms_last_tick');")["ok"] is True


def _identity(encoded: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))


# -- multisite ----------------------------------------------------------------------------


def test_multisite_activation_and_uninstall_cover_every_site(mariadb: MariaDBServer) -> None:
    wp = start_wordpress(mariadb, kind="single", bridge=False, customers_per_tenant=3,
                         multisite_sites=3, label="e2e-multisite")
    try:
        assert len(wp.sites) == 3
        options = ["bkntc_sms_bridge_secret", "bkntc_sms_sidecar_url", VERSION_OPTION,
                   "bkntc_sms_public_base_url"]
        read = f"""
            $out = [];
            foreach (get_sites(['fields' => 'ids', 'number' => 0]) as $id) {{
                switch_to_blog($id);
                $out[$id] = array_map(fn($o) => get_option($o, null),
                                      json_decode('{json.dumps(options)}', true));
                restore_current_blog();
            }}
            return $out;
        """
        wp.php_json(f"""
            require_once ABSPATH . 'wp-admin/includes/plugin.php';
            $r = activate_plugin('{BRIDGE_PLUGIN}', '', true);
            return is_wp_error($r) ? $r->get_error_message() : null;
        """)
        activated = wp.php_json(read)
        assert len(activated) == 3
        secrets_ = {values[0] for values in activated.values()}
        assert all(v[0] and v[1] and v[2] == PLUGIN_VERSION for v in activated.values())
        assert len(secrets_) == 3  # each site its own secret
        # each site its own webhook address, under its own home URL
        homes = wp.php_json("return array_map(fn($id) => trailingslashit(get_home_url($id)),"
                            " get_sites(['fields' => 'ids', 'number' => 0]));")
        assert sorted(v[3] for v in activated.values()) == sorted(
            f"{home}wp-json/bkntc-sms/v1/" for home in homes)
        assert len({v[3] for v in activated.values()}) == 3
        wp.expect(requests.get(f"{wp.url}/", timeout=30))  # a page view, network-activated
        wp.php_json(f"""
            require_once ABSPATH . 'wp-admin/includes/plugin.php';
            deactivate_plugins('{BRIDGE_PLUGIN}', true, true);
            uninstall_plugin('{BRIDGE_PLUGIN}');
            return true;
        """)
        assert all(v == [None] * len(options) for v in wp.php_json(read).values())
        messages = wp.plugin_messages(BRIDGE_SLUG)
        assert not messages, wp.diag("\n".join(messages))
    finally:
        wp.stop()
