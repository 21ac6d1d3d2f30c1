"""Synthetic Graph sign-in logs with planted patterns, streamed to disk and deterministic per seed.

Planted: users failing with AADSTS70043 every ~24 h under a sign-in-frequency policy, password-reset
bursts (with matching users and directory-audit files), users whose device is not compliant
(AADSTS53000 day after day), clone pairs (one deviceId under two device names), device objects
with one display name registered minutes apart, and background noise (expected interrupts, wrong
passwords, single failures) that must not make anyone "affected".
"""

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from odfix.errors import BadInput
from odfix.tenant import apps
from odfix.tenant.outfile import check_target, write_error

DAY = 86400.0
END = datetime(2026, 11, 1, tzinfo=UTC)
SIF_POLICY_ID = "3f2c9a1e-5b7d-4c20-9e61-24a0f1d0b024"
COMPLIANCE_POLICY_ID = "c5a0e7d2-41f3-4b8e-9d6a-530000c0a1a7"

_APPS: tuple[tuple[str, str, str, str, float], ...] = (
    # appId, appDisplayName, resourceId, resourceDisplayName, weight
    (apps.ONEDRIVE_SYNC, "OneDrive SyncEngine", apps.SHAREPOINT_RESOURCE,
     "Office 365 SharePoint Online", 0.35),
    (apps.MICROSOFT_OFFICE, "Microsoft Office", apps.EXCHANGE_RESOURCE,
     "Office 365 Exchange Online", 0.25),
    (apps.TEAMS, "Microsoft Teams", apps.GRAPH_RESOURCE, "Microsoft Graph", 0.2),
    (apps.ONEDRIVE_WEB, "OneDrive", apps.SHAREPOINT_RESOURCE, "Office 365 SharePoint Online", 0.1),
    ("c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal",
     "797f4846-ba00-4fd7-ba43-dac1f8f63013", "Windows Azure Service Management API", 0.1),
)
_APP_WEIGHTS = [a[4] for a in _APPS]

_REASONS: dict[int, str] = {
    0: "",
    50126: "Error validating credentials due to invalid username or password.",
    50074: "Strong Authentication is required.",
    50140: "This error occurred due to 'Keep me signed in' interrupt when the user was signing in.",
    50076: "Due to a configuration change made by your administrator, or because you moved to a "
           "new location, you must use multi-factor authentication to access the resource.",
    53003: "Access has been blocked by Conditional Access policies.",
    53000: "Device is not in required device state: compliant.",
    700082: "The refresh token has expired due to inactivity.",
    50058: "Session information is not sufficient for single-sign-on.",
    70043: "The refresh token has expired or is invalid due to sign-in frequency checks by "
           "conditional access.",
    50173: "The provided grant has expired due to it being revoked, a fresh auth token is needed.",
    50133: "Session is invalid due to expiration or recent password change.",
    50155: "Device authentication failed for this user.",
}
_NOISE_CODES = (50126, 50074, 50140, 50076, 53003, 700082, 50058, 70043)
_NOISE_WEIGHTS = (30, 25, 15, 10, 5, 5, 8, 2)

_RECORD = (
    '{"id":"%s","createdDateTime":"%s","userDisplayName":"%s","userPrincipalName":"%s",'
    '"userId":"%s","appId":"%s","appDisplayName":"%s","ipAddress":"%s","clientAppUsed":"%s",'
    '"correlationId":"%s","conditionalAccessStatus":"%s","isInteractive":%s,'
    '"riskDetail":"none","riskLevelAggregated":"none","riskLevelDuringSignIn":"none",'
    '"riskState":"none","riskEventTypes":[],"riskEventTypes_v2":[],'
    '"resourceDisplayName":"%s","resourceId":"%s",'
    '"status":{"errorCode":%d,"failureReason":%s,"additionalDetails":null},'
    '"deviceDetail":{"deviceId":"%s","displayName":%s,"operatingSystem":"%s","browser":"%s",'
    '"isCompliant":%s,"isManaged":%s,"trustType":%s},'
    '"location":{"city":"%s","state":"%s","countryOrRegion":"%s","geoCoordinates":'
    '{"altitude":null,"latitude":%.6f,"longitude":%.6f}},'
    '"appliedConditionalAccessPolicies":[%s]}'
)
_POLICY = ('{"id":"%s","displayName":"%s","enforcedGrantControls":[%s],'
           '"enforcedSessionControls":[%s],"result":"%s"}')
_CITIES = (("Redmond", "Washington", "US", 47.68, -122.12),
           ("Dublin", "Dublin", "IE", 53.35, -6.26),
           ("Lithia Springs", "Georgia", "US", 33.79, -84.44),
           ("Berlin", "Berlin", "DE", 52.52, 13.4))

Event = tuple[float, int, int, int, bool, str]  # time, user, app index, code, interactive, policy


class SynthTruth(BaseModel):
    """The patterns a synthetic set holds, for precision/recall checks."""

    sif_users: list[str]
    password_reset_users: list[str]
    noncompliant_users: list[str] = []
    cloned_device_ids: list[str]
    duplicate_device_names: list[str]
    sif_policy_id: str


class SynthResult(BaseModel):
    """What ``synthesize`` wrote."""

    rows: int
    signins: Path
    users: Path
    audits: Path
    policies: Path
    devices: Path
    truth: Path


def companion(out: Path, kind: str) -> Path:
    """The path of a companion file (``users``, ``audits``, ...) written next to ``out``."""
    return out.with_name(f"{out.stem}.{kind}.json")


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


class _Tenant:
    """Users, devices and planted patterns of one synthetic tenant."""

    def __init__(self, users: int, days: int, seed: int) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        self.n, self.days = users, days
        self.end = END.timestamp()
        self.start = self.end - days * DAY
        self.upn = [f"user{i:06d}@contoso.com" for i in range(users)]
        self.uid = [_uuid(rng) for _ in range(users)]
        self.device_id = [_uuid(rng) for _ in range(users)]
        self.device_name = [f"DESKTOP-{rng.getrandbits(28):07X}" for _ in range(users)]
        self.city = [rng.randrange(len(_CITIES)) for _ in range(users)]
        n_sif, n_pwd = max(1, users * 3 // 100), max(1, users * 2 // 100)
        n_nc = max(1, users // 100)
        picks = rng.sample(range(users), min(users, n_sif + n_pwd + n_nc
                                             + 2 * max(1, users // 100)))
        self.sif = sorted(picks[:n_sif])
        self.pwd = sorted(picks[n_sif:n_sif + n_pwd])
        self.noncompliant = sorted(picks[n_sif + n_pwd:n_sif + n_pwd + n_nc])
        rest = picks[n_sif + n_pwd + n_nc:]
        self.clone_pairs = [(rest[i], rest[i + 1]) for i in range(0, len(rest) - 1, 2)]
        for a, b in self.clone_pairs:
            self.device_id[b] = self.device_id[a]
        self.reset_at = {u: self.start + rng.uniform(2, max(2.5, days - 1)) * DAY for u in self.pwd}
        # users who changed their password and then signed in without trouble (no events at all)
        self.quiet = {u: self.start + rng.uniform(0, days) * DAY
                      for u in rng.sample(range(users), max(1, users // 100))
                      if u not in self.reset_at and u not in self.sif}
        self.active = [u for u in range(users) if u not in self.quiet]

    def planted(self) -> list[Event]:
        """The planted sign-in events (failures and the successes that follow them)."""
        rng, events = self.rng, list[Event]()
        for u in self.sif:
            base = self.start + rng.uniform(6, 10) * 3600
            for day in range(self.days):
                t = base + day * DAY + rng.uniform(-600, 600)
                events.append((t, u, 0, 70043, False, "failure"))
                events.append((t + rng.uniform(60, 240), u, 0, 0, True, "success"))
        for u, at in self.reset_at.items():
            t = at + rng.uniform(300, 1800)
            for _ in range(rng.randint(3, 6)):
                code = rng.choice((50173, 50173, 50133))
                events.append((t, u, rng.randrange(3), code, False, ""))
                t += rng.uniform(600, 7200)
            events.append((t + 300, u, 0, 0, True, ""))
        for u in self.noncompliant:  # the sync client is refused day after day
            for day in range(self.days):
                for _ in range(rng.randint(2, 4)):
                    t = self.start + (day + rng.random()) * DAY
                    events.append((t, u, 0, 53000, False, ""))
        for a, b in self.clone_pairs:
            for u in (a, b):
                for _ in range(2):
                    t = rng.uniform(self.start, self.end)
                    events.append((t, u, 0, 50155, False, ""))
        return [e for e in events if self.start <= e[0] < self.end]

    def noise(self, count: int, day: int) -> Iterator[Event]:
        rng, lo = self.rng, self.start + day * DAY
        for _ in range(count):
            failed = rng.random() < 0.08
            code = rng.choices(_NOISE_CODES, _NOISE_WEIGHTS)[0] if failed else 0
            app = rng.choices(range(len(_APPS)), _APP_WEIGHTS)[0]
            yield (lo + rng.uniform(0, DAY), rng.choice(self.active), app, code,
                   rng.random() < 0.3, "")

    def render(self, e: Event) -> str:
        rng = self.rng
        t, u, a, code, interactive, sif = e
        app_id, app_name, res_id, res_name, _ = _APPS[a]
        city = _CITIES[self.city[u]]
        browser = a >= 3
        policies = [_POLICY % ("6551c58c-e5da-4036-a6ea-c2c3fad264f1", "MFA policy",
                               '"Mfa"', "", "success" if code == 0 else "notApplied")]
        if sif:
            policies.append(_POLICY % (SIF_POLICY_ID, "Sign-in frequency 24 h - Office 365", "",
                                       '"SignInFrequency"', sif))
        if code == 53000:
            policies.append(_POLICY % (COMPLIANCE_POLICY_ID, "Require compliant device",
                                       '"RequireCompliantDevice"', "", "failure"))
        reason = _REASONS.get(code, "Other.")
        return _RECORD % (
            _uuid(rng), _iso(t), f"User {u:06d}", self.upn[u], self.uid[u], app_id, app_name,
            f"10.{u >> 16 & 255}.{u >> 8 & 255}.{u & 255}",
            "Browser" if browser else "Mobile Apps and Desktop clients", _uuid(rng),
            "success" if code == 0 else "failure", "true" if interactive else "false",
            res_name, res_id, code, json.dumps(reason) if code else "null",
            "" if browser else self.device_id[u],
            "null" if browser else f'"{self.device_name[u]}"',
            "Windows 10" if u % 3 else "Windows 11",
            "Edge 120.0.0" if browser else "Rich Client 4.2",
            "true" if not browser else "null", "true" if not browser else "null",
            "null" if browser else '"Azure AD joined"',
            city[0], city[1], city[2], city[3], city[4], ",".join(policies),
        )

    def users_doc(self) -> dict[str, object]:
        rng, value = self.rng, []
        for u in range(self.n):
            changed = self.reset_at.get(u) or self.quiet.get(u) or (
                self.start - rng.uniform(30, 200) * DAY)
            value.append({"id": self.uid[u], "userPrincipalName": self.upn[u],
                          "accountEnabled": True, "lastPasswordChangeDateTime": _iso(changed)})
        return {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
                "value": value}

    def audits_doc(self) -> dict[str, object]:
        rng, value = self.rng, []
        changes = [(u, at, "Reset password (by admin)") for u, at in self.reset_at.items()]
        changes += [(u, at, "Change password (self-service)") for u, at in self.quiet.items()]
        for u, at, activity in changes:
            value.append({"id": _uuid(rng), "category": "UserManagement",
                          "activityDateTime": _iso(at), "activityDisplayName": activity,
                          "result": "success", "loggedByService": "Core Directory",
                          "targetResources": [{"id": self.uid[u], "type": "User",
                                               "userPrincipalName": self.upn[u]}]})
        return {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/"
                "directoryAudits", "value": value}

    def devices_doc(self) -> tuple[dict[str, object], list[str]]:
        rng, value, dupes = self.rng, [], []
        for u in range(self.n):
            value.append({"id": _uuid(rng), "deviceId": self.device_id[u],
                          "displayName": self.device_name[u], "accountEnabled": True,
                          "operatingSystem": "Windows", "trustType": "AzureAd",
                          "registrationDateTime": _iso(self.start - rng.uniform(30, 400) * DAY)})
        for i in range(max(1, self.n // 200)):
            name, at = f"LAB-PC-{i:03d}", self.start - rng.uniform(1, 20) * DAY
            dupes.append(name)
            for gap in (0.0, rng.uniform(120, 900)):
                value.append({"id": _uuid(rng), "deviceId": _uuid(rng), "displayName": name,
                              "accountEnabled": True, "operatingSystem": "Windows",
                              "trustType": "ServerAd", "registrationDateTime": _iso(at + gap)})
            reimaged = f"KIOSK-{i:03d}"
            for gap in (0.0, rng.uniform(40, 90) * DAY):
                value.append({"id": _uuid(rng), "deviceId": _uuid(rng), "displayName": reimaged,
                              "accountEnabled": gap > 0, "operatingSystem": "Windows",
                              "trustType": "AzureAd", "registrationDateTime": _iso(at + gap)})
        return ({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#devices",
                 "value": value}, dupes)

    def policies_doc(self) -> dict[str, object]:
        users = {"includeUsers": [self.uid[u] for u in self.sif], "excludeUsers": [],
                 "includeGroups": [], "excludeGroups": [], "includeRoles": [], "excludeRoles": []}
        sif = {"id": SIF_POLICY_ID, "displayName": "Sign-in frequency 24 h - Office 365",
               "state": "enabled",
               "conditions": {"clientAppTypes": ["all"],
                              "applications": {"includeApplications": ["Office365"],
                                               "excludeApplications": []},
                              "users": users},
               "grantControls": None,
               "sessionControls": {"signInFrequency": {
                   "isEnabled": True, "type": "hours", "value": 24,
                   "authenticationType": "primaryAndSecondaryAuthentication",
                   "frequencyInterval": "timeBased"}}}
        weekly = {"id": "9d0c3e55-8a43-4e0b-b1f2-7e1d6c0a7d07",
                  "displayName": "Sign-in frequency 7 days - report only",
                  "state": "enabledForReportingButNotEnforced",
                  "conditions": {"clientAppTypes": ["all"],
                                 "applications": {"includeApplications": ["All"],
                                                  "excludeApplications": []},
                                 "users": {"includeUsers": ["All"], "includeGroups": []}},
                  "grantControls": None,
                  "sessionControls": {"signInFrequency": {"isEnabled": True, "type": "days",
                                                          "value": 7}}}
        mfa = {"id": "6551c58c-e5da-4036-a6ea-c2c3fad264f1", "displayName": "MFA policy",
               "state": "enabled",
               "conditions": {"clientAppTypes": ["all"],
                              "applications": {"includeApplications": ["All"]},
                              "users": {"includeUsers": ["All"]}},
               "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
               "sessionControls": None}
        compliance = {"id": COMPLIANCE_POLICY_ID, "displayName": "Require compliant device",
                      "state": "enabled",
                      "conditions": {"clientAppTypes": ["all"],
                                     "applications": {"includeApplications": ["Office365"]},
                                     "users": {"includeUsers": ["All"]}},
                      "grantControls": {"operator": "OR", "builtInControls": ["compliantDevice"]},
                      "sessionControls": None}
        # enforced, 24 h, everyone, but not for Office 365: it explains nobody's OneDrive prompts
        others = {"id": "7b3d5c1e-0a9f-4e2d-8c6b-0e0ff1ce3650", "state": "enabled",
                  "displayName": "Sign-in frequency 24 h - all apps but Office 365",
                  "conditions": {"clientAppTypes": ["all"],
                                 "applications": {"includeApplications": ["All"],
                                                  "excludeApplications": ["Office365"]},
                                 "users": {"includeUsers": ["All"]}},
                  "grantControls": None,
                  "sessionControls": {"signInFrequency": {"isEnabled": True, "type": "hours",
                                                          "value": 24}}}
        return {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#identity/"
                "conditionalAccess/policies", "value": [sif, weekly, mfa, compliance, others]}


def synthesize(out: Path, *, users: int, days: int, seed: int, rows: int | None = None,
               fmt: Literal["graph", "ndjson"] = "graph") -> SynthResult:
    """Write sign-ins to ``out`` (Graph document or NDJSON) plus companion files; see module doc.

    ``rows`` fixes the total number of sign-ins (noise fills what the planted patterns leave);
    by default a user signs in about four times a day.
    """
    if users < 4 or days < 3:
        raise BadInput("synth needs at least 4 users and 3 days")
    check_target(out, "the synthetic sign-ins")
    try:
        return _synthesize(out, users=users, days=days, seed=seed, rows=rows, fmt=fmt)
    except OSError as error:
        raise write_error(Path(error.filename or out), "the synthetic sign-ins", error) from None


def _synthesize(out: Path, *, users: int, days: int, seed: int, rows: int | None,
                fmt: Literal["graph", "ndjson"]) -> SynthResult:
    tenant = _Tenant(users, days, seed)
    planted = tenant.planted()
    total = rows if rows is not None else users * days * 4
    if total < len(planted):
        raise BadInput(f"--rows {total} is below the {len(planted)} planted sign-ins")
    by_day: list[list[Event]] = [[] for _ in range(days)]
    for e in planted:
        by_day[min(days - 1, int((e[0] - tenant.start) // DAY))].append(e)
    noise = total - len(planted)
    written = 0
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        if fmt == "graph":
            fh.write('{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/'
                     'signIns","value":[')
        sep = "," if fmt == "graph" else "\n"
        for day in reversed(range(days)):
            share = noise // days + (1 if day < noise % days else 0)
            events = by_day[day] + list(tenant.noise(share, day))
            events.sort(key=lambda e: e[0], reverse=True)
            chunk = sep.join(tenant.render(e) for e in events)
            if chunk:
                fh.write(sep if written else "")
                fh.write(chunk)
                written += len(events)
        fh.write("]}\n" if fmt == "graph" else "\n")
    devices, dupes = tenant.devices_doc()
    docs = {"users": tenant.users_doc(), "audits": tenant.audits_doc(),
            "policies": tenant.policies_doc(), "devices": devices}
    for kind, doc in docs.items():
        companion(out, kind).write_text(json.dumps(doc), encoding="utf-8")
    truth = SynthTruth(
        sif_users=[tenant.upn[u] for u in tenant.sif],
        password_reset_users=[tenant.upn[u] for u in tenant.pwd],
        noncompliant_users=[tenant.upn[u] for u in tenant.noncompliant],
        cloned_device_ids=sorted(tenant.device_id[a] for a, _ in tenant.clone_pairs),
        duplicate_device_names=dupes, sif_policy_id=SIF_POLICY_ID)
    companion(out, "truth").write_text(truth.model_dump_json(indent=1), encoding="utf-8")
    return SynthResult(rows=written, signins=out, users=companion(out, "users"),
                       audits=companion(out, "audits"), policies=companion(out, "policies"),
                       devices=companion(out, "devices"), truth=companion(out, "truth"))

