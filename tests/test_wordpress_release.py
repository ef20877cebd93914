"""The release zip in a real WordPress: uploaded through WordPress's own Plugins → Add New →
Upload Plugin path (update.php?action=upload-plugin → Plugin_Upgrader), activated from the
link WordPress offers, relaying a page of the running service; and the bridge's version
check against the service's /healthz, with the service older and newer than the plugin
(a copy of the plugin stamped 0.3.0 / 0.1.0 and uploaded over the installed one, "Replace
current with uploaded", as an administrator would install another release).

The other WordPress tests keep the plugin symlinked from the source tree.
"""

from __future__ import annotations

import html
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from sidecar import __version__
from sidecar.config import Settings
from sidecar.runtime import Runtime
from sidecar.web import create_app
from sidecar.web.server import BackgroundServer
from tests.conftest import MariaDBServer, free_port
from tests.wp_support import BRIDGE_PLUGIN, BRIDGE_SLUG, WordPressSite, start_wordpress
from tools.release import PLUGIN_DIR, build_plugin_zip, plugin_members, set_version

pytestmark = pytest.mark.slow  # a WordPress under php -S

SETTINGS_PAGE = "/wp-admin/options-general.php?page=bkntc-sms-bridge"


@dataclass
class Release:
    wp: WordPressSite
    zips: dict[str, Path]  # plugin version -> zip
    sidecar: BackgroundServer


def _stamped_zip(version: str, work: Path) -> Path:
    """The plugin as another release would ship it: the same files, stamped `version`."""
    copy = work / f"plugin-{version}"
    shutil.copytree(PLUGIN_DIR, copy)
    set_version(version, plugin_dir=copy, sidecar=False)
    return build_plugin_zip(work / f"dist-{version}", plugin_dir=copy, check_versions=False)


@pytest.fixture(scope="module")
def release(mariadb: MariaDBServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Release]:
    work = tmp_path_factory.mktemp("release")
    zips = {__version__: build_plugin_zip(work / "dist")}  # what ./dev package ships
    for other in ("0.3.0", "0.1.0"):
        zips[other] = _stamped_zip(other, work)
    port = free_port()
    wp = start_wordpress(mariadb, kind="single", link_bridge=False, disable_wp_cron=True,
                         sidecar_url=f"http://127.0.0.1:{port}", customers_per_tenant=10,
                         label="release")
    runtime = Runtime.build(Settings.from_env({"BKNTC_SMS_DATABASE_URL": wp.db_url}))
    sidecar = BackgroundServer(create_app(runtime), port=port).start()
    try:
        yield Release(wp, zips, sidecar)
    finally:
        sidecar.stop()
        runtime.close()
        wp.stop()


@pytest.fixture(autouse=True)
def no_php_messages_from_the_bridge(release: Release) -> Iterator[None]:
    """Uploading, activating, replacing, checking versions: not one PHP message of any kind
    names the plugin."""
    yield
    messages = release.wp.plugin_messages(BRIDGE_SLUG)
    assert not messages, release.wp.diag("\n".join(messages))


def upload(wp: WordPressSite, session: requests.Session, zip_path: Path) -> str:
    """Upload `zip_path` as the Upload Plugin form does, replacing an installed copy when
    WordPress offers it; returns the page WordPress ends on."""
    form = wp.expect(session.get(f"{wp.url}/wp-admin/plugin-install.php?tab=upload",
                                 timeout=60)).text
    nonce = re.search(r'name="_wpnonce" value="([^"]+)"', form)
    assert nonce, form[:2000]
    with zip_path.open("rb") as handle:
        page = wp.expect(session.post(
            f"{wp.url}/wp-admin/update.php?action=upload-plugin",
            data={"_wpnonce": nonce.group(1), "_wp_http_referer": "/wp-admin/plugin-install.php",
                  "install-plugin-submit": "Install Now"},
            files={"pluginzip": (zip_path.name, handle, "application/zip")}, timeout=120)).text
    replace = re.search(r'href="([^"]*action=upload-plugin[^"]*overwrite=(?:update|downgrade)'
                        r'-plugin[^"]*)"', page)
    if replace:  # "This plugin is already installed": Replace current with uploaded
        link = html.unescape(replace.group(1))
        page = wp.expect(session.get(f"{wp.url}/wp-admin/{link}", timeout=120)).text
    return page


def activate(wp: WordPressSite, session: requests.Session, page: str) -> None:
    link = re.search(r'href="([^"]*plugins\.php\?action=activate[^"]*)"', page)
    assert link, wp.diag("no Activate link after the upload:\n" + page[-3000:])
    url = html.unescape(link.group(1))
    wp.expect(session.get(url if url.startswith("http") else f"{wp.url}/wp-admin/{url}",
                          timeout=60))


def install(release: Release, version: str) -> requests.Session:
    """Upload the `version` zip (over whatever is installed) and make sure it is active."""
    wp = release.wp
    session = wp.requests_session("admin")
    page = upload(wp, session, release.zips[version])
    assert re.search(r"Plugin (installed|updated|downgraded) successfully", page), wp.diag(
        re.sub(r"<[^>]+>", " ", page[page.find('class="wrap"'):])[:3000])
    if BRIDGE_PLUGIN not in wp.php_json("return get_option('active_plugins');"):
        activate(wp, session, page)
    header = (wp.plugins_dir / BRIDGE_SLUG / f"{BRIDGE_SLUG}.php").read_text()
    assert f"Version:           {version}" in header
    return session


def test_the_zip_installs_through_the_upload_page_and_relays_a_page(release: Release) -> None:
    wp = release.wp
    with zipfile.ZipFile(release.zips[__version__]) as archive:
        assert sorted(archive.namelist()) == [f"{BRIDGE_SLUG}/{m}" for m in plugin_members()]
    session = install(release, __version__)
    assert BRIDGE_PLUGIN in wp.php_json("return get_option('active_plugins');")
    installed = wp.plugins_dir / BRIDGE_SLUG
    assert not installed.is_symlink()  # WordPress unpacked it: no link to the source tree
    assert sorted(str(p.relative_to(installed)) for p in installed.rglob("*")
                  if p.is_file()) == plugin_members()
    assert wp.get_option("bkntc_sms_bridge_secret")  # activation ran
    page = session.get(f"{wp.url}/wp-admin/admin-ajax.php?action=bkntc_sms&p=%2Fui%2Fcampaigns",
                       timeout=60)
    assert page.status_code == 200, wp.diag(page.text[:2000])
    assert 'id="new-campaign"' in page.text and 'name="bkntc-csrf"' in page.text


def _test_connection(wp: WordPressSite, session: requests.Session) -> str:
    """Press Test connection on the settings screen; return the screen it leads back to."""
    screen = wp.expect(session.get(wp.url + SETTINGS_PAGE, timeout=60)).text
    form = re.search(r'value="bkntc_sms_test_connection">\s*<input[^>]*name="_wpnonce" '
                     r'value="([^"]+)"', screen)
    assert form, screen[-3000:]
    return wp.expect(session.post(f"{wp.url}/wp-admin/admin-post.php", data={
        "action": "bkntc_sms_test_connection", "_wpnonce": form.group(1),
        "_wp_http_referer": SETTINGS_PAGE}, timeout=60)).text


def _notice(page: str) -> str | None:
    found = re.search(r'id="bkntc-sms-version-mismatch"><p>(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else None


def test_same_release_shows_both_versions_and_no_notice(release: Release) -> None:
    session = install(release, __version__)
    page = _test_connection(release.wp, session)
    assert f"Plugin version {__version__}; service version {__version__}." in page
    assert 'id="bkntc-sms-test-result" class="notice notice-success"' in page
    assert _notice(page) is None


def test_service_older_than_the_plugin_says_update_the_service(release: Release) -> None:
    session = install(release, "0.3.0")
    page = _test_connection(release.wp, session)
    assert f"Plugin version 0.3.0; service version {__version__}." in page
    notice = _notice(page)
    assert notice is not None and "Update the service to 0.3" in notice, page[-3000:]
    # It stays on every admin page until the parts agree.
    other = release.wp.expect(session.get(f"{release.wp.url}/wp-admin/", timeout=60)).text
    assert "Update the service to 0.3" in (_notice(other) or "")


def test_service_newer_than_the_plugin_says_update_the_plugin(release: Release) -> None:
    session = install(release, "0.1.0")
    page = _test_connection(release.wp, session)
    notice = _notice(page)
    major_minor = ".".join(__version__.split(".")[:2])
    assert notice is not None and f"Update the plugin to {major_minor}" in notice, page[-3000:]
    # Back to the matching release: the notice goes at the next check.
    session = install(release, __version__)
    assert _notice(_test_connection(release.wp, session)) is None
