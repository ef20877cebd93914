"""Self-test of the WordPress harness (tests/wp_support.py) and the Booknetic stand-in.

Two real sites (Debian's WordPress under php -S, on the test MariaDB), single-site and SaaS,
each with the dummy add-on tests/wordpress/plugins/bkntc-harness-probe: it registers the user
capability `harness_probe` and the tenant capability `sms_campaigns` (the sample plans' gate),
adds a left-menu item only when both allow, exposes Booknetic's view of the request on the
route `harness_probe` (GET page and POST ajax) and counts `bkntc_cronjob` runs in an option.
The probe has no version record (bkntc_addon_bkntc-harness-probe_version), as an add-on the
licence server does not know would not.

The stand-in follows Booknetic 5.2.2 where add-ons meet it (tests/wordpress/README.md); the
tests below check the parts of that behaviour the bridge depends on.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests
from sqlalchemy import text

from sidecar.sample_data import CORE_PLUGIN, SAAS_PLUGIN, TWILIO_PLUGIN
from tests.conftest import MariaDBServer
from tests.wp_support import (
    BRIDGE_SLUG,
    CRON_BACKDATED,
    CRON_THROTTLE_OPTION,
    HARNESS,
    PROBE_PLUGIN,
    SIDECAR_URL_OPTION,
    STAFF_ROLE,
    TENANT_GATE_OFF,
    TENANT_GATE_ON,
    TENANT_ROLE,
    WordPressSite,
    start_wordpress,
    wordpress_fixture,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = [pytest.mark.mariadb, pytest.mark.slow]  # a WordPress under php -S

SIDECAR = "http://127.0.0.1:9/sidecar"
CRON_RUNS = "bkntc_probe_cron_runs"
PROBE_MENU = 'id="bkntc-menu-harness_probe"'

single = wordpress_fixture(kind="single", bridge=False, add_plugins=[PROBE_PLUGIN],
                           customers_per_tenant=20, sidecar_url=SIDECAR,
                           options={"bkntc_harness_list": ["a", 1]})
saas = wordpress_fixture(kind="saas", bridge=False, add_plugins=[PROBE_PLUGIN],
                         customers_per_tenant=20, sidecar_url=SIDECAR)


@pytest.fixture(params=["single", "saas"])
def site(request: pytest.FixtureRequest) -> WordPressSite:
    return request.getfixturevalue(request.param)


def menu_ids(page: str) -> list[str]:
    return re.findall(r'id="bkntc-menu-([a-z0-9_-]+)"', page)


def probe_state(wp: WordPressSite, session: requests.Session) -> dict:
    page = wp.expect(session.get(wp.panel_url("harness_probe"))).text
    assert 'id="booknetic_panel"' in page and 'id="bkntc-left-menu"' in page, page[-2000:]
    found = re.search(r'<pre id="bkntc-probe">(.*?)</pre>', page, re.S)
    assert found, wp.diag(f"no probe output in:\n{page[-2000:]}")
    return json.loads(html.unescape(found.group(1)))


# -- the install ---------------------------------------------------------------------------


def test_install_state(site: WordPressSite) -> None:
    wanted = [CORE_PLUGIN, PROBE_PLUGIN, TWILIO_PLUGIN]
    if site.kind == "saas":
        wanted.append(SAAS_PLUGIN)
    assert sorted(site.active_plugins) == sorted(wanted)
    serialized = site.get_option("active_plugins") or ""
    assert all(f'"{p}"' in serialized for p in wanted), serialized
    assert site.get_option(SIDECAR_URL_OPTION) == SIDECAR
    assert site.get_option("bkntc_probe_activated") == "yes"  # the activation hook ran
    assert (site.get_option("bkntc_sms_account_sid") or "").startswith("AC")
    assert site.get_option("siteurl") == site.url  # not the data set's booknetic.test
    assert site.config_path.exists() and site.config_path.parent == Path("/etc/wordpress")
    plugins = site.plugins_dir
    assert (plugins / "booknetic").resolve() == HARNESS / "plugins" / "booknetic"
    assert (plugins / BRIDGE_SLUG).is_symlink()
    with site.engine.connect() as conn:
        tables = set(conn.execute(text("SHOW TABLES")).scalars())
        staff_user = conn.execute(text(
            "SELECT user_id FROM wp_bkntc_staff WHERE id = 1")).scalar()
        customers = conn.execute(text("SELECT COUNT(*) FROM wp_bkntc_customers")).scalar()
    assert {"wp_users", "wp_options", "wp_bkntc_customers", "wp_bkntc_appointments"} <= tables
    assert ("wp_bkntc_tenants" in tables) == (site.kind == "saas")
    assert staff_user == site.users["staff1"].user_id
    assert customers == len(site.dataset.customers)


def test_options_of_any_type(single: WordPressSite) -> None:
    assert single.php_json("return get_option('bkntc_harness_list');") == ["a", 1]
    single.set_option("bkntc_harness_map", {"k": [True, None]})
    assert single.php_json("return get_option('bkntc_harness_map');") == {"k": [True, None]}
    single.set_option("bkntc_harness_text", "plain")
    assert single.get_option("bkntc_harness_text") == "plain"
    single.delete_option("bkntc_harness_text")
    assert single.get_option("bkntc_harness_text") is None


def test_saas_users_line_up_with_the_sample_tenants(saas: WordPressSite) -> None:
    with saas.engine.connect() as conn:
        tenants = conn.execute(text("SELECT id, user_id, plan_id FROM wp_bkntc_tenants")).all()
        plans = dict(conn.execute(text("SELECT id, permissions FROM wp_bkntc_plans")).all())
    owners = {u.user_id: u for u in saas.users.values() if u.role == TENANT_ROLE}
    assert {t.id for t in tenants} == {1, 2, 3}
    for tenant in tenants:
        owner = owners[tenant.user_id]
        assert owner.tenant_id == tenant.id
        gate = json.loads(plans[tenant.plan_id])["capabilities"]["sms_campaigns"]
        assert gate == ("on" if owner.login != TENANT_GATE_OFF else "off")
    assert saas.tenant_owner(gate_on=True).login == TENANT_GATE_ON
    assert saas.tenant_owner(gate_on=False).login == TENANT_GATE_OFF


# -- logins and the panel ------------------------------------------------------------------


def test_every_user_logs_in_and_gets_their_tenant(site: WordPressSite) -> None:
    for login, user in site.users.items():
        session = site.requests_session(login)
        profile = site.expect(session.get(f"{site.url}/wp-admin/profile.php")).text
        assert f'value="{login}"' in profile, site.diag(f"{login} not on their profile page")
        if user.role == "subscriber" or (site.kind == "saas" and login == "admin"):
            # No Booknetic access (the SaaS owner uses the SaaS panel): no such page for them
            assert session.get(site.panel_url()).status_code == 403
            continue
        state = probe_state(site, session)  # the probe's page, inside the Booknetic panel
        assert state["user_id"] == user.user_id
        assert state["tenant_id"] == user.tenant_id, f"{login}: {state}"
        assert state["is_admin"] is (user.role in ("administrator", TENANT_ROLE))
        if site.kind == "saas" and user.role == STAFF_ROLE and login != "staff10":
            assert user.tenant_id is not None  # staff10's staff row has tenant_id NULL


def test_tenant_id_from_php(site: WordPressSite) -> None:
    ids = {login: user.user_id for login, user in site.users.items()}
    found = site.php_json(f"""
        $out = [];
        foreach (json_decode('{json.dumps(ids)}', true) as $login => $id) {{
            wp_set_current_user($id);
            \\BookneticApp\\Providers\\Core\\Permission::setTenantId(-1);  // once per request
            $out[$login] = \\BookneticApp\\Providers\\Core\\Permission::tenantId();
        }}
        return $out;
    """)
    assert found == {login: user.tenant_id for login, user in site.users.items()}
    # `user=` makes the user current before plugins load, as a logged-in request would
    code = "return \\BookneticApp\\Providers\\Core\\Permission::tenantId();"
    owner = site.users[TENANT_GATE_ON if site.kind == "saas" else "staff1"]
    assert site.php_json(code, user=owner.login) == owner.tenant_id


def test_wrong_password_is_refused(single: WordPressSite) -> None:
    session = single.requests_session()
    single.expect(session.get(f"{single.url}/wp-login.php"))
    response = session.post(f"{single.url}/wp-login.php", data={
        "log": "admin", "pwd": "nope", "testcookie": "1"}, allow_redirects=False)
    assert response.status_code == 200 and "login_error" in response.text


def test_single_site_menu_and_routes(single: WordPressSite) -> None:
    admin = single.requests_session("admin")
    page = single.expect(admin.get(single.panel_url())).text
    assert menu_ids(page) == ["dashboard", "appointments", "customers", "harness_probe"]
    assert 'id="bkntc-dashboard"' in page  # default module
    customers = single.expect(admin.get(single.panel_url("customers"))).text
    total = re.search(r'id="bkntc-customers-total">(\d+)<', customers)
    assert total and int(total.group(1)) == len(single.dataset.customers)
    missing = admin.get(single.panel_url("no_such_module"))
    assert missing.status_code == 404 and 'id="bkntc-not-found"' in missing.text

    staff = single.requests_session("staff1")
    page = single.expect(staff.get(single.panel_url())).text
    assert menu_ids(page) == ["dashboard", "appointments", "customers"]
    state = probe_state(single, staff)
    assert state["user_can"] is False and state["user_can_staff"] is True
    assert state["tenant_can"] is True and state["saas"] is False
    assert state["slug"] == "bkntc-harness-probe"
    assert set(state["addons"]) == {"bkntc-harness-probe", "booknetic-workflow-twilio-sms"}


def test_saas_menu_follows_user_and_plan(saas: WordPressSite) -> None:
    expected = {TENANT_GATE_ON: True, "tenant2": True, TENANT_GATE_OFF: False,
                "staff1": False, "staff7": False}
    for login, visible in expected.items():
        page = saas.expect(saas.requests_session(login).get(saas.panel_url())).text
        assert (PROBE_MENU in page) is visible, saas.diag(f"{login}: {menu_ids(page)}")
        assert "customers" in menu_ids(page)


def test_tenant_pages_are_scoped(saas: WordPressSite) -> None:
    for login, tenant in [(TENANT_GATE_ON, 1), (TENANT_GATE_OFF, 3), ("staff4", 2)]:
        page = saas.expect(saas.requests_session(login).get(saas.panel_url("customers"))).text
        total = re.search(r'id="bkntc-customers-total">(\d+)<', page)
        assert total and int(total.group(1)) == len(saas.dataset.customers_of(tenant)), login


def test_capabilities_from_php(saas: WordPressSite) -> None:
    code = """
        use BookneticApp\\Providers\\Core\\Capabilities as C;
        $thrown = false;
        try { C::mustTenant('sms_campaigns'); }
        catch (\\BookneticApp\\Providers\\Core\\CapabilitiesException $e) { $thrown = true; }
        return [C::userCan('harness_probe'), C::tenantCan('sms_campaigns'), C::tenantCan('no_such'),
                C::userCan('no_such'), C::getLimit('twilio_sms_allowed_max_number'), $thrown,
                array_keys(C::getTenantCapabilityList())];
    """
    caps = ["sms_campaigns", "twilio_sms", "workflow"]
    results = {who: saas.php_json(code, user=who)
               for who in (TENANT_GATE_ON, TENANT_GATE_OFF, "staff1", "admin")}
    results["nobody"] = saas.php_json(code)  # as cron code runs: no user, no tenant
    for result in results.values():
        result[-1] = sorted(result[-1])
    assert results == {
        TENANT_GATE_ON: [True, True, True, False, 1000, False, caps],
        TENANT_GATE_OFF: [True, False, True, False, 50, True, caps],
        "staff1": [False, True, True, False, 1000, False, caps],
        "admin": [True, True, True, False, -1, False, caps],
        "nobody": [False, True, True, False, -1, False, caps],
    }


def test_booknetic_hooks_per_request_kind(single: WordPressSite) -> None:
    """bkntc_backend fires only on the Booknetic page; admin-ajax.php fires bkntc_frontend."""
    code = ("return [\\BookneticApp\\Providers\\Core\\Route::has('get', 'harness_probe'), "
            "did_action('bkntc_init'), did_action('bkntc_backend'), did_action('bkntc_frontend')];")
    assert single.php_json(code) == [False, 1, 0, 1]
    assert single.php_json(code, admin=True, user="admin") == [False, 1, 0, 0]
    admin = single.requests_session("admin")
    assert probe_state(single, admin)["hooks"] == [1, 1, 0]
    assert single.booknetic_ajax(admin, "harness_probe", "state")["hooks"] == [1, 1, 0]
    ajax = single.expect(admin.get(
        f"{single.url}/wp-admin/admin-ajax.php?action=bkntc_probe_state"))
    assert ajax.json()["hooks"] == [1, 0, 1]


def test_saas_tenant_from_a_request_parameter_on_ajax(saas: WordPressSite) -> None:
    """Booknetic 5.2: outside the back end (every admin-ajax.php request) a tenant_id or
    bkntc_page_id parameter naming a tenant wins over the user's own tenant."""
    owner = saas.requests_session(TENANT_GATE_ON)
    url = f"{saas.url}/wp-admin/admin-ajax.php?action=bkntc_probe_state"
    assert saas.expect(owner.get(url)).json()["tenant_id"] == 1
    for name in ("tenant_id", "bkntc_page_id"):
        assert saas.expect(owner.get(f"{url}&{name}=2")).json()["tenant_id"] == 2
    assert saas.expect(owner.get(f"{url}&tenant_id=99")).json()["tenant_id"] is None
    page = probe_state(saas, owner)  # the back end ignores it
    assert page["tenant_id"] == 1


def test_addon_api_signatures() -> None:
    """The signatures of Booknetic 5.2.2 an add-on meets (checked by reflection in PHP)."""
    code = r"""
        define('ABSPATH', '/');
        foreach (['AddonLoader', 'Controller'] as $c) {
            require '""" + str(HARNESS) + r"""/plugins/booknetic/app/Providers/Core/' . $c . '.php';
        }
        $m = fn($c, $n) => new ReflectionMethod('BookneticApp\\Providers\\Core\\' . $c, $n);
        $out = [];
        foreach ([['AddonLoader', 'getAddonSlug'], ['AddonLoader', 'loadAsset'],
                  ['AddonLoader', 'getVersion'], ['AddonLoader', 'init'],
                  ['Controller', 'view'], ['Controller', 'response']] as [$c, $n]) {
            $r = $m($c, $n);
            $out["$c::$n"] = [$r->isFinal(), $r->isStatic(), $r->isPublic(),
                              array_map(fn($p) => $p->getName(), $r->getParameters())];
        }
        echo json_encode($out);
    """
    out = subprocess.run(["php", "-r", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == {
        "AddonLoader::getAddonSlug": [True, True, True, []],
        "AddonLoader::loadAsset": [True, True, True, ["asset_url"]],
        "AddonLoader::getVersion": [False, True, True, []],
        "AddonLoader::init": [False, False, True, []],
        "Controller::view": [True, False, False,
                             ["viewName", "parameters", "extends", "enqueeAssets"]],
        "Controller::response": [True, False, False, ["status", "arr"]],
    }


def test_addon_without_version_record_asks_the_licence_server_each_request(
        single: WordPressSite) -> None:
    """Booknetic compares getVersion() (<slug>/init.php) with bkntc_addon_<slug>_version on
    every request and, while the record is missing, asks the licence server again."""
    assert single.licence is not None
    assert single.php_json(
        "return \\BkntcHarnessProbe\\ProbeAddon::getVersion();") == "0.0.1"
    before = single.licence.migration_requests("bkntc-harness-probe")
    for _ in range(2):
        single.expect(requests.get(f"{single.url}/", timeout=30))
    assert single.licence.migration_requests("bkntc-harness-probe") == before + 2
    path, body = next(c for c in reversed(single.licence.calls)
                      if c[0].endswith("/bkntc-harness-probe"))
    assert path == "/v3/booknetic/addons/get_migrations/bkntc-harness-probe"
    assert body == {"from": "0.0.0", "to": "0.0.1"}
    # The Twilio add-on has its record (the sample data carries it): never asked.
    assert single.licence.migration_requests("booknetic-workflow-twilio-sms") == 0


def test_ajax_routes(saas: WordPressSite) -> None:
    session = saas.requests_session(TENANT_GATE_ON)
    ping = saas.booknetic_ajax(session, "dashboard", "ping")
    assert ping == {"status": "ok", "user_id": saas.users[TENANT_GATE_ON].user_id,
                    "tenant_id": 1}
    state = saas.booknetic_ajax(session, "harness_probe", "state")
    assert state["tenant_id"] == 1 and state["tenant_can"] is True
    missing = saas.booknetic_ajax(session, "no_such", "x", status=404)
    assert missing["status"] == "error"
    assert saas.booknetic_ajax(session, "dashboard", "not_allowed", status=404)["status"] == "error"


def test_wordpress_can_call_itself_during_a_request(single: WordPressSite) -> None:
    """PHP_CLI_SERVER_WORKERS: a request that makes an HTTP call back into the same server."""
    session = single.requests_session("admin")
    assert single.booknetic_ajax(session, "harness_probe", "loopback")["code"] == 200


def test_static_files_and_pretty_permalinks(single: WordPressSite) -> None:
    css = single.expect(requests.get(
        f"{single.url}/wp-content/plugins/booknetic/assets/panel.css", timeout=30))
    assert css.headers["Content-Type"].startswith("text/css") and ".bkntc-panel" in css.text
    theme = requests.get(f"{single.url}/wp-content/themes/twentytwentythree/style.css",
                         timeout=30)
    single.expect(theme)
    rest = single.expect(requests.get(f"{single.url}/wp-json/", timeout=30))
    assert rest.json()["url"] == single.url
    admin_page = single.requests_session("admin").get(single.panel_url())
    assert "/wp-content/plugins/booknetic/assets/panel.css" in admin_page.text


# -- cron ----------------------------------------------------------------------------------


def _runs(site: WordPressSite) -> int:
    return int(site.get_option(CRON_RUNS) or 0)


def test_cron_from_an_ordinary_request_through_the_loopback(single: WordPressSite) -> None:
    before = _runs(single)
    single.fire_cron(via="request", ran=lambda: _runs(single) > before)
    assert _runs(single) == before + 1
    # The gate now holds the time of that run: the next request does not take it.
    taken = single.get_option(CRON_THROTTLE_OPTION)
    single.expect(requests.get(f"{single.url}/", timeout=30))
    assert single.get_option(CRON_THROTTLE_OPTION) == taken


def test_cron_from_wp_cron_php_and_the_gate(single: WordPressSite) -> None:
    before = _runs(single)
    single.fire_cron(via="wp-cron", ran=lambda: _runs(single) > before)
    assert _runs(single) == before + 1  # inline: done when the request returned
    cron = f"{single.url}/wp-cron.php?doing_wp_cron"
    single.expect(requests.get(cron, timeout=30))
    assert _runs(single) == before + 1  # within 60 s
    single.delete_option(CRON_THROTTLE_OPTION)
    single.expect(requests.get(cron, timeout=30))
    assert _runs(single) == before + 1  # a missing row does not open the gate ...
    assert single.get_option(CRON_THROTTLE_OPTION) not in (None, CRON_BACKDATED)
    single.backdate_cron_gate()
    single.expect(requests.get(cron, timeout=30))
    assert _runs(single) == before + 2  # ... a back-dated one does


def test_cron_in_saas(saas: WordPressSite) -> None:
    before = _runs(saas)
    saas.fire_cron(via="request", ran=lambda: _runs(saas) > before)
    assert _runs(saas) >= before + 1


# -- browser, errors, teardown -------------------------------------------------------------


def test_playwright_login(single: WordPressSite, browser: Browser) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    try:
        single.login(page, "staff1")
        page.goto(single.panel_url())
        expect(page.locator("#bkntc-menu-customers")).to_be_visible()
        expect(page.locator("#bkntc-menu-harness_probe")).to_have_count(0)
        page.context.clear_cookies()
        single.login(page, "admin")
        page.goto(single.panel_url())
        page.click("#bkntc-menu-harness_probe")
        expect(page.locator("#bkntc-probe")).to_contain_text('"tenant_id":null')
    finally:
        page.close()


def test_no_php_errors(site: WordPressSite) -> None:
    """Nothing but WordPress 6.1's own PHP 8.2 deprecations in the logs; nothing at all that
    names a stand-in."""
    assert not site.php_errors(), site.diag("\n".join(site.php_errors()))
    for standin in sorted((HARNESS / "plugins").iterdir()):
        ours = site.plugin_messages(standin.name)
        assert not ours, site.diag("\n".join(ours))


def test_php_lint() -> None:
    lints = [(path, subprocess.Popen(["php", "-l", str(path)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True))
             for path in sorted(HARNESS.rglob("*.php"))]
    failed = [f"{path}: {proc.communicate()[0]}" for path, proc in lints if proc.wait() != 0]
    assert len(lints) > 20 and not failed, failed


def test_stop_removes_everything(mariadb: MariaDBServer) -> None:
    site = start_wordpress(mariadb, kind="single", bridge=False, customers_per_tenant=3,
                           label="harness-stop")
    assert site.timings["total"] < 60, site.timings
    site.fire_cron(via="wp-cron", ran=lambda: True)  # raises unless the gate was taken
    pid = site.process.pid if site.process else 0
    site.stop()
    assert not site.config_path.exists() and not site.root.exists()
    with pytest.raises(requests.ConnectionError):
        requests.get(site.url, timeout=5)
    assert subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode != 0
    with mariadb.connect() as conn, conn.cursor() as cur:
        cur.execute("SHOW DATABASES LIKE %s", (site.db_name,))
        assert cur.fetchone() is None
    site.stop()  # idempotent
