"""A real WordPress for tests: Debian's package, served by `php -S`, on the test MariaDB.

`start_wordpress(mariadb, kind=...)` stands up one site; `wordpress_fixture(...)` wraps it as a
module-scoped pytest fixture:

    wp = wordpress_fixture(kind="saas")          # in a test module

    def test_panel(wp: WordPressSite) -> None:
        s = wp.requests_session("tenant1")
        r = wp.expect(s.get(wp.panel_url("sms_campaigns")))

What one site is made of (all torn down by `stop()`):
- a new database on the `mariadb` server; WordPress installed into it from the CLI
  (`wp_install()`), then Booknetic's `wp_bkntc_*` tables and rows from `sidecar.sample_data`
  (only those: `wp_options`/`wp_users` are WordPress's own), then options and plugin
  activation through WordPress (`update_option()`, `activate_plugin()`), so `active_plugins` is
  WordPress's doing;
- a temp WP_CONTENT_DIR whose `plugins/` holds symlinks to the stand-ins in
  tests/wordpress/plugins/ (booknetic, booknetic-saas, booknetic-workflow-twilio-sms,
  bkntc-harness-probe) and to /work/main/bridge-plugin as `bkntc-sms-bridge`, and
  `themes/twentytwentythree` → Debian's copy; /usr/share/wordpress is never written;
- /etc/wordpress/config-bkntc-test-<hex>.php (Debian's wp-config.php needs it there), deleted
  at teardown (and at interpreter exit if a run is interrupted);
- `php -S 127.0.0.1:<port> -t /usr/share/wordpress tests/wordpress/router.php` with
  PHP_CLI_SERVER_WORKERS=4 (WordPress may call the sidecar while the sidecar calls back),
  its output in <tmp>/php-server.log, copied to test-artifacts/wordpress/ at teardown.

Users (password = `<login>-Secret-1`; `wp.users[login]` gives role, user id and tenant):
- single: `admin` (administrator), `staff1` (booknetic_staff, wp_bkntc_staff row 1),
  `subscriber` (no Booknetic access).
- saas: `admin` (the platform owner: no tenant, and - as in Booknetic - no access to the tenant
  panel), `tenant1`/`tenant2` (booknetic_saas_tenant, tenants 1 and 2, plan "Pro":
  sms_campaigns "on"), `tenant3` (tenant 3, plan "Basic": sms_campaigns "off"),
  `staff1`/`staff4`/`staff7` (staff of tenants 1/2/3), `staff10` (a staff row with tenant_id
  NULL), `subscriber`. These are the sample data set's own users, created in WordPress with the
  sample's logins; `wp_bkntc_staff.user_id`, `wp_bkntc_tenants.user_id` (and `wp.dataset`) carry
  the ids WordPress gave them.

Cron, as in Booknetic 5.2: every request ends `init` with Booknetic's 60 s gate (a
compare-and-swap on the option bkntc_cron_job_runned_on); when it opens, wp-cron.php runs
`bkntc_cronjob` inline and any other request dispatches a non-blocking loopback
`POST admin-ajax.php?action=wp_bkntc_background_process` that runs it. `fire_cron()` back-dates
the option (deleting it would not open the gate) and makes one ordinary request or hits
wp-cron.php, then waits until the caller's condition (by default: the bridge recorded a new
tick) holds. WordPress's own cron stays enabled (DISABLE_WP_CRON false), but its core events
are rescheduled at install so that page views do not spawn wp-cron.php.

Booknetic's licence server is a loopback stub (`wp.licence`) that counts the migration
requests the stand-in makes for add-ons whose version record is missing or old.

PHP messages: WP_DEBUG is on and WP_DEBUG_LOG writes to <tmp>/debug.log (PHP's log before
WordPress's debug setup: the php -S log); a must-use plugin adds the first non-core caller of
WordPress's "doing it wrong"/deprecation notices. `plugin_messages(path)` lists the lines that
name a plugin's folder.

Outgoing HTTP is limited to this site and localhost (WP_HTTP_BLOCK_EXTERNAL; the sidecar on
127.0.0.1 is reachable). PHP errors never go into pages: `php_errors()` lists them,
`diag()` / `expect()` put the logs' tails into assertion messages.

`multisite_sites=N` makes the install a subdirectory multisite network of N sites (the main
site, /site2/, …); `wp.sites` lists their ids.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from sqlalchemy import Engine, text

from sidecar.db import make_engine
from sidecar.sample_data import (
    CORE_PLUGIN,
    SAAS_PLUGIN,
    TWILIO_MODES,
    TWILIO_PLUGIN,
    Dataset,
    make_dataset,
    metadata_for,
)
from sidecar.sample_data import delete_option as sql_delete_option
from sidecar.sample_data import set_option as sql_set_option
from tests.conftest import MariaDBServer, free_port
from tests.wp_licence import LicenceStub

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parent.parent
HARNESS = Path(__file__).resolve().parent / "wordpress"
STANDINS = HARNESS / "plugins"
ROUTER = HARNESS / "router.php"
RUNNER = HARNESS / "wp-run.php"
CONFIG_TEMPLATE = HARNESS / "config-template.php"
ARTIFACTS = ROOT / "test-artifacts" / "wordpress"

WORDPRESS = Path("/usr/share/wordpress")
WP_ETC = Path("/etc/wordpress")
THEME = "twentytwentythree"

BRIDGE_DIR = ROOT / "bridge-plugin"
BRIDGE_SLUG = "bkntc-sms-bridge"
BRIDGE_PLUGIN = f"{BRIDGE_SLUG}/{BRIDGE_SLUG}.php"
PROBE_PLUGIN = "bkntc-harness-probe/init.php"  # the self-test's dummy add-on

MU_PLUGINS = HARNESS / "mu-plugins"

SIDECAR_URL_OPTION = "bkntc_sms_sidecar_url"
LAST_TICK_OPTION = "bkntc_sms_last_tick"
CRON_THROTTLE_OPTION = "bkntc_cron_job_runned_on"
# A "last run" long past: Booknetic's gate opens for it (and for it only: the swap is
# against this exact value).
CRON_BACKDATED = "1"

STAFF_ROLE = "booknetic_staff"
TENANT_ROLE = "booknetic_saas_tenant"
PREFIX = "wp_"
ADMIN = "admin"
SUBSCRIBER = "subscriber"
TENANT_GATE_ON = "tenant1"  # plan Pro: sms_campaigns "on"
TENANT_GATE_OFF = "tenant3"  # plan Basic: sms_campaigns "off"

_JSON_MARKER = "<<<BKNTC-JSON>>>"
_WP_OWN_OPTIONS = frozenset({"siteurl", "home", "blogname", "active_plugins"})
_LIVE: set[WordPressSite] = set()


class WordPressError(AssertionError):
    """Something in the harness failed; the message carries the php -S log tail."""


def password_for(login: str) -> str:
    return f"{login}-Secret-1"


def _php_literal(value: Any) -> str:
    """A PHP literal for a config constant."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    escaped = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


@dataclass(frozen=True)
class WPUser:
    login: str
    password: str
    role: str  # administrator | booknetic_staff | booknetic_saas_tenant | subscriber
    user_id: int
    tenant_id: int | None  # what Permission::tenantId() should say (SaaS), else None
    email: str
    display_name: str


@dataclass(eq=False)
class WordPressSite:
    """One running WordPress. Attributes are set by `start_wordpress`."""

    kind: str
    url: str
    port: int
    db_name: str
    db_url: str
    prefix: str
    config_name: str
    config_path: Path
    root: Path  # temp dir: wp-content/, php-server.log, scratch files
    mariadb: MariaDBServer
    dataset: Dataset | None = None
    users: dict[str, WPUser] = field(default_factory=dict)
    active_plugins: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    artifact_name: str = "wordpress"
    process: subprocess.Popen[bytes] | None = None
    licence: LicenceStub | None = None
    sites: list[int] = field(default_factory=list)  # multisite: the network's site ids
    _engine: Engine | None = None
    _stopped: bool = False

    # -- locations
    @property
    def admin_url(self) -> str:
        return f"{self.url}/wp-admin/"

    @property
    def content_dir(self) -> Path:
        return self.root / "wp-content"

    @property
    def plugins_dir(self) -> Path:
        return self.content_dir / "plugins"

    @property
    def log_path(self) -> Path:
        return self.root / "php-server.log"

    @property
    def debug_log_path(self) -> Path:
        return self.root / "debug.log"

    def panel_url(self, module: str | None = None, **params: str) -> str:
        """admin.php?page=booknetic[&module=…][&…]."""
        query = "page=booknetic"
        if module:
            query += f"&module={module}"
        for key, value in params.items():
            query += f"&{key}={requests.utils.quote(str(value))}"
        return f"{self.url}/wp-admin/admin.php?{query}"

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.db_url, pool_size=2)
        return self._engine

    # -- diagnostics
    def _log_lines(self) -> list[str]:
        lines: list[str] = []
        for path in (self.log_path, self.debug_log_path):
            with contextlib.suppress(OSError):
                lines += path.read_text(errors="replace").splitlines()
        return lines

    def log_tail(self, lines: int = 60) -> str:
        parts = []
        for path in (self.log_path, self.debug_log_path):
            try:
                text_ = path.read_text(errors="replace")
            except OSError:
                continue
            parts.append(f"--- {path.name} ---\n" + "\n".join(text_.splitlines()[-lines:]))
        return "\n".join(parts) or "(no PHP log)"

    def diag(self, message: str = "", lines: int = 60) -> str:
        """`message` plus the tails of the PHP logs, for assertion messages."""
        return f"{message}\n--- PHP logs ({self.root}), last {lines} lines each ---\n" \
               f"{self.log_tail(lines)}"

    def php_errors(self, *, deprecated: bool = False) -> list[str]:
        """PHP errors/warnings logged so far (deprecations only if asked)."""
        kinds = "Fatal error|Parse error|Warning|Notice|Recoverable fatal error"
        if deprecated:
            kinds += "|Deprecated"
        pattern = re.compile(rf"PHP ({kinds})|WordPress database error")
        return [line for line in self._log_lines() if pattern.search(line)]

    def plugin_messages(self, plugin: str) -> list[str]:
        """Every PHP message (error, warning, notice, deprecation, database error, or a
        WordPress notice the harness traced to its caller) that names the plugin folder
        wp-content/plugins/`plugin` — as the file it happened in, in its text, or as the
        caller — by that path or by the real path its symlink points to."""
        needles = [f"/plugins/{plugin}/", str((self.plugins_dir / plugin).resolve()) + "/"]
        pattern = re.compile(r"PHP (Fatal error|Parse error|Warning|Notice|Deprecated|"
                             r"Recoverable fatal error)|WordPress database error|BKNTC-HARNESS")
        return [line for line in self._log_lines()
                if pattern.search(line) and any(n in line for n in needles)]

    def expect(self, response: requests.Response, status: int = 200) -> requests.Response:
        """Fail with the log tail unless `response` has `status`."""
        if response.status_code != status:
            raise WordPressError(self.diag(
                f"{response.request.method} {response.url} answered {response.status_code}, "
                f"expected {status}:\n{response.text[:2000]}"))
        return response

    # -- users
    def user(self, who: str | WPUser) -> WPUser:
        if isinstance(who, WPUser):
            return who
        try:
            return self.users[who]
        except KeyError:
            raise KeyError(f"no user {who!r}; users: {sorted(self.users)}") from None

    def tenant_owner(self, gate_on: bool = True, capability: str = "sms_campaigns") -> WPUser:
        """A tenant owner whose plan has `capability` "on" (or not)."""
        assert self.dataset is not None and self.kind == "saas", "tenant owners exist in SaaS"
        plans = {p["id"]: json.loads(p["permissions"]) for p in self.dataset.plans}
        for tenant in self.dataset.tenants:
            caps = plans.get(tenant["plan_id"], {}).get("capabilities", {})
            if (caps.get(capability) == "on") == gate_on:
                return next(u for u in self.users.values()
                            if u.role == TENANT_ROLE and u.tenant_id == tenant["id"])
        raise LookupError(f"no tenant whose plan has {capability} {'on' if gate_on else 'off'}")

    def login(self, page: Page, who: str | WPUser, *, timeout: float = 15_000) -> None:
        """Log in through wp-login.php in a Playwright page; waits for wp-admin."""
        user = self.user(who)
        failure: Exception | None = None
        # wp-login.php's own scripts (password field, user-profile.js) can still be starting
        # when the form is submitted; on a busy machine that rarely drops the submit, so a
        # login that did not land is tried once more before it counts as a failure.
        for _attempt in range(2):
            page.goto(f"{self.url}/wp-login.php", timeout=timeout, wait_until="load")
            page.fill("#user_login", user.login)
            page.fill("#user_pass", user.password)
            page.click("#wp-submit")
            try:
                page.wait_for_url(re.compile(r"/wp-admin/"), timeout=timeout)
                return
            except Exception as exc:
                failure = exc
        raise WordPressError(self.diag(
            f"login as {user.login} did not reach wp-admin (at {page.url}): {failure}"))

    def requests_session(self, who: str | WPUser | None = None) -> requests.Session:
        """A `requests` session, logged in through wp-login.php unless `who` is None."""
        session = requests.Session()
        if who is None:
            return session
        user = self.user(who)
        login_url = f"{self.url}/wp-login.php"
        self.expect(session.get(login_url, timeout=30))  # sets wordpress_test_cookie
        response = session.post(login_url, data={
            "log": user.login, "pwd": user.password, "wp-submit": "Log In",
            "redirect_to": self.admin_url, "testcookie": "1",
        }, allow_redirects=False, timeout=30)
        logged_in = any(c.name.startswith("wordpress_logged_in_") for c in session.cookies)
        if response.status_code != 302 or not logged_in:
            raise WordPressError(self.diag(
                f"login as {user.login} failed: {response.status_code}\n{response.text[:1500]}"))
        return session

    def booknetic_ajax(self, session: requests.Session, module: str, action: str,
                       data: Mapping[str, Any] | None = None, *,
                       status: int | None = 200) -> Any:
        """POST admin.php?page=booknetic&ajax=1 (module, action, data) and decode the JSON."""
        body = {"module": module, "action": action, **(data or {})}
        response = session.post(f"{self.url}/wp-admin/admin.php?page=booknetic&ajax=1",
                                data=body, timeout=60)
        if status is not None:
            self.expect(response, status)
        try:
            return response.json()
        except ValueError as exc:
            raise WordPressError(self.diag(
                f"Booknetic ajax {module}/{action} did not answer JSON:\n{response.text[:1500]}"
            )) from exc

    # -- PHP inside WordPress
    def _run(self, script: Path, *, user: str | WPUser | int | None = None, admin: bool = False,
             installing: bool = False, json_out: bool = False, args: Any = None,
             timeout: float = 120) -> str:
        cmd = [_php(), *_php_ini(cli=True), str(RUNNER)]
        if installing:
            cmd.append("--installing")
        if admin:
            cmd.append("--admin")
        if user is not None:
            uid = user if isinstance(user, int) else self.user(user).user_id
            cmd.append(f"--user={uid}")
        if json_out:
            cmd.append("--json")
        cmd.append(str(script))
        env = {**os.environ, "BKNTC_WP_CONFIG": self.config_name,
               "BKNTC_WP_HOST": f"127.0.0.1:{self.port}"}
        env.pop("BKNTC_WP_ARGS", None)
        args_file: Path | None = None
        if args is not None:
            args_file = self._scratch(".json", json.dumps(args))
            env["BKNTC_WP_ARGS"] = str(args_file)
        try:
            done = subprocess.run(cmd, capture_output=True, env=env, timeout=timeout,
                                  cwd=self.root, check=False)
        finally:
            if args_file is not None:
                args_file.unlink(missing_ok=True)
        out = done.stdout.decode(errors="replace")
        err = done.stderr.decode(errors="replace")
        if done.returncode != 0 or "PHP Fatal error" in err or "PHP Parse error" in err:
            raise WordPressError(self.diag(
                f"PHP CLI {script.name} failed (exit {done.returncode})\n--- stdout ---\n"
                f"{out[-3000:]}\n--- stderr ---\n{err[-3000:]}"))
        return out

    def _scratch(self, suffix: str, content: str) -> Path:
        fd, name = tempfile.mkstemp(suffix=suffix, dir=self.root)
        with os.fdopen(fd, "w") as f:
            f.write(content)
        return Path(name)

    def _code_file(self, code: str) -> Path:
        code = code.strip()
        if code.startswith("<?php"):
            code = code[len("<?php"):]
        return self._scratch(".php", "<?php\n" + code + "\n")

    def php(self, code: str, *, user: str | WPUser | int | None = None,
            admin: bool = False) -> str:
        """Run PHP statements after wp-load.php (all plugins loaded, `init` fired) and return
        what they echo. `user` is the current user from the start (Booknetic's tenant and
        capabilities follow it); `admin=True` makes it an admin request (bkntc_backend fires).
        """
        script = self._code_file(code)
        try:
            return self._run(script, user=user, admin=admin)
        finally:
            script.unlink(missing_ok=True)

    def php_json(self, code: str, *, user: str | WPUser | int | None = None,
                 admin: bool = False) -> Any:
        """Like php(), but `code` ends with `return <value>;` and the value comes back decoded:
        `wp.php_json("return \\BookneticApp\\Providers\\Core\\Permission::tenantId();",
        user="tenant1")` → 1."""
        script = self._code_file(code)
        try:
            out = self._run(script, user=user, admin=admin, json_out=True)
        finally:
            script.unlink(missing_ok=True)
        if _JSON_MARKER not in out:
            raise WordPressError(self.diag(f"no JSON result from PHP:\n{out[-2000:]}"))
        return json.loads(out.rsplit(_JSON_MARKER, 1)[1])

    # -- options (straight SQL on wp_options: WordPress has no persistent object cache here)
    def get_option(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                text(f"SELECT option_value FROM {self.prefix}options WHERE option_name = :n"),
                {"n": name}).scalar()

    def set_option(self, name: str, value: Any) -> None:
        """A string is written as is (SQL); anything else through update_option() (serialized)."""
        if isinstance(value, str):
            sql_set_option(self.engine, self.prefix, name, value)
        else:
            self.php_json(f"return update_option({_php_literal(name)}, "
                          f"json_decode({_php_literal(json.dumps(value))}, true));")

    def delete_option(self, name: str) -> None:
        sql_delete_option(self.engine, self.prefix, name)

    # -- Booknetic's cron
    def backdate_cron_gate(self) -> None:
        """Make Booknetic's last cron run long past, so the next request's gate opens."""
        with self.engine.begin() as conn:
            conn.execute(text(
                f"INSERT INTO {self.prefix}options (option_name, option_value, autoload) "
                "VALUES (:n, :v, 'yes') ON DUPLICATE KEY UPDATE option_value = VALUES(option_value)"
            ), {"n": CRON_THROTTLE_OPTION, "v": CRON_BACKDATED})

    def fire_cron(self, *, via: str = "request", ran: Callable[[], bool] | None = None,
                  timeout: float = 60, attempts: int = 3) -> None:
        """Run Booknetic's cron as production does, and return once it ran.

        The gate is opened by back-dating `bkntc_cron_job_runned_on`, then `via="request"`
        makes one ordinary page view (Booknetic answers it and dispatches its loopback POST
        admin-ajax.php?action=wp_bkntc_background_process, which fires `bkntc_cronjob`) and
        `via="wp-cron"` GETs wp-cron.php (fires it inline). Waits until `ran()` is true — by
        default until the bridge recorded a tick (its option bkntc_sms_last_tick, deleted
        first: two ticks in one second would record the same value). The loopback is
        fire-and-forget (10 ms timeout, as Booknetic sends it),
        so if the gate was taken but `ran()` stays false for `timeout` seconds, the gate is
        back-dated and the request made again, at most `attempts` times."""
        if via not in ("request", "wp-cron"):
            raise ValueError(f"via must be 'request' or 'wp-cron', not {via!r}")
        if ran is None:
            self.delete_option(LAST_TICK_OPTION)

            def ran() -> bool:
                return self.get_option(LAST_TICK_OPTION) is not None

        url = f"{self.url}/" if via == "request" else f"{self.url}/wp-cron.php?doing_wp_cron"
        for _attempt in range(attempts):
            self.backdate_cron_gate()
            self.expect(requests.get(url, timeout=timeout))
            if self.get_option(CRON_THROTTLE_OPTION) == CRON_BACKDATED:
                raise WordPressError(self.diag(
                    f"GET {url} did not take Booknetic's cron gate - is booknetic/init.php "
                    "active?"))
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if ran():
                    return
                time.sleep(0.1)
        raise WordPressError(self.diag(
            f"Booknetic's cron did not run after {attempts} requests to {url}"))

    # -- lifecycle
    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        _LIVE.discard(self)
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.config_path.unlink(missing_ok=True)
        if self.licence is not None:
            self.licence.stop()
        if self._engine is not None:
            self._engine.dispose()
        with contextlib.suppress(Exception):
            if self.log_path.exists():
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(self.log_path, ARTIFACTS / f"{self.artifact_name}.log")
            if self.debug_log_path.exists():
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(self.debug_log_path,
                                ARTIFACTS / f"{self.artifact_name}.debug.log")
        with contextlib.suppress(Exception):
            self.mariadb.drop_database(self.db_name)
        shutil.rmtree(self.root, ignore_errors=True)


def _php() -> str:
    php = shutil.which("php") or "/usr/bin/php"
    if not os.path.exists(php):
        raise RuntimeError("php not found: install the Debian package php-cli")
    return php


def _php_ini(*, cli: bool) -> list[str]:
    """Errors to the log (stderr), never into output; compiled scripts cached on disk, shared
    by every CLI run and server (WordPress is ~3x cheaper to load from the CLI with it)."""
    cache = Path(tempfile.gettempdir()) / f"bkntc-php-opcache-{os.getuid()}"
    cache.mkdir(mode=0o700, exist_ok=True)
    ini = ["-d", "display_errors=0", "-d", "log_errors=1", "-d", f"opcache.file_cache={cache}"]
    if cli:
        ini += ["-d", "opcache.enable_cli=1", "-d", "opcache.file_cache_only=1"]
    return ini


def _stop_all_at_exit() -> None:
    for site in list(_LIVE):
        with contextlib.suppress(Exception):
            site.stop()


atexit.register(_stop_all_at_exit)


# -- building a site ------------------------------------------------------------------------


def _check_system() -> None:
    _php()
    if not (WORDPRESS / "wp-load.php").exists():
        raise RuntimeError(f"{WORDPRESS} has no WordPress: install the Debian package wordpress")
    if not WP_ETC.is_dir() or not os.access(WP_ETC, os.W_OK):
        raise RuntimeError(f"{WP_ETC} must exist and be writable (Debian's wp-config.php only "
                           "reads config files from there); run the tests as root")


FONTAWESOME_DIR = "bkntc-fontawesome"  # under wp-content/: Font Awesome 5.15.4's static files


def _fontawesome() -> Path:
    """Font Awesome 5.15.4 (the version Booknetic 5.2's layout links), from the PyPI package
    fontawesomefree==5.15.4 of the test extras."""
    import fontawesomefree

    static = Path(fontawesomefree.__file__).resolve().parent / "static" / "fontawesomefree"
    if not (static / "css" / "all.css").exists():
        raise RuntimeError(f"no css/all.css in {static}: pip install fontawesomefree==5.15.4")
    return static


def _make_content_dir(content: Path, extra_plugins: Mapping[str, Path],
                      link_bridge: bool = True) -> None:
    plugins = content / "plugins"
    themes = content / "themes"
    plugins.mkdir(parents=True)
    themes.mkdir()
    (content / "uploads").mkdir()
    (content / "mu-plugins").mkdir()
    for mu_plugin in sorted(MU_PLUGINS.glob("*.php")):
        (content / "mu-plugins" / mu_plugin.name).symlink_to(mu_plugin)
    (content / FONTAWESOME_DIR).symlink_to(_fontawesome())
    for standin in sorted(STANDINS.iterdir()):
        if standin.is_dir():
            (plugins / standin.name).symlink_to(standin)
    if link_bridge:  # else the test installs it, e.g. from the release zip
        (plugins / BRIDGE_SLUG).symlink_to(BRIDGE_DIR)  # the other engineer's plugin, as is
    for name, path in extra_plugins.items():
        (plugins / name).symlink_to(Path(path).resolve())
    (themes / THEME).symlink_to(WORDPRESS / "wp-content" / "themes" / THEME)


def _write_config(path: Path, *, db_name: str, host: str, port: int, user: str,
                  password: str, url: str, content: Path, disable_wp_cron: bool,
                  block_external_http: bool, wp_debug: bool, debug_log: Path,
                  fscode_api: str, extra_config: Mapping[str, Any]) -> None:
    values: dict[str, Any] = {
        "DB_NAME": db_name, "DB_USER": user, "DB_PASSWORD": password,
        "DB_HOST": f"{host}:{port}", "TABLE_PREFIX": PREFIX, "URL": url,
        "CONTENT_DIR": str(content), "DISABLE_WP_CRON": disable_wp_cron,
        "BLOCK_EXTERNAL": block_external_http, "WP_DEBUG": wp_debug,
        "WP_DEBUG_LOG": str(debug_log), "FSCODE_API": fscode_api,
        "FONTAWESOME_URL": f"{url}/wp-content/{FONTAWESOME_DIR}/css/all.css",
    }
    for key in ("AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT",
                "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"):
        values[key] = secrets.token_hex(32)
    body = CONFIG_TEMPLATE.read_text()
    for key, value in values.items():
        body = body.replace(f"'@@{key}@@'", _php_literal(value))
    extra = "\n".join(f"define( {_php_literal(k)}, {_php_literal(v)} );"
                      for k, v in extra_config.items())
    body = body.replace("/* @@EXTRA@@ */", extra)
    if "@@" in body:
        raise RuntimeError(f"unfilled placeholder in {CONFIG_TEMPLATE}")
    path.write_text(body)


def _wp_users(kind: str, ds: Dataset) -> list[dict[str, Any]]:
    """The users to create besides the admin: the data set's staff and tenant owners (same
    logins) and a subscriber. `sample_id` is the id the data set gave them."""
    staff_of = {s["user_id"]: s for s in ds.staff if s.get("user_id")}
    tenant_of = {t["user_id"]: t for t in ds.tenants}
    users = []
    for row in ds.users:
        if row["ID"] == 1:
            continue  # the data set's admin is WordPress's admin (id 1)
        if row["ID"] in tenant_of:
            role, tenant_id = TENANT_ROLE, tenant_of[row["ID"]]["id"]
        elif row["ID"] in staff_of:
            role, tenant_id = STAFF_ROLE, staff_of[row["ID"]].get("tenant_id")
        else:
            continue
        users.append({"login": row["user_login"], "email": row["user_email"],
                      "display_name": row["display_name"], "role": role,
                      "tenant_id": tenant_id if kind == "saas" else None,
                      "sample_id": row["ID"]})
    users.append({"login": SUBSCRIBER, "email": "subscriber@example.com",
                  "display_name": "Sam Subscriber", "role": "subscriber", "tenant_id": None,
                  "sample_id": None})
    for user in users:
        user["password"] = password_for(user["login"])
    return users


def _create_booknetic(engine: Engine, ds: Dataset) -> None:
    """Create the wp_bkntc_* tables of the data set's kind (not wp_options/wp_users: those are
    WordPress's) and insert the rows that do not point at WordPress users."""
    md = metadata_for(PREFIX, ds.kind)
    b = f"{PREFIX}bkntc_"
    md.create_all(engine, tables=[t for t in md.sorted_tables if t.name.startswith(b)])
    batches: list[tuple[str, list[dict[str, Any]]]] = [
        (f"{b}services", ds.services), (f"{b}locations", ds.locations),
        (f"{b}service_staff", ds.service_staff), (f"{b}customers", ds.customers),
        (f"{b}appointments", ds.appointments), (f"{b}workflow_logs", ds.workflow_logs),
    ]
    if ds.kind == "saas":
        batches.append((f"{b}plans", ds.plans))
    _insert(engine, md, batches)


def _insert(engine: Engine, md: Any, batches: list[tuple[str, list[dict[str, Any]]]]) -> None:
    with engine.begin() as conn:
        for name, rows in batches:
            for start in range(0, len(rows), 2000):
                conn.execute(md.tables[name].insert(), rows[start:start + 2000])


def _finish_booknetic(engine: Engine, ds: Dataset, user_ids: Mapping[int, int]) -> None:
    """Insert the staff and tenant rows with their `user_id` rewritten from the data set's
    ids to WordPress's (in `ds` too, and `ds.users[].ID`), and the data set's options except
    WordPress's own (siteurl, home, blogname, active_plugins)."""
    for row in [*ds.staff, *ds.tenants]:
        if row.get("user_id"):
            row["user_id"] = user_ids.get(row["user_id"], row["user_id"])
    for user in ds.users:
        user["ID"] = user_ids.get(user["ID"], user["ID"])
    md = metadata_for(PREFIX, ds.kind)
    b = f"{PREFIX}bkntc_"
    batches = [(f"{b}staff", ds.staff)]
    if ds.kind == "saas":
        batches.append((f"{b}tenants", ds.tenants))
    _insert(engine, md, batches)
    rows = [{"n": k, "v": v} for k, v in ds.options.items() if k not in _WP_OWN_OPTIONS]
    with engine.begin() as conn:
        conn.execute(text(
            f"INSERT INTO {PREFIX}options (option_name, option_value, autoload) "
            "VALUES (:n, :v, 'yes') ON DUPLICATE KEY UPDATE option_value = VALUES(option_value)"
        ), rows)


def _wait_for_server(site: WordPressSite, deadline: float) -> None:
    """Until php -S serves a static file of WordPress (no PHP involved)."""
    assert site.process is not None
    probe = f"{site.url}/wp-includes/images/blank.gif"
    while time.monotonic() < deadline:
        if site.process.poll() is not None:
            raise WordPressError(site.diag(f"php -S exited with {site.process.returncode}"))
        with contextlib.suppress(requests.RequestException):
            if requests.get(probe, timeout=2).status_code == 200:
                return
        time.sleep(0.05)
    raise WordPressError(site.diag("php -S did not start serving"))


def start_wordpress(
    mariadb: MariaDBServer,
    *,
    kind: str = "single",
    bridge: bool = True,
    link_bridge: bool = True,
    plugins: Sequence[str] | None = None,
    add_plugins: Sequence[str] = (),
    extra_plugins: Mapping[str, Path] | None = None,
    options: Mapping[str, Any] | None = None,
    sidecar_url: str | None = None,
    sidecar_url_option: str = SIDECAR_URL_OPTION,
    twilio: str = "configured",
    customers_per_tenant: int = 60,
    now: int | None = None,
    seed: int = 7,
    disable_wp_cron: bool = False,
    block_external_http: bool = True,
    wp_debug: bool = True,
    pretty_permalinks: bool = True,
    extra_config: Mapping[str, Any] | None = None,
    workers: int = 4,
    multisite_sites: int = 0,
    label: str = "wordpress",
) -> WordPressSite:
    """Stand up one WordPress site (see the module docstring) and return it running.

    kind: "single" | "saas" (sample data set and, for saas, booknetic-saas active).
    link_bridge: False leaves wp-content/plugins/bkntc-sms-bridge out (for a test that
        installs the plugin itself, from its zip); implies bridge=False.
    plugins: the exact plugin files to activate, in order; by default booknetic/init.php,
        booknetic-saas/init.php (saas), booknetic-workflow-twilio-sms/init.php (twilio
        "configured"/"unconfigured"), then `add_plugins`, then the bridge (if `bridge`).
    extra_plugins: more plugin folders to symlink, name → path (activate them via
        `add_plugins`/`plugins`).
    options: WordPress options set through update_option() before activation (values may be
        any JSON type); `sidecar_url` is stored under `sidecar_url_option`.
    twilio: the data set's Twilio mode (sidecar.sample_data.TWILIO_MODES).
    multisite_sites: N > 0 makes a subdirectory multisite network of N sites (plugins are
        activated on the main site).
    """
    if kind not in ("single", "saas"):
        raise ValueError(f"kind must be 'single' or 'saas', not {kind!r}")
    if twilio not in TWILIO_MODES:
        raise ValueError(f"twilio must be one of {TWILIO_MODES}")
    _check_system()
    started = time.monotonic()
    deadline = started + 120
    if plugins is None:
        plugins = [CORE_PLUGIN]
        if kind == "saas":
            plugins.append(SAAS_PLUGIN)
        if twilio in ("configured", "unconfigured"):
            plugins.append(TWILIO_PLUGIN)
        plugins += list(add_plugins)
        if bridge and link_bridge:
            plugins.append(BRIDGE_PLUGIN)
    plugins = list(plugins)

    root = Path(tempfile.mkdtemp(prefix=f"bkntc-wp-{kind}-"))
    port = free_port()
    config_name = f"bkntc-test-{uuid.uuid4().hex[:12]}"
    db_name = mariadb.create_database("wp")
    site = WordPressSite(
        kind=kind, url=f"http://127.0.0.1:{port}", port=port, db_name=db_name,
        db_url=mariadb.url(db_name), prefix=PREFIX, config_name=config_name,
        config_path=WP_ETC / f"config-{config_name}.php", root=root, mariadb=mariadb,
        artifact_name=re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{label}-{kind}"),
    )
    _LIVE.add(site)
    try:
        for plugin in plugins:
            if plugin == BRIDGE_PLUGIN and not (BRIDGE_DIR / f"{BRIDGE_SLUG}.php").exists():
                raise RuntimeError(f"{BRIDGE_DIR}/{BRIDGE_SLUG}.php does not exist yet: pass "
                                   "bridge=False to start WordPress without the bridge")
        _make_content_dir(site.content_dir, extra_plugins or {}, link_bridge)
        site.licence = LicenceStub()
        # mysqli takes "localhost" as "use the Unix socket" and ignores the port
        db_host = "127.0.0.1" if mariadb.host in ("localhost", "") else mariadb.host

        def write_config(extra: Mapping[str, Any]) -> None:
            assert site.licence is not None
            _write_config(site.config_path, db_name=db_name, host=db_host, port=mariadb.port,
                          user=mariadb.user, password=mariadb.password, url=site.url,
                          content=site.content_dir, disable_wp_cron=disable_wp_cron,
                          block_external_http=block_external_http, wp_debug=wp_debug,
                          debug_log=site.debug_log_path, fscode_api=site.licence.url,
                          extra_config={**(extra_config or {}), **extra})

        write_config({})

        # 1. WordPress itself with its roles and users (PHP CLI), while Booknetic's tables
        #    are created and filled alongside (they do not depend on WordPress's tables)
        t = time.monotonic()
        ds = make_dataset(kind, int(now if now is not None else time.time()),
                          customers_per_tenant=customers_per_tenant, twilio=twilio, seed=seed)
        wanted = _wp_users(kind, ds)
        roles = {STAFF_ROLE: "Booknetic Staff"}
        if kind == "saas":
            roles[TENANT_ROLE] = "Booknetic SaaS Tenant"
        install_args = {
            "title": f"Booknetic {kind} test site",
            "admin": {"login": ADMIN, "email": "admin@example.com",
                      "password": password_for(ADMIN)},
            "roles": roles,
            "users": [{k: u[k] for k in ("login", "email", "display_name", "role", "password")}
                      for u in wanted],
            "permalink_structure": "/%postname%/" if pretty_permalinks else "",
        }
        with ThreadPoolExecutor(max_workers=1) as pool:
            install = pool.submit(site._run, HARNESS / "setup" / "install.php",
                                  installing=True, json_out=True, args=install_args)
            _create_booknetic(site.engine, ds)
            site.timings["booknetic_tables"] = time.monotonic() - t
            out = install.result()
        ids: dict[str, int] = json.loads(out.rsplit(_JSON_MARKER, 1)[1])["users"]
        site.timings["install"] = time.monotonic() - t
        site.users[ADMIN] = WPUser(ADMIN, password_for(ADMIN), "administrator", ids[ADMIN],
                                   None, "admin@example.com", "Site Admin")
        for u in wanted:
            site.users[u["login"]] = WPUser(u["login"], u["password"], u["role"],
                                            ids[u["login"]], u["tenant_id"], u["email"],
                                            u["display_name"])

        if multisite_sites > 0:
            _make_network(site, multisite_sites, write_config)

        # 2. Booknetic rows that point at WordPress users, and the data set's options
        t = time.monotonic()
        _finish_booknetic(site.engine, ds,
                          {u["sample_id"]: ids[u["login"]] for u in wanted if u["sample_id"]})
        site.dataset = ds
        site.timings["booknetic_rows"] = time.monotonic() - t

        # 3. options and plugins, through WordPress
        t = time.monotonic()
        all_options = dict(options or {})
        if sidecar_url is not None:
            all_options[sidecar_url_option] = sidecar_url
        out = site._run(HARNESS / "setup" / "finalize.php", json_out=True,
                        args={"options": all_options or {}, "plugins": plugins})
        site.active_plugins = json.loads(out.rsplit(_JSON_MARKER, 1)[1])["active_plugins"]
        site.timings["activate"] = time.monotonic() - t

        # 4. the web server
        t = time.monotonic()
        env = {**os.environ, "PHP_CLI_SERVER_WORKERS": str(workers),
               "BKNTC_WP_CONFIG": config_name, "BKNTC_WP_CONTENT_DIR": str(site.content_dir)}
        with open(site.log_path, "ab") as log:
            site.process = subprocess.Popen(
                [_php(), *_php_ini(cli=False), "-S", f"127.0.0.1:{port}", "-t", str(WORDPRESS),
                 str(ROUTER)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                cwd=root, start_new_session=True,
            )
        _wait_for_server(site, deadline)
        site.timings["server"] = time.monotonic() - t
        site.timings["total"] = time.monotonic() - started
        return site
    except BaseException:
        site.stop()
        raise


def _make_network(site: WordPressSite, count: int,
                  write_config: Callable[[Mapping[str, Any]], None]) -> None:
    """Turn the fresh install into a subdirectory network of `count` sites."""
    domain = f"127.0.0.1:{site.port}"
    site._run(HARNESS / "setup" / "network.php", installing=True, json_out=True,
              args={"domain": domain, "email": "admin@example.com", "title": "Network"})
    write_config({"MULTISITE": True, "SUBDOMAIN_INSTALL": False,
                  "DOMAIN_CURRENT_SITE": domain, "PATH_CURRENT_SITE": "/",
                  "SITE_ID_CURRENT_SITE": 1, "BLOG_ID_CURRENT_SITE": 1})
    out = site._run(HARNESS / "setup" / "sites.php", json_out=True,
                    args={"domain": domain, "sites": count})
    site.sites = json.loads(out.rsplit(_JSON_MARKER, 1)[1])["sites"]


def wordpress_fixture(*, scope: str = "module", name: str | None = None,
                      **params: Any) -> Any:
    """A pytest fixture (module-scoped by default) yielding a running `WordPressSite`:

        wp = wordpress_fixture(kind="saas", sidecar_url="http://127.0.0.1:8123")

    `params` are `start_wordpress`'s keyword arguments. The fixture's name is the variable
    it is assigned to (or `name`). The php -S log is copied to
    test-artifacts/wordpress/<label>-<kind>.log (label defaults to the test module's name).
    """

    def _site(mariadb: MariaDBServer, request: pytest.FixtureRequest) -> Iterator[WordPressSite]:
        kwargs = dict(params)
        kwargs.setdefault("label", request.node.name.removesuffix(".py"))
        site = start_wordpress(mariadb, **kwargs)
        failed_before = request.session.testsfailed
        try:
            yield site
        finally:
            if request.session.testsfailed > failed_before:
                print(site.diag(f"WordPress site {site.url} ({site.kind}) at teardown"))
            site.stop()

    return pytest.fixture(scope=scope, name=name)(_site) if name else \
        pytest.fixture(scope=scope)(_site)
