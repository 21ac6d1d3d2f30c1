"""Directory data beside the sign-ins: users, password audits, CA policies, devices (Graph)."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from odfix.errors import BadInput
from odfix.tenant.apps import ONEDRIVE_POLICY_TARGETS
from odfix.tenant.load import LoadReport, Malformed, Target, graph_objects, load_records
from odfix.tenant.schema import ts

if TYPE_CHECKING:
    import duckdb


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


def _count_bad(con: "duckdb.DuckDBPyConnection", table: str, where: str, path: Path,
               report: LoadReport, reason: str) -> None:
    bad = con.execute(f"SELECT rowid + 1 FROM {table} WHERE {where} ORDER BY 1").fetchall()
    report.add_malformed([Malformed(file=str(path), record=int(r), reason=reason)
                          for (r,) in bad])
    con.execute(f"DELETE FROM {table} WHERE {where}").fetchall()


def load_users(con: "duckdb.DuckDBPyConnection", path: Path, report: LoadReport) -> None:
    """Table ``users(user_id, upn, changed_at)`` from lastPasswordChangeDateTime."""
    columns = {"id": "VARCHAR", "userPrincipalName": "VARCHAR",
               "lastPasswordChangeDateTime": "VARCHAR"}
    con.execute("CREATE OR REPLACE TABLE users_raw (id VARCHAR, upn VARCHAR, changed VARCHAR)"
                ).fetchall()
    load_records(con, path, Target(columns, ("userPrincipalName", "lastPasswordChangeDateTime"),
                                   lambda src: f"INSERT INTO users_raw SELECT * FROM {src}"),
                 report)
    _count_bad(con, "users_raw", "id IS NULL AND upn IS NULL", path, report,
               "user without id or UPN")
    con.execute(f"""CREATE OR REPLACE TABLE users AS
        SELECT id AS user_id, lower(upn) AS upn, {ts('changed')} AS changed_at
        FROM users_raw WHERE changed IS NOT NULL""").fetchall()


def load_audits(con: "duckdb.DuckDBPyConnection", path: Path, report: LoadReport) -> None:
    """Table ``audits(user_id, upn, changed_at)``: password reset/change directory audits."""
    columns = {"activityDateTime": "VARCHAR", "activityDisplayName": "VARCHAR",
               "result": "VARCHAR",
               "targetResources": "STRUCT(id VARCHAR, type VARCHAR, userPrincipalName VARCHAR)[]"}
    con.execute("CREATE OR REPLACE TABLE audits_raw (happened VARCHAR, activity VARCHAR, "
                "result VARCHAR, targets STRUCT(id VARCHAR, type VARCHAR, "
                "userPrincipalName VARCHAR)[])").fetchall()
    load_records(con, path, Target(columns, ("activityDateTime",),
                                   lambda src: f"INSERT INTO audits_raw SELECT * FROM {src}"),
                 report)
    _count_bad(con, "audits_raw", "happened IS NULL", path, report, "audit without time")
    con.execute(f"""CREATE OR REPLACE TABLE audits AS
        SELECT t.id AS user_id, lower(t.userPrincipalName) AS upn, {ts('happened')} AS changed_at
        FROM (SELECT happened, unnest(targets) AS t FROM audits_raw
              WHERE activity ILIKE '%password%' AND coalesce(result, '') <> 'failure')
        WHERE coalesce(t.type, 'User') = 'User'""").fetchall()


def load_devices(con: "duckdb.DuckDBPyConnection", path: Path, report: LoadReport) -> None:
    """Table ``devices(device_id, name, registered_at, enabled, trust_type)`` from Graph devices."""
    columns = {"deviceId": "VARCHAR", "id": "VARCHAR", "displayName": "VARCHAR",
               "registrationDateTime": "VARCHAR", "accountEnabled": "VARCHAR",
               "trustType": "VARCHAR"}
    con.execute("CREATE OR REPLACE TABLE devices_raw (device_id VARCHAR, object_id VARCHAR, "
                "name VARCHAR, registered VARCHAR, enabled VARCHAR, trust_type VARCHAR)"
                ).fetchall()
    load_records(con, path, Target(columns, ("deviceId", "registrationDateTime"),
                                   lambda src: f"INSERT INTO devices_raw SELECT * FROM {src}"),
                 report)
    _count_bad(con, "devices_raw", "name IS NULL OR coalesce(device_id, object_id) IS NULL",
               path, report, "device without name or id")
    con.execute(f"""CREATE OR REPLACE TABLE devices AS
        SELECT coalesce(device_id, object_id) AS device_id, name,
               {ts('registered')} AS registered_at,
               coalesce(try_cast(enabled AS BOOLEAN), true) AS enabled, trust_type
        FROM devices_raw""").fetchall()


def require_file(path: Path | None, what: str) -> Path | None:
    """``path`` when given and present; a clear error when it is missing."""
    if path is not None and not path.is_file():
        raise BadInput(f"{path}: {what} file not found")
    return path
