"""Generated garbage at every route never gets a 5xx and never writes (Hypothesis).

Every route the app serves — JSON API, bridge endpoints, pages, static files; GET and
writes — gets requests built from garbage: JSON of any shape (nested thousands deep, not
JSON at all, NaN, 1e400), huge and negative numbers, odd Unicode (lone surrogates, NUL,
right-to-left marks, full-width digits), odd query strings and ids in the path that cannot
exist. Each request is signed correctly and carries the right CSRF token, so the garbage
reaches the handlers (a 401 or 403 fails the test: it would mean the garbage was stopped
at the door and tested nothing).

"Garbage never writes" is what is checked, by construction: every write is built so that
it cannot be valid — a field the route requires holds a value that no validator accepts
(`POISONED`), and routes that act on an id without reading a body (send, pause, delete, …)
only get ids no row has. So after every single request each table must be exactly as
before: every `bkntc_sms_*` table but the nonces (each signed request stores its nonce:
that is the replay protection working) and every Booknetic/WordPress table, compared by
CHECKSUM TABLE, and the fake Twilio has received nothing.

Twilio's webhooks (`Endpoint.webhook`) get garbage form bodies whose MessageSid (status) is
never a message id and whose From (inbound) is never a phone number, each signed by "Twilio"
over exactly the fields the app will parse, so it too reaches the handler; the contract
answers those 204 or 200 with empty TwiML (ignored), and nothing may change.

Deterministic and bounded for a busy CI machine: derandomize=True (the same examples every
run), no deadline, no example database, MAX_EXAMPLES per route plus the KNOWN_CASES that
answered 500 before. About 35 s for ~950 requests on the shared 2-core machine under load,
so it is marked slow: CI runs it, the fast loop leaves it out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pymysql
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder

from tests.conftest import MariaDBServer
from tests.security_support import ALL, ENDPOINTS, Endpoint
from tests.web_support import NO_BODY, Reply, Signed, Web, web_fixture
from tests.webhook_support import FORM, public_url, twilio_signed

MAX_EXAMPLES = 20
SETTINGS = settings(derandomize=True, deadline=None, database=None, max_examples=MAX_EXAMPLES,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Routes that take no input a caller could garble: the unsigned health check and metrics
# (loopback only: tests/test_metrics.py), and the cron tick (no body, no query, no id; its
# one effect is a queue run, tested elsewhere).
NO_INPUT = {("GET", "/healthz"), ("GET", "/metrics"), ("POST", "/bridge/tick")}
STATIC = Endpoint("GET", "/static/{id}", (), 200, target="static")

# For each route that writes from its body: fields it requires, each refused whatever
# non-text value (or text with a lone surrogate) it holds. One of them is always poisoned.
POISONED: dict[str, tuple[str, ...]] = {
    "POST /api/v1/campaigns": ("name", "segment", "body"),
    "PUT /api/v1/campaigns/<id>": ("name", "segment", "body"),
    "POST /api/v1/segments/preview": ("segment",),  # reads only, but refreshes the phones
    "POST /api/v1/templates": ("name", "body"),
    "PUT /api/v1/templates/<id>": ("name", "body"),
    "POST /api/v1/suppressions": ("phone",),
    "POST /api/v1/suppressions/bulk": ("numbers",),
    "POST /api/v1/sms/test": ("phone", "body"),
    "POST /api/v1/sms/send": ("body",),
    # Every setting may be null or an object, so only one is poisoned, with neither.
    "PUT /api/v1/settings": ("quiet_hours",),
    "POST /api/v1/campaigns/<id>/schedule": ("send_at",),
    "POST /twilio/status": ("MessageSid",),  # never a message id: the callback is ignored
    "POST /twilio/inbound": ("From",),  # never a phone number (WEBHOOK_POISON): ignored
}
# Fields that accept null or an object: their poison is everything else.
NULLABLE_OBJECTS = frozenset({"quiet_hours"})
# A poisoned webhook field holds text (a form has nothing else) that cannot be valid.
WEBHOOK_POISON = {"From": lambda text: not text.strip().startswith("+")}
FIELDS = sorted({"name", "segment", "body", "filters", "template_id", "service_ids",
                 "location_ids", "statuses", "min_appointments", "exclude_suppressed",
                 "exclude_upcoming_days",
                 "limit", "phone", "reason", "numbers", "skip_invalid", "customer_ids",
                 "page", "per_page", "status", "q", "progress", "holdout_percent"})


# -- garbage -------------------------------------------------------------------------------

ODD_TEXT = ["", " ", "\x00", "\ud800", "\udfff", "a\udc80b", "😀", "\u202e", "\uff21\uff11", "١٢٣",
            "\r\n\t", "%00", "' OR 1=1 -- ", "<script>x</script>", "{customer_first_name}",
            "{nope}", "9" * 40, "-1", "1e400", "NaN", "0x10", "+12025550100", "null",
            "true", "[]", "{}", "\\", '"', "repeat", "draft", "all_with_phone", "x" * 600]
BIG_NUMBERS = [0, -1, 1, 2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64, 2**70, -(2**70),
               10**30, 10**4300 - 1]

odd_text = st.one_of(
    st.sampled_from(ODD_TEXT),
    st.text(max_size=30),
    st.text(st.characters(categories=["Cs", "Cc", "Cf", "Zs", "Nd", "So", "Mn"]), max_size=12),
)
numbers = st.one_of(st.sampled_from(BIG_NUMBERS), st.integers(),
                    st.integers(min_value=2**31 - 3, max_value=2**31 + 3),
                    st.floats(allow_nan=False, allow_infinity=False),  # NaN: raw_garbage
                    st.integers(max_value=-1))
scalars = st.one_of(st.none(), st.booleans(), numbers, odd_text)
keys = st.one_of(st.sampled_from(FIELDS), odd_text)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner,
                                                                          max_size=4),
    max_leaves=12)
# What no required field accepts: anything but text, or text with a lone surrogate.
poison = st.one_of(st.none(), st.booleans(), numbers, st.lists(json_values, max_size=3),
                   st.dictionaries(keys, json_values, max_size=3),
                   odd_text.map(lambda text: text + "\ud800"))


def _dumps(value: Any) -> bytes:
    # NaN/Infinity come out as the non-JSON tokens Python's parser accepts; surrogates as
    # \ud800 escapes, which is how a client can send them at all.
    return json.dumps(value).encode()


def _deep(depth: int, shape: str) -> bytes:
    if shape == "list":
        return b"[" * depth + b"]" * depth
    return b'{"filters":' * depth + b"{}" + b"}" * depth


raw_garbage = st.one_of(
    st.binary(max_size=40),
    st.builds(_deep, st.integers(min_value=20, max_value=6000),
              st.sampled_from(["list", "object"])),
    st.sampled_from([b"", b"{", b"}", b"null", b'"x"', b"[]", b'{"a": 1e400}',
                     b'{"limit": NaN}', b'{"page": Infinity}', b"\xef\xbb\xbf{}",
                     b'{"a": "\\ud800"}', b'{"\\udfff": 1}', b"\xff\xfe{\x00}\x00",
                     b'{"a": 1' + b"0" * 5000 + b"}"]),
    json_values.filter(lambda v: not isinstance(v, dict)).map(_dumps),
)
any_object = st.dictionaries(keys, json_values, max_size=6)


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each `weight` times as likely (one_of picks evenly); the
    first is also where Hypothesis starts and shrinks to."""
    return st.sampled_from([s for weight, s in choices for _ in range(weight)]).flatmap(
        lambda strategy: strategy)


def bodies(ep: Endpoint) -> st.SearchStrategy[bytes]:
    """Garbage for `ep`'s body; for a route in POISONED never a body it could accept.
    Mostly objects, so most of it gets past the JSON parser to the validators."""
    fields = POISONED.get(ep.name)
    if ep.webhook:
        assert fields is not None
        poisoned = st.sampled_from(fields).flatmap(lambda field: st.tuples(
            st.just(field), odd_text.filter(WEBHOOK_POISON.get(field, lambda _: True))))
        forms = st.builds(lambda obj, pair: urlencode(
            {**{str(k): str(v) for k, v in obj.items()}, pair[0]: str(pair[1])},
            errors="surrogatepass").encode(), any_object, poisoned)
        return weighted((3, forms), (1, raw_garbage))
    if fields is None:
        return weighted((2, any_object.map(_dumps)), (1, raw_garbage))
    poisoned = st.builds(lambda obj, pair: _dumps({**obj, pair[0]: pair[1]}), any_object,
                         st.sampled_from(fields).flatmap(lambda field: st.tuples(
                             st.just(field), poison.filter(
                                 lambda v: v is not None and not isinstance(v, dict))
                             if field in NULLABLE_OBJECTS else
                             poison.filter(_no_time) if field in TIMES else poison)))
    return weighted((3, poisoned), (1, raw_garbage.filter(_not_an_object)))


# Fields that take epoch seconds besides text: their poison is no whole second in range.
TIMES = frozenset({"send_at"})


def _no_time(value: Any) -> bool:
    return isinstance(value, bool) or not (isinstance(value, int | float)
                                           and 0 < value <= 2**31 - 1)


def _not_an_object(raw: bytes) -> bool:
    """Raw garbage that is no JSON object at all (so it cannot be a valid write)."""
    try:
        return not isinstance(json.loads(raw), dict)
    except (ValueError, RecursionError):
        return True


ODD_QUERIES = ["page=100000000000000000000", "page=", "page=%FF",
               "page=1&page=99999999999999999999", "%", "q=%ZZ", "&&&", "=", "page=1e3",
               "per_page=-99999999999999999999", "status=%00",
               "page=-5&per_page=100000", "progress=99999999999999999999", "q=" + "x" * 500,
               "status=draft&status=%ED%A0%80"]
query_keys = st.one_of(st.sampled_from(["page", "per_page", "status", "q", "progress"]),
                       odd_text)
query_values = st.one_of(odd_text, numbers.map(str))
queries = weighted(
    (2, st.lists(st.tuples(query_keys, query_values), max_size=4)
     .map(lambda pairs: urlencode(pairs, errors="surrogatepass"))),
    (1, st.sampled_from(ODD_QUERIES)),
)
# Path segments that are no row id: numbers out of range, other ASCII shapes (percent
# escapes would be decoded before the signature is checked, so they stay out).
impossible_ids = st.one_of(
    st.integers(max_value=0), st.integers(min_value=10**7),
    st.sampled_from(["1.0", "1e3", "0x1", "+1", "-0", "00000000001", "abc", "1;2", "..",
                     "9" * 5000]))


# -- the app under garbage -------------------------------------------------------------


@dataclass
class Garbage:
    web: Web
    ids: dict[str, list[str]]  # real ids per target kind, as path segments
    probe: pymysql.Connection
    tables: list[str]
    baseline: tuple[Any, ...]

    def fingerprint(self) -> tuple[Any, ...]:
        """Every table but the nonces by CHECKSUM TABLE, and what the fake Twilio got."""
        with self.probe.cursor() as cur:
            cur.execute("CHECKSUM TABLE " + ", ".join(f"`{t}`" for t in self.tables))
            sums = tuple((str(r[0]), r[1]) for r in cur.fetchall())
        return sums, self.web.shop.fake.stats.requests_total


@pytest.fixture(scope="module")
def web(mariadb: MariaDBServer) -> Iterator[Web]:
    yield from web_fixture(mariadb, customers=10)


@pytest.fixture(scope="module")
def garbage(web: Web) -> Iterator[Garbage]:
    ids = {"campaign": [str(web.campaign(1, name="Garbage draft"))],
           "logs": [str(web.sent_campaign(1, name="Garbage sent"))],
           "template": [str(web.template(1)), "1"],  # a tenant's own and a built-in
           "suppression": [str(web.suppression(1))],
           "static": ["app.css", "app.js", "../pages.py", "nope.css", ".", "x" * 300]}
    ids["campaign"] += ids["logs"]
    # Warm what a first read fills in (Booknetic's reflected tables, the phone cache), so
    # the baseline holds everything a valid read leaves behind.
    assert web.client.post("/api/v1/segments/preview", {"segment": "repeat"}).status == 200
    nonces = web.runtime.tables.nonces.name
    probe = pymysql.connect(host=web.mariadb.host, port=web.mariadb.port,
                            user=web.mariadb.user, password=web.mariadb.password,
                            database=web.database, autocommit=True)
    with probe.cursor() as cur:
        cur.execute("SHOW TABLES")
        tables = sorted(r[0] for r in cur.fetchall() if r[0] != nonces)
    state = Garbage(web, ids, probe, tables, ())
    state.baseline = state.fingerprint()
    yield state
    probe.close()


def route_key(method: str, rule: str) -> tuple[str, str]:
    return method, re.sub(r"<[^>]*>", "{id}", rule)


ROUTES = [*(ep for ep in ENDPOINTS if (ep.method, ep.template) not in NO_INPUT), STATIC]


def test_every_route_is_covered(web: Web) -> None:
    served = {route_key(method, rule.rule) for rule in web.app.url_map.iter_rules()
              for method in rule.methods or () if method not in ("HEAD", "OPTIONS")}
    covered = {(ep.method, ep.template) for ep in ROUTES} | NO_INPUT
    assert served - covered == set(), "routes without garbage: add them to ENDPOINTS"
    writes = {ep.name for ep in ROUTES if ep.method != "GET" and ep.body is not NO_BODY}
    assert writes <= set(POISONED), "say which required fields of these to poison"


REAL = "<a real id>"  # in KNOWN_CASES: an id of a row the route may act on, if any


def known_cases(ep: Endpoint) -> list[tuple[str, str, bytes]]:
    """(id, query, body) that answered 500 before, tried first on every route."""
    field = POISONED.get(ep.name, ("name",))[0]
    return [(REAL, "page=100000000000000000000", _deep(5000, "list")),
            (REAL, "page=2&per_page=" + "9" * 30, _deep(5000, "object")),
            ("2147483648", "q=%ED%A0%80&status=%00",
             _dumps({field: "Sale \ud800", "template_id": 2**70,
                     "filters": {"service_ids": [2**70], "statuses": ["\udfff"]}})),
            ("9" * 30, "", _dumps({field: [2**70], "customer_ids": [2**70]}))]


def id_strategy(garbage: Garbage, ep: Endpoint) -> st.SearchStrategy[str]:
    if not ep.has_id:
        return st.just("")
    if ep.method == "GET" or ep.name in POISONED:
        return weighted((2, st.sampled_from(garbage.ids[ep.target])),
                        (1, impossible_ids.map(str)))
    return impossible_ids.map(str)  # acts on the id alone (send, pause, delete, …)


def signed(garbage: Garbage, ep: Endpoint, object_id: str, query: str, body: bytes) -> Signed:
    """A correctly signed request (CSRF token included) for `ep` carrying the garbage."""
    if object_id == REAL:
        real = ep.method == "GET" or ep.name in POISONED
        object_id = garbage.ids[ep.target][0] if ep.has_id and real else "2147483648"
    path = ep.template.replace("{id}", object_id) + (f"?{query}" if query else "")
    who = ALL.in_tenant(None) if ep.operator else ALL
    if ep.webhook:  # "Twilio" signs the fields exactly as the app will parse them
        form = EnvironBuilder(method="POST", data=body, content_type=FORM).get_request().form
        _, headers = twilio_signed(garbage.web.twilio_token, form.to_dict(flat=True),
                                   url=public_url(ep.template), signed_form=form)
        signed = garbage.web.client.prepare(ep.method, path, raw_body=body, who=who,
                                            content_type=FORM)
        return Signed(signed.method, signed.path, signed.body, {**signed.headers, **headers})
    return garbage.web.client.prepare(ep.method, path, raw_body=body, who=who)


@pytest.mark.slow
@pytest.mark.parametrize("ep", ROUTES, ids=[ep.name for ep in ROUTES])
def test_garbage_never_gets_a_5xx_and_never_writes(garbage: Garbage, ep: Endpoint) -> None:
    def check(object_id: str, query: str, body: bytes) -> None:
        request = signed(garbage, ep, object_id, query, body)
        reply: Reply = garbage.web.client.send(request)
        assert reply.status < 500, (request.method, request.path[:300], body[:300], reply)
        assert reply.status not in (401, 403), ("stopped before the handler", reply)
        if ep.webhook:  # Twilio is answered (204, or 200 TwiML) whatever it says, or its
            assert reply.status in (ep.ok, 400, 413), (body[:300], reply)  # form is refused
        elif ep.method != "GET":
            assert reply.status >= 400, ("garbage was accepted", body[:300], reply)
        if reply.status >= 400 and reply.mimetype == "application/json":
            assert set(reply.json()) == {"error"}, reply
        assert garbage.fingerprint() == garbage.baseline, ("a table changed", request.path,
                                                           body[:300])

    for case in known_cases(ep):
        check = example(*case)(check)
    given(id_strategy(garbage, ep), queries, bodies(ep))(SETTINGS(check))()
