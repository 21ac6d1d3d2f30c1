"""Directory data beside the sign-ins: users, password audits, CA policies, devices (Graph)."""

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from odfix.errors import BadInput
from odfix.tenant.apps import ONEDRIVE_POLICY_TARGETS
from odfix.tenant.load import LoadReport, Malformed, graph_objects, insert_rows
from odfix.tenant.schema import ts

if TYPE_CHECKING:
    import duckdb

_PASSWORD_ACTIVITY = re.compile(r"password", re.IGNORECASE)


class Policy(BaseModel):
    """The parts of a Conditional Access policy that explain recurring sign-in prompts."""

    id: str
    name: str
    state: str
    sign_in_frequency_hours: float | None
    grant_controls: list[str]
    include_applications: list[str]
    include_users: list[str]
    exclude_users: list[str]
    include_groups: list[str]

    @property
    def covers_onedrive(self) -> bool:
        return bool(ONEDRIVE_POLICY_TARGETS.intersection(self.include_applications))

    def scope_for(self, user_id: str | None) -> str | None:
        """``user`` / ``all`` / ``group`` (unresolved) when the policy may target the user."""
        if user_id and user_id in self.exclude_users:
            return None
        if "All" in self.include_users:
            return "all"
        if user_id and user_id in self.include_users:
            return "user"
        return "group" if self.include_groups else None


def _dig(obj: Any, *keys: str) -> Any:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def parse_policy(raw: dict[str, Any]) -> Policy:
    """A Graph ``conditionalAccessPolicy`` reduced to ``Policy`` (days become hours)."""
    sif = _dig(raw, "sessionControls", "signInFrequency")
    hours: float | None = None
    if isinstance(sif, dict) and sif.get("isEnabled", True) and sif.get("value") is not None:
        unit = str(sif.get("type") or "hours").lower()
        hours = float(sif["value"]) * (24.0 if unit == "days" else 1.0)
    return Policy(
        id=str(raw.get("id")), name=str(raw.get("displayName") or raw.get("id")),
        state=str(raw.get("state") or "unknown"), sign_in_frequency_hours=hours,
        grant_controls=_strings(_dig(raw, "grantControls", "builtInControls")),
        include_applications=_strings(_dig(raw, "conditions", "applications",
                                           "includeApplications")),
        include_users=_strings(_dig(raw, "conditions", "users", "includeUsers")),
        exclude_users=_strings(_dig(raw, "conditions", "users", "excludeUsers")),
        include_groups=_strings(_dig(raw, "conditions", "users", "includeGroups")),
    )


def load_policies(path: Path, report: LoadReport) -> list[Policy]:
    """CA policies from ``/identity/conditionalAccess/policies`` output."""
    out = []
    for n, raw in enumerate(graph_objects(path), 1):
        if not raw.get("id"):
            report.add_malformed([Malformed(file=str(path), record=n, reason="policy without id")])
            continue
        out.append(parse_policy(raw))
    return out


def load_users(con: "duckdb.DuckDBPyConnection", path: Path, report: LoadReport) -> None:
    """Table ``users(user_id, upn, changed_at)`` from lastPasswordChangeDateTime."""
    rows, bad = [], []
    for n, raw in enumerate(graph_objects(path), 1):
        upn, uid = raw.get("userPrincipalName"), raw.get("id")
        if not upn and not uid:
            bad.append(Malformed(file=str(path), record=n, reason="user without id or UPN"))
            continue
        rows.append((uid, str(upn).lower() if upn else None,
                     raw.get("lastPasswordChangeDateTime")))
    report.add_malformed(bad)
    _changes(con, "users", rows, "user")


def load_audits(con: "duckdb.DuckDBPyConnection", path: Path, report: LoadReport) -> None:
    """Table ``audits(user_id, upn, changed_at)``: password reset/change directory audits."""
    rows, bad = [], []
    for n, raw in enumerate(graph_objects(path), 1):
        activity = str(raw.get("activityDisplayName") or "")
        if not raw.get("activityDateTime"):
            bad.append(Malformed(file=str(path), record=n, reason="audit without time"))
            continue
        if not _PASSWORD_ACTIVITY.search(activity) or raw.get("result") == "failure":
            continue
        for target in raw.get("targetResources") or []:
            if isinstance(target, dict) and target.get("type", "User") == "User":
                upn = target.get("userPrincipalName")
                rows.append((target.get("id"), str(upn).lower() if upn else None,
                             raw["activityDateTime"]))
    report.add_malformed(bad)
    _changes(con, "audits", rows, "audit")


def _changes(con: "duckdb.DuckDBPyConnection", table: str, rows: list[tuple[Any, ...]],
             origin: str) -> None:
    insert_rows(con, f"{table}_raw", "user_id VARCHAR, upn VARCHAR, changed VARCHAR", rows)
    con.execute(f"""CREATE OR REPLACE TABLE {table} AS
        SELECT user_id, upn, {ts('changed')} AS changed_at, '{origin}' AS origin
        FROM {table}_raw WHERE changed IS NOT NULL""").fetchall()


def load_devices(con: "duckdb.DuckDBPyConnection", path: Path, report: LoadReport) -> None:
    """Table ``devices(device_id, name, registered_at, enabled, trust_type)`` from Graph devices."""
    rows, bad = [], []
    for n, raw in enumerate(graph_objects(path), 1):
        if not raw.get("displayName") or not (raw.get("deviceId") or raw.get("id")):
            bad.append(Malformed(file=str(path), record=n, reason="device without name or id"))
            continue
        rows.append((raw.get("deviceId") or raw.get("id"), raw["displayName"],
                     raw.get("registrationDateTime"), bool(raw.get("accountEnabled", True)),
                     raw.get("trustType")))
    report.add_malformed(bad)
    insert_rows(con, "devices_raw", "device_id VARCHAR, name VARCHAR, registered VARCHAR, "
                "enabled BOOLEAN, trust_type VARCHAR", rows)
    con.execute(f"""CREATE OR REPLACE TABLE devices AS
        SELECT device_id, name, {ts('registered')} AS registered_at, enabled, trust_type
        FROM devices_raw""").fetchall()


def require_file(path: Path | None, what: str) -> Path | None:
    """``path`` when given and present; a clear error when it is missing."""
    if path is not None and not path.is_file():
        raise BadInput(f"{path}: {what} file not found")
    return path
