"""Helpers for bench/send: database set-up, the fake Twilio process, worker runs, baselines.

Kept apart from bench/_common.py (another benchmark's helpers) on purpose: bench/send only
needs a server, customers with valid numbers, the Twilio add-on options, a separate fake
Twilio process and a way to run `python -m sidecar tick` as a measured child process.

Run as a script (`python bench/_send_support.py profile-worker OUT.json`) it is the
profiling wrapper of a worker: it runs `bkntc-sms tick` in-process with per-phase timers
(and optionally cProfile in every thread) and writes what it saw to OUT.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

# Re-exported: bench/send prints its tables with it (shared with bench/segments, bench/web).
from _common import format_table, valid_prefixes  # noqa: E402, F401

PREFIX = "wp_"
SENDER = "+15005550006"  # Twilio's magic valid "From" test number
ENV_URL = "BKNTC_SMS_BENCH_DATABASE_URL"
FIRST = ("Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Zoë",
         "José", "Aisha", "Chen", "Fatima", "Hiro", "Ingrid", "Priya", "Omar", "Sofía")
LAST = ("Smith", "Johnson", "Garcia", "Miller", "Davis", "Hernández", "Lee", "Nguyễn",
        "O'Brien", "Kowalski", "Müller", "Rossi", "Kim", "Patel", "Haddad", "Sato")
INSERT_CHUNK = 5000

# --------------------------------------------------------------------------- output


def say(text: str = "") -> None:
    print(text, flush=True)


def load() -> str:
    """The machine's load average: other work on a shared 2-CPU box skews every figure."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min)"


# --------------------------------------------------------------------------- database


class Server:
    """The MariaDB server for the whole run: a throwaway mariadbd, or ENV_URL's server."""

    def __init__(self) -> None:
        from sqlalchemy.engine import make_url

        from sidecar.sample_data.throwaway_mariadb import MariaDBServer, start_mariadb

        given = os.environ.get(ENV_URL)
        if given:
            base = make_url(given).set(database=None).render_as_string(hide_password=False)
            self.server = MariaDBServer(base)
            self.own = False
        else:
            self.server = start_mariadb()
            self.own = True
        self.databases: list[str] = []

    def describe(self) -> str:
        with self.server.connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            row = cur.fetchone()
        version = row[0] if row else "?"
        where = "throwaway mariadbd" if self.own else f"{ENV_URL} server"
        return f"MariaDB {version} ({where} at {self.server.host}:{self.server.port})"

    def new_database(self) -> str:
        name = self.server.create_database("bench_send")
        self.databases.append(name)
        return name

    def url(self, name: str) -> str:
        return str(self.server.url(name))

    def close(self) -> None:
        if self.own:
            self.server.stop()
            return
        for name in self.databases:
            with contextlib.suppress(Exception):
                self.server.drop_database(name)


def make_phones(n: int, seed: int = 7) -> list[str]:
    """`n` distinct valid E.164 US numbers; a sample is checked with normalise_phone."""
    from sidecar.phones import normalise_phone

    rng = random.Random(seed)
    prefixes = valid_prefixes()
    seen: set[str] = set()
    phones: list[str] = []
    while len(phones) < n:
        phone = f"+1{rng.choice(prefixes)}{rng.randrange(10000):04d}"
        if phone not in seen:
            seen.add(phone)
            phones.append(phone)
    for phone in rng.sample(phones, min(2000, n)):
        if normalise_phone(phone) != phone:
            raise RuntimeError(f"generated an invalid number: {phone}")
    return phones


@dataclass
class Shop:
    """A fresh WordPress database with Booknetic, N customers and the Twilio add-on."""

    database: str
    url: str
    phones: list[str]
    account_sid: str
    auth_token: str
    seconds: dict[str, float] = field(default_factory=dict)


def build_shop(server: Server, n_customers: int, seed: int = 7) -> Shop:
    from sidecar.db import make_engine
    from sidecar.sample_data import (
        CORE_PLUGIN,
        TWILIO_PLUGIN,
        create_tables,
        php_serialize_list,
        set_option,
    )
    from sidecar.schema import migrate

    seconds: dict[str, float] = {}
    start = time.perf_counter()
    phones = make_phones(n_customers, seed)
    seconds["phones"] = time.perf_counter() - start

    name = server.new_database()
    url = server.url(name)
    engine = make_engine(url)
    try:
        create_tables(engine, PREFIX, "single")
        rng = random.Random(seed)
        created = datetime(2024, 1, 1, tzinfo=UTC).replace(tzinfo=None)
        rows = [(i, rng.choice(FIRST), rng.choice(LAST), phone, 1, created)
                for i, phone in enumerate(phones, start=1)]
        start = time.perf_counter()
        sql = (f"INSERT INTO `{PREFIX}bkntc_customers` "
               "(id, first_name, last_name, phone_number, created_by, created_at) "
               "VALUES (%s, %s, %s, %s, %s, %s)")
        with server.server.connect(name) as conn, conn.cursor() as cur:
            conn.begin()
            for i in range(0, len(rows), INSERT_CHUNK):
                cur.executemany(sql, rows[i:i + INSERT_CHUNK])  # PyMySQL: multi-row INSERTs
            conn.commit()
        seconds["insert customers"] = time.perf_counter() - start

        account_sid = "AC" + secrets.token_hex(16)
        auth_token = secrets.token_hex(16)
        for option, value in (
            ("active_plugins", php_serialize_list([CORE_PLUGIN, TWILIO_PLUGIN])),
            ("bkntc_plugin_version", "4.4.1"),
            ("bkntc_sms_account_sid", account_sid),
            ("bkntc_sms_auth_token", auth_token),
            ("bkntc_sender_phone_number", SENDER),
        ):
            set_option(engine, PREFIX, option, value)
        start = time.perf_counter()
        migrate(engine, PREFIX)
        seconds["migrate"] = time.perf_counter() - start
    finally:
        engine.dispose()
    return Shop(name, url, phones, account_sid, auth_token, seconds)


# --------------------------------------------------------------------------- fake Twilio


class FakeProcess:
    """`python -m sidecar.providers.fake_twilio` as its own process (its own GIL)."""

    def __init__(self, account_sid: str, auth_token: str, latency: float = 0.0) -> None:
        self.account_sid, self.auth_token, self.latency = account_sid, auth_token, latency
        fd, self._log = tempfile.mkstemp(prefix="bench-fake-twilio-", suffix=".log")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sidecar.providers.fake_twilio", "--port", "0",
                 "--account-sid", account_sid, "--auth-token", auth_token,
                 "--latency", str(latency)],
                cwd=ROOT, env=_child_env({}), stdout=subprocess.PIPE, stderr=fd, text=True)
        finally:
            os.close(fd)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.startswith("http"):
            self.stop(keep_log=True)
            log = Path(self._log).read_text(errors="replace")[-2000:]
            os.unlink(self._log)
            raise RuntimeError(f"fake Twilio did not start: {line!r} {log}")
        self.base_url = line

    def client(self) -> Any:
        return twilio_client(self.base_url, self.account_sid, self.auth_token)

    def messages(self) -> list[tuple[str, str, datetime]]:
        """(to, body, date_created) of every message the fake holds, via the list endpoint."""
        return [(str(m.to), str(m.body), m.date_created)
                for m in self.client().messages.stream(page_size=1000)]

    def stop(self, *, keep_log: bool = False) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        if not keep_log:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._log)

    def __enter__(self) -> FakeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def twilio_client(base_url: str, account_sid: str, auth_token: str) -> Any:
    """The official client, re-pointed at the fake exactly as the engine does it."""
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=15),
                    environment={"BKNTC_SMS": "1"})
    client.api.base_url = base_url
    return client


@dataclass(frozen=True)
class BareRun:
    seconds: float
    cpu: float  # this process (the loop's threads)
    fake_cpu: float
    foreign_cpu: float  # the rest of the machine meanwhile (mariadbd included: idle here)


def bare_loop(fake: FakeProcess, phones: Sequence[str], threads: int, body: str) -> BareRun:
    """`client.messages.create` to every phone, on `threads` threads, timed.

    Each thread has its own Client (requests.Session), as the engine's provider does; the
    clock runs from a common start (after the clients exist) to the last answer.
    """
    chunks = [list(phones[i::threads]) for i in range(threads)]
    ready = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def work(chunk: list[str]) -> None:
        client = fake.client()
        create = client.messages.create
        ready.wait()
        try:
            for to in chunk:
                create(to=to, from_=SENDER, body=body)
        except BaseException as exc:  # reported after the run
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(c,), daemon=True) for c in chunks]
    for t in workers:
        t.start()
    ready.wait()
    busy, fake_cpu, own = machine_busy(), process_cpu(fake.process.pid), time.process_time()
    start = time.perf_counter()
    for t in workers:
        t.join()
    seconds = time.perf_counter() - start
    own = time.process_time() - own
    fake_cpu = process_cpu(fake.process.pid) - fake_cpu
    foreign = machine_busy() - busy - own - fake_cpu
    if errors:
        raise RuntimeError(f"bare loop failed: {errors[0]!r}")
    return BareRun(seconds, own, fake_cpu, foreign)


# --------------------------------------------------------------------------- campaigns


def create_and_send(url: str, base_url: str, name: str, body: str) -> tuple[int, int, float]:
    """Create a campaign on all_with_phone and snapshot it; (id, recipients, seconds)."""
    from sidecar.config import Settings
    from sidecar.runtime import Runtime

    runtime = Runtime.build(Settings.from_env({"BKNTC_SMS_DATABASE_URL": url,
                                               "BKNTC_SMS_TWILIO_BASE_URL": base_url}))
    # The real clock: quiet hours (on by default) would hold the messages at night.
    runtime.tenant_settings.update(None, {"quiet_hours": None})
    try:
        campaign = runtime.campaigns.create(None, {"name": name, "body": body,
                                                   "segment": "all_with_phone",
                                                   "filters": {}})
        start = time.perf_counter()
        sent = runtime.campaigns.send(None, int(campaign["id"]))
        seconds = time.perf_counter() - start
    finally:
        runtime.close()
    if sent["status"] != "queued":
        raise RuntimeError(f"campaign not queued: {sent['status']} {sent['status_reason']}")
    return int(sent["id"]), int(sent["total"]), seconds


def delete_campaign(url: str, base_url: str, campaign_id: int) -> None:
    """Delete a finished campaign and its recipient rows (the product's own delete)."""
    from sidecar.config import Settings
    from sidecar.runtime import Runtime

    runtime = Runtime.build(Settings.from_env({"BKNTC_SMS_DATABASE_URL": url,
                                               "BKNTC_SMS_TWILIO_BASE_URL": base_url}),
                            auto_migrate=False)
    try:
        runtime.campaigns.delete(None, campaign_id)
    finally:
        runtime.close()


def campaign_row(url: str, campaign_id: int) -> dict[str, Any]:
    from sqlalchemy import text

    from sidecar.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text(
                f"SELECT status, status_reason, total, sent, failed, pending "
                f"FROM {PREFIX}bkntc_sms_campaigns WHERE id = :id"), {"id": campaign_id}
            ).mappings().first()
    finally:
        engine.dispose()
    assert row is not None
    return dict(row)


# --------------------------------------------------------------------------- worker runs


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BKNTC_SMS_")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    env.update(extra)
    return env


def worker_env(shop: Shop, base_url: str, *, concurrency: int, rate: float) -> dict[str, str]:
    return {"BKNTC_SMS_DATABASE_URL": shop.url, "BKNTC_SMS_TWILIO_BASE_URL": base_url,
            "BKNTC_SMS_SEND_CONCURRENCY": str(concurrency),
            "BKNTC_SMS_RATE_PER_SECOND": f"{rate:g}"}


@dataclass
class WorkerRun:
    """One `python -m sidecar tick` child: wall time, peak RSS and progress samples."""

    wall: float
    returncode: int
    maxrss_mb: float
    cpu_seconds: float
    stdout: str
    stderr: str
    # (seconds since spawn, sent, failed, status) read from the campaign row every ~20 ms
    samples: list[tuple[float, int, int, str]]
    # CPU seconds other processes (the fake, mariadbd) used while this one ran
    others_cpu: dict[str, float] = field(default_factory=dict)
    # CPU seconds the rest of the machine used meanwhile (not ours: other work on the box)
    foreign_cpu: float = float("nan")

    def window(self) -> tuple[float, int, float, float] | None:
        """(seconds, messages, t_first, t_done) from the first recorded batch to the last.

        The campaign's counters move once per recorded batch, so this is the sustained rate
        between the first batch landing and the campaign being complete, read every ~20 ms.
        """
        first = next((s for s in self.samples if s[1] + s[2] > 0), None)
        last = next((s for s in self.samples if s[3] in ("completed", "failed")), None)
        if first is None or last is None or last[0] <= first[0]:
            return None
        done = last[1] + last[2] - (first[1] + first[2])
        return last[0] - first[0], done, first[0], last[0]

    def rate_between(self, total: int, low: float, high: float) -> float:
        """Messages/second while the campaign went from `low` to `high` (fractions) done."""
        def when(fraction: float) -> tuple[float, int] | None:
            goal = max(fraction * total, 1)  # 0 %: the first recorded batch
            return next(((t, sent + failed) for t, sent, failed, _ in self.samples
                         if sent + failed >= goal), None)

        a, b = when(low), when(high)
        if a is None or b is None or b[0] <= a[0]:
            return float("nan")
        return (b[1] - a[1]) / (b[0] - a[0])


def run_worker(command: Sequence[str], env: dict[str, str], *, poll_url: str | None = None,
               campaign_id: int | None = None, timeout: float = 3600.0,
               others: dict[str, int | None] | None = None) -> WorkerRun:
    """Run one child process and measure it.

    Peak RSS: the command is started by a tiny launcher (`python -S`, ~10 MB) that forks,
    execs it and reads wait4()'s ru_maxrss of exactly that child. Linux carries the RSS
    high-water mark of the pre-exec (forked) image into ru_maxrss, so a child forked
    straight from this big benchmark process would report at least the benchmark's own RSS;
    from the launcher it is max(launcher, command) = the command's peak.
    """
    samples: list[tuple[float, int, int, str]] = []
    stop = threading.Event()
    poller: threading.Thread | None = None
    watched = {name: pid for name, pid in (others or {}).items() if pid is not None}
    cpu_before = {name: process_cpu(pid) for name, pid in watched.items()}
    busy_before, self_before = machine_busy(), time.process_time()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".maxrss") as maxrss:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-S", "-c", _LAUNCHER, maxrss.name,
                                 *command], cwd=ROOT, env=_child_env(env), stdout=out,
                                stderr=err, start_new_session=True)
        if poll_url is not None and campaign_id is not None:
            poller = threading.Thread(target=_poll_progress,
                                      args=(poll_url, campaign_id, start, samples, stop),
                                      daemon=True)
            poller.start()
        killer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        killer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        if poller is not None:
            poller.join()
        out.seek(0)
        err.seek(0)
        peak_kb = int(maxrss.read().strip() or 0)
        others_cpu = {name: process_cpu(pid) - cpu_before[name] for name, pid in watched.items()}
        cpu = usage.ru_utime + usage.ru_stime
        foreign = (machine_busy() - busy_before - cpu - sum(others_cpu.values())
                   - (time.process_time() - self_before))
        return WorkerRun(wall, proc.returncode, peak_kb / 1024, cpu,
                         out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                         samples, others_cpu, foreign)


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all CPUs), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# argv: [-c, MAXRSS_FILE, command...]; exits with the command's exit code.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execv(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _poll_progress(url: str, campaign_id: int, start: float,
                   samples: list[tuple[float, int, int, str]], stop: threading.Event) -> None:
    import pymysql
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conn = pymysql.connect(host=u.host, port=u.port or 3306, user=u.username,
                           password=u.password or "", database=u.database, autocommit=True)
    sql = (f"SELECT sent, failed, status FROM {PREFIX}bkntc_sms_campaigns "
           f"WHERE id = {int(campaign_id)}")
    try:
        with conn.cursor() as cur:
            while True:
                finished = stop.is_set()  # one last read after the child exited
                cur.execute(sql)
                row = cur.fetchone()
                if row is not None:
                    samples.append((time.perf_counter() - start, int(row[0]), int(row[1]),
                                    str(row[2])))
                if finished or (row is not None and row[2] in ("completed", "failed")):
                    break
                time.sleep(0.02)
    finally:
        conn.close()


def tick_command() -> list[str]:
    return [sys.executable, "-m", "sidecar", "tick"]


def profile_command(out_json: str, *, cprofile: bool) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "profile-worker", out_json,
            *(["--cprofile"] if cprofile else [])]


# --------------------------------------------------------------------------- fake-side timing


@dataclass(frozen=True)
class FakeTiming:
    messages: int
    distinct_to: int
    first: datetime
    last: datetime
    interior_rate: float | None  # messages per second over the whole seconds in between

    @property
    def span(self) -> float:
        return (self.last - self.first).total_seconds()

    @property
    def rate(self) -> float:
        """(messages - 1) / (last - first): date_created has 1-second resolution."""
        return (self.messages - 1) / self.span if self.span > 0 else float("nan")


def fake_timing(messages: Sequence[tuple[str, str, datetime]],
                keep: Callable[[str], bool]) -> FakeTiming:
    chosen = [(to, when) for to, body, when in messages if keep(body)]
    if not chosen:
        raise RuntimeError("the fake received none of the campaign's messages")
    stamps = sorted(int(when.timestamp()) for _to, when in chosen)
    first, last = stamps[0], stamps[-1]
    interior: float | None = None
    if last - first >= 3:  # drop the partial first and last seconds
        inside = sum(1 for s in stamps if first < s < last)
        interior = inside / (last - first - 1)
    return FakeTiming(len(chosen), len({to for to, _ in chosen}),
                      datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(last, UTC),
                      interior)


# --------------------------------------------------------------------------- profiling child


class _Timers:
    """Wall and CPU seconds (time.thread_time) and calls per phase, summed over threads.

    Under a saturated GIL wall time includes waiting for the GIL; thread CPU time does not,
    so the CPU column is what each phase really costs the process.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.data: dict[str, list[float]] = {}

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                cpu = time.thread_time() - cpu
                wall = time.perf_counter() - wall
                with self.lock:
                    entry = self.data.setdefault(label, [0.0, 0.0, 0])
                    entry[0] += wall
                    entry[1] += cpu
                    entry[2] += 1

        setattr(owner, name, timed)


def _profile_worker(out_json: str, use_cprofile: bool) -> int:
    """`bkntc-sms tick` in this process, with timers around each phase of a batch."""
    import cProfile
    import io
    import pstats

    from sidecar import cli
    from sidecar.outbox import batches, gate, queue, recipient_rows
    from sidecar.providers import twilio

    timers = _Timers()
    for name in ("_load_campaign", "_finish_if_done"):
        timers.wrap(queue.Outbox, name, f"Outbox.{name}")
    for name in ("process", "_attempt"):
        timers.wrap(batches.BatchSender, name, f"BatchSender.{name}")
    timers.wrap(batches, "_log_result", "batches._log_result")
    timers.wrap(gate.SendGate, "may_send", "SendGate.may_send")
    for name in ("claim", "record"):
        timers.wrap(recipient_rows.RecipientRows, name, f"RecipientRows.{name}")
    timers.wrap(twilio.TwilioProvider, "send", "TwilioProvider.send")
    timers.wrap(batches, "render", "sms_text.render")

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    sql: dict[str, list[float]] = {}
    sql_lock = threading.Lock()
    local = threading.local()

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        local.sql_start = (time.perf_counter(), time.thread_time())

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        wall0, cpu0 = local.sql_start
        key = " ".join(statement.split())[:70]
        with sql_lock:
            entry = sql.setdefault(key, [0.0, 0.0, 0])
            entry[0] += time.perf_counter() - wall0
            entry[1] += time.thread_time() - cpu0
            entry[2] += 1

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)

    profiles: list[cProfile.Profile] = []
    if use_cprofile:
        def start_profile(*_args: Any) -> None:
            # First event in a new thread: swap this hook for a real profiler of its own.
            sys.setprofile(None)
            profile = cProfile.Profile()
            profiles.append(profile)
            profile.enable()

        threading.setprofile(start_profile)
    started, cpu = time.perf_counter(), time.process_time()
    code = cli.main(["tick"])
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    result: dict[str, Any] = {"wall": wall, "cpu": cpu, "code": code,
                              "timers": {k: v for k, v in sorted(timers.data.items())},
                              "sql": sql}
    if profiles:
        stream = io.StringIO()
        stats = pstats.Stats(profiles[0], stream=stream)
        for profile in profiles[1:]:
            stats.add(profile)
        stats.sort_stats("tottime").print_stats(25)
        result["cprofile_tottime"] = stream.getvalue()
        stream.truncate(0)
        stream.seek(0)
        stats.sort_stats("cumulative").print_stats(30)
        result["cprofile_cumulative"] = stream.getvalue()
        stream.truncate(0)
        stream.seek(0)
        stats.print_callers("set_default_verify_paths|posix.stat|thread.lock' objects")
        result["cprofile_callers"] = stream.getvalue()
    Path(out_json).write_text(json.dumps(result))
    return code


@contextlib.contextmanager
def temp_json() -> Iterator[str]:
    fd, path = tempfile.mkstemp(prefix="bench-send-", suffix=".json")
    os.close(fd)
    try:
        yield path
    finally:
        os.unlink(path)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "profile-worker":
        raise SystemExit(_profile_worker(sys.argv[2], "--cprofile" in sys.argv[3:]))
    raise SystemExit("usage: _send_support.py profile-worker OUT.json [--cprofile]")
