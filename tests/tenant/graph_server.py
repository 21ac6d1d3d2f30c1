"""A local Microsoft Graph stand-in for odfix's pull tests and benchmark.

It speaks Graph's wire format for the endpoints ``odfix signins pull`` calls — ``/v1.0`` and
``/beta`` ``auditLogs/signIns``, ``auditLogs/directoryAudits``, ``users``, ``devices`` and
``identity/conditionalAccess/policies`` — with ``$top`` (max 1,000), ``@odata.nextLink`` carrying
an opaque ``$skiptoken``, ``$filter`` on ``createdDateTime``/``activityDateTime`` (``ge``, ``le``,
``lt``, ``gt``, ``eq``), ``userPrincipalName``/``appId``/``userId eq`` and
``signInEventTypes/any(t: t eq '...')``. It can throttle reporting calls (429 + ``Retry-After``) and
inject faults by request number: ``503``, ``429``, ``slow``, ``hang``, ``truncated`` (a page cut in
half), ``drop`` (connection closed mid-body). Every request is logged with its server-side time.
"""

from __future__ import annotations

import base64
import bisect
import json
import random
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

Record = dict[str, Any]
TOKEN = "test-token"
MAX_TOP = 1000

APPS = [
    ("ab9b8c07-8f02-4f72-87fa-80105867a763", "OneDrive SyncEngine"),
    ("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office"),
    ("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams"),
]
ERRORS = [
    (0, None),
    (0, None),
    (0, None),
    (50173, "The provided grant has expired due to it being revoked."),
    (70043, "The refresh token has expired or is invalid due to sign-in frequency checks."),
    (50076, "Due to a configuration change made by your administrator, you must use MFA."),
    (53000, "Device is not in required device state: compliant."),
]


def graph_time(moment: datetime) -> str:
    """Graph's timestamp text: UTC, ``Z``, seven fractional digits unless whole seconds."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}0"
    return text + "Z"


def parse_time(text: str) -> datetime:
    """A Graph/OData timestamp as an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


def seed_signins(
    count: int, start: datetime, end: datetime, *, seed: int = 1, users: int = 20, edges: int = 8,
    interactive_share: float = 0.3,
) -> list[Record]:
    """``count`` beta-shaped sign-ins in ``[start, end]``; ``edges`` land exactly on whole hours."""
    rng = random.Random(seed)
    span = (end - start).total_seconds()
    people = [f"user{i:04d}@contoso.com" for i in range(users)]
    ids = {upn: str(uuid.UUID(int=rng.getrandbits(128))) for upn in people}
    records = []
    for n in range(count):
        if n < edges:
            hours = int(span // 3600)
            moment = start + timedelta(hours=rng.randint(1, max(1, hours - 1)))
        else:
            moment = start + timedelta(microseconds=rng.randrange(int(span * 1_000_000)))
        upn = rng.choice(people)
        app_id, app_name = rng.choice(APPS)
        code, reason = rng.choice(ERRORS)
        interactive = rng.random() < interactive_share
        device = rng.randrange(users)
        records.append({
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "createdDateTime": graph_time(moment),
            "userDisplayName": upn.split("@")[0].title(),
            "userPrincipalName": upn,
            "userId": ids[upn],
            "appId": app_id,
            "appDisplayName": app_name,
            "ipAddress": f"203.0.113.{rng.randrange(1, 255)}",
            "clientAppUsed": "Mobile Apps and Desktop clients",
            "correlationId": str(uuid.UUID(int=rng.getrandbits(128))),
            "conditionalAccessStatus": "success" if code == 0 else "failure",
            "isInteractive": interactive,
            "signInEventTypes": ["interactiveUser" if interactive else "nonInteractiveUser"],
            "resourceDisplayName": "Office 365 SharePoint Online",
            "resourceId": "00000003-0000-0ff1-ce00-000000000000",
            "status": {"errorCode": code, "failureReason": reason, "additionalDetails": None},
            "deviceDetail": {
                "deviceId": str(uuid.UUID(int=device + 1)),
                "displayName": f"PC-{device:04d}",
                "operatingSystem": "Windows 10",
                "browser": "",
                "isCompliant": True,
                "isManaged": True,
                "trustType": "Hybrid Azure AD joined",
            },
            "location": {"city": "Redmond", "state": "Washington", "countryOrRegion": "US"},
            "appliedConditionalAccessPolicies": [],
        })
    return records


def seed_users(signins: list[Record], *, seed: int = 1) -> list[Record]:
    """One user object per sign-in user, with ``lastPasswordChangeDateTime``."""
    rng = random.Random(seed)
    seen: dict[str, Record] = {}
    for record in signins:
        upn = record["userPrincipalName"]
        if upn not in seen:
            changed = parse_time(record["createdDateTime"]) - timedelta(hours=rng.randint(1, 72))
            seen[upn] = {
                "id": record["userId"],
                "userPrincipalName": upn,
                "accountEnabled": True,
                "lastPasswordChangeDateTime": graph_time(changed.replace(microsecond=0)),
                "signInSessionsValidFromDateTime": graph_time(changed.replace(microsecond=0)),
            }
    return list(seen.values())


def seed_audits(users: list[Record]) -> list[Record]:
    """A password reset audit per user (at its ``lastPasswordChangeDateTime``) plus noise."""
    audits = []
    for n, user in enumerate(users):
        for name in ("Reset user password", "Update user"):
            audits.append({
                "id": f"Directory_{n:05d}_{name.split()[0]}",
                "category": "UserManagement",
                "activityDisplayName": name,
                "activityDateTime": user["lastPasswordChangeDateTime"],
                "loggedByService": "Core Directory",
                "result": "success",
                "targetResources": [{"id": user["id"], "userPrincipalName":
                                     user["userPrincipalName"], "type": "User"}],
            })
    return audits


@dataclass
class Hit:
    """One request as the server saw it."""

    at: float
    path: str
    query: str
    status: int


@dataclass
class GraphState:
    """The server's data, throttle, faults and request log (tests change it between calls)."""

    signins: list[Record] = field(default_factory=list)
    users: list[Record] = field(default_factory=list)
    devices: list[Record] = field(default_factory=list)
    policies: list[Record] = field(default_factory=list)
    audits: list[Record] = field(default_factory=list)
    groups: dict[str, list[Record]] = field(default_factory=dict)  # id -> transitive members
    run_states: dict[str, list[Record]] = field(default_factory=dict)  # script id -> states
    throttle: tuple[int, float] | None = None
    page_size: int = MAX_TOP
    forbidden: set[str] = field(default_factory=set)
    faults: dict[int, str] = field(default_factory=dict)
    slow_s: float = 0.2
    hang_s: float = 2.0
    pause_at: int | None = None
    paused: threading.Event = field(default_factory=threading.Event)
    log: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    admitted: deque[float] = field(default_factory=deque)
    matches: dict[tuple[str, str], list[Record]] = field(default_factory=dict)
    _index: dict[str, tuple[list[datetime], list[Record]]] = field(default_factory=dict)
    _text: dict[int, bytes] = field(default_factory=dict)

    def collection(self, name: str, stamp: str | None) -> tuple[list[datetime], list[Record]]:
        """Records of ``name`` sorted by ``stamp`` (ascending) with their parsed times."""
        if name not in self._index:
            rows = list(getattr(self, name))
            if stamp:
                rows.sort(key=lambda r: parse_time(r[stamp]))
                self._index[name] = ([parse_time(r[stamp]) for r in rows], rows)
            else:
                self._index[name] = ([], rows)
        return self._index[name]

    def text(self, record: Record) -> bytes:
        key = id(record)
        if key not in self._text:
            self._text[key] = json.dumps(record, separators=(",", ":")).encode()
        return self._text[key]


ROUTES = {
    "auditLogs/signIns": ("signins", "createdDateTime", True),
    "auditLogs/directoryAudits": ("audits", "activityDateTime", True),
    "users": ("users", None, False),
    "devices": ("devices", None, False),
    "identity/conditionalAccess/policies": ("policies", None, False),
}
_CLAUSE = re.compile(
    r"^(?P<field>\w+) (?P<op>ge|le|lt|gt|eq) (?P<value>'(?:[^']|'')*'|[0-9T:.\-+Z]+)$"
)
_ANY = re.compile(r"^signInEventTypes/any\((\w+): ?\1 eq '(?P<value>\w+)'\)$")


class FilterError(ValueError):
    """A ``$filter`` the stand-in (like Graph) does not support."""


def _clauses(text: str) -> list[str]:
    out = []
    for part in re.split(r"\s+and\s+", text.strip()):
        clause = part.strip()
        while clause.startswith("(") and not clause.startswith("(t"):
            clause = clause[1:]
        while clause.count(")") > clause.count("("):
            clause = clause[:-1]
        out.append(clause.strip())
    return out


def apply_filter(
    text: str, times: list[datetime], rows: list[Record], stamp: str | None
) -> list[Record]:
    """Rows matching ``text``, newest first (Graph's order for reports)."""
    lo, hi = 0, len(rows)
    checks = []
    typed = False
    for clause in _clauses(text) if text.strip() else []:
        if found := _ANY.match(clause):
            wanted = found["value"]
            checks.append(lambda r, w=wanted: w in event_types(r))
            typed = True
            continue
        found = _CLAUSE.match(clause)
        if not found:
            raise FilterError(f"Invalid filter clause: {clause}")
        name, op, value = found["field"], found["op"], found["value"]
        if name == stamp:
            moment = parse_time(value)
            if op in ("ge", "eq"):
                lo = max(lo, bisect.bisect_left(times, moment))
            if op == "gt":
                lo = max(lo, bisect.bisect_right(times, moment))
            if op in ("le", "eq"):
                hi = min(hi, bisect.bisect_right(times, moment))
            if op == "lt":
                hi = min(hi, bisect.bisect_left(times, moment))
        elif op == "eq" and value.startswith("'") and name in (
                "userPrincipalName", "appId", "userId"):
            literal = value[1:-1].replace("''", "'")
            checks.append(lambda r, n=name, v=literal: str(r.get(n, "")).lower() == v.lower())
        else:
            raise FilterError(f"Unsupported filter: {clause}")
    if stamp == "createdDateTime" and not typed:  # like Graph: interactive unless asked
        checks.append(lambda r: "interactiveUser" in event_types(r))
    picked = rows[lo:hi]
    return [r for r in reversed(picked) if all(c(r) for c in checks)]


def event_types(record: Record) -> list[str]:
    """A sign-in's ``signInEventTypes`` (v1.0 records only say ``isInteractive``)."""
    return record.get("signInEventTypes") or (
        ["interactiveUser"] if record.get("isInteractive") else ["nonInteractiveUser"])


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None,
              *, cut: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if cut is None:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body[:cut])
        self.wfile.flush()
        self.close_connection = True

    def _error(self, status: int, code: str, message: str,
               headers: dict[str, str] | None = None) -> None:
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        self._send(status, body, headers)

    def do_GET(self) -> None:
        state = self.server.state
        split = urlsplit(self.path)
        with state.lock:
            number = len(state.log) + 1
            hit = Hit(time.monotonic(), split.path, split.query, 200)
            state.log.append(hit)
        if state.pause_at is not None and number >= state.pause_at:
            state.paused.set()
            time.sleep(3600)
        status = self._serve(state, split.path, split.query, number)
        hit.status = status

    def _serve(self, state: GraphState, path: str, query: str, number: int) -> int:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
            return 401
        version, _, rest = path.lstrip("/").partition("/")
        single = None
        route = ROUTES.get(rest)
        members = re.fullmatch(r"groups/([^/]+)/transitiveMembers", rest)
        runs = re.fullmatch(r"deviceManagement/deviceHealthScripts/([^/]+)/deviceRunStates", rest)
        if route is None and rest.startswith("users/"):
            route, single = ROUTES["users"], rest.removeprefix("users/")
        elif members and members[1] in state.groups:
            route = (f"groups/{members[1]}", None, False)
        elif runs and runs[1] in state.run_states and version == "beta":  # Intune: beta only
            route = (f"run_states/{runs[1]}", None, False)
        if version not in ("v1.0", "beta") or route is None:
            self._error(404, "Request_ResourceNotFound", f"Resource not found: {path}")
            return 404
        fault = state.faults.get(number)
        if fault == "503":
            self._error(503, "ServiceUnavailable", "Try again.")
            return 503
        if fault == "429":
            self._error(429, "TooManyRequests", "Too many requests.", {"Retry-After": "0.2"})
            return 429
        name, stamp, reporting = route
        if name in state.forbidden:
            self._error(403, "Authorization_RequestDenied",
                        "Insufficient privileges to complete the operation.")
            return 403
        if reporting and state.throttle is not None:
            limit, window = state.throttle
            now = time.monotonic()
            with state.lock:
                while state.admitted and state.admitted[0] <= now - window:
                    state.admitted.popleft()
                if len(state.admitted) >= limit:
                    wait = state.admitted[0] + window - now
                    self._error(429, "TooManyRequests", "Too many requests.",
                                {"Retry-After": f"{wait:.3f}"})
                    return 429
                state.admitted.append(now)
        if fault in ("slow", "hang"):
            time.sleep(state.slow_s if fault == "slow" else state.hang_s)
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        if name.startswith("run_states/"):
            times, rows = [], _expanded(state.run_states[name.split("/")[1]],
                                        params.get("$expand", ""))
        elif name.startswith("groups/"):
            times, rows = [], state.groups[name.split("/")[1]]
        else:
            times, rows = state.collection(name, stamp)
        if single is not None:
            for row in rows:
                if single.lower() in (str(row.get("id")).lower(),
                                      str(row.get("userPrincipalName")).lower()):
                    self._send(200, json.dumps(row).encode())
                    return 200
            self._error(404, "Request_ResourceNotFound", f"Resource '{single}' does not exist.")
            return 404
        try:
            key = (name, params.get("$filter", "") + params.get("$expand", ""))
            if key not in state.matches:  # later pages of a query reuse the first page's work
                state.matches[key] = apply_filter(key[1], times, rows, stamp) if stamp else rows
            matched = state.matches[key]
            top = int(params.get("$top", MAX_TOP))
        except (FilterError, ValueError) as error:
            self._error(400, "BadRequest", str(error))
            return 400
        top = max(1, min(top, state.page_size))
        token = params.pop("$skiptoken", None)
        offset = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
        page = matched[offset:offset + top]
        host = f"http://{self.headers.get('Host')}"
        parts = [b'{"@odata.context":"', f"{host}/{version}/$metadata#{rest}".encode(), b'"']
        if offset + top < len(matched):
            params["$skiptoken"] = base64.urlsafe_b64encode(str(offset + top).encode()).decode()
            link = f"{host}{path}?{urlencode(params, quote_via=quote, safe='$()')}"
            parts += [b',"@odata.nextLink":', json.dumps(link).encode()]
        text = state.text if not name.startswith("run_states/") else (  # fresh dicts: no cache
            lambda r: json.dumps(r, separators=(",", ":")).encode())
        parts += [b',"value":[', b",".join(text(r) for r in page), b"]}"]
        body = b"".join(parts)
        if fault in ("truncated", "drop"):
            if fault == "truncated":
                self._send(200, body[: len(body) // 2])
            else:
                self._send(200, body, cut=len(body) // 2)
            return 200
        self._send(200, body)
        return 200


def _expanded(states: list[Record], expand: str) -> list[Record]:
    """Run states as Graph sends them: ``managedDevice`` only when ``$expand`` asks, and then
    only the ``$select``ed fields (``managedDevice($select=id,deviceName)``)."""
    found = re.match(r"^managedDevice(?:\(\$select=([\w,]+)\))?$", expand)
    out = []
    for record in states:
        state = {k: v for k, v in record.items() if k != "managedDevice"}
        if found and isinstance(record.get("managedDevice"), dict):
            fields = found[1].split(",") if found[1] else list(record["managedDevice"])
            state["managedDevice"] = {k: record["managedDevice"].get(k) for k in fields}
        out.append(state)
    return out


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: GraphState


class GraphServer:
    """Runs the stand-in on 127.0.0.1 with an ephemeral port, in a daemon thread."""

    def __init__(self, state: GraphState | None = None) -> None:
        self.state = state or GraphState()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> GraphServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reporting_hits(self) -> list[Hit]:
        """Requests to ``/auditLogs`` in arrival order."""
        return [h for h in self.state.log if "/auditLogs/" in h.path]


def max_in_window(times: list[float], window: float) -> int:
    """The most timestamps any half-open window ``(t - window, t]`` holds."""
    best, start = 0, 0
    ordered = sorted(times)
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - window:
            start += 1
        best = max(best, end - start + 1)
    return best


