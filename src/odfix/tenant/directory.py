"""Directory data beside the sign-ins: users, password audits, CA policies, devices (Graph)."""

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from odfix.errors import BadInput
from odfix.tenant.apps import ONEDRIVE_SIGN_IN, policy_covers
from odfix.tenant.load import LoadReport, Malformed, Target, graph_objects, load_records
from odfix.tenant.schema import lit, ts

if TYPE_CHECKING:
    import duckdb


#: Graph returns at most this many objects for an ``$expand`` (known issue 13635).
EXPAND_CAP = 100
_ID_LIST = "STRUCT(id VARCHAR)[]"
#: The membership columns of ``users_raw`` and ``groups_raw`` (``memberOf`` / ``members`` are
#: the direct lists), in the order of their Graph columns.
_LIST_COLUMNS = (f"direct {_ID_LIST}, direct_count BIGINT, transitive {_ID_LIST}, "
                 "transitive_count BIGINT")


@dataclass(frozen=True)
class Membership:
    """Who is in which group, as far as the inputs tell: ``pairs`` (user id, group id) are
    memberships; ``known_groups`` and ``known_users`` have complete lists, so a pair missing
    for them means "not a member". Anything else is unknown."""

    pairs: frozenset[tuple[str, str]] = frozenset()
    known_groups: frozenset[str] = frozenset()
    known_users: frozenset[str] = frozenset()

    def member(self, user_id: str | None, group_id: str) -> bool | None:
        """Whether the user is in the group; None when no input says."""
        if user_id and (user_id, group_id) in self.pairs:
            return True
        if group_id in self.known_groups or (user_id and user_id in self.known_users):
            return False
        return None


class Policy(BaseModel):
    """The parts of a Conditional Access policy that explain recurring sign-in prompts."""

    id: str
    name: str
    state: str
    sign_in_frequency_hours: float | None
    grant_controls: list[str]
    include_applications: list[str]
    exclude_applications: list[str] = []
    include_users: list[str]
    exclude_users: list[str]
    include_groups: list[str]
    exclude_groups: list[str] = []

    def covers(self, app_id: str | None, resource_id: str | None) -> bool:
        """Whether the policy's applications (include and exclude) reach this sign-in."""
        return policy_covers(self.include_applications, self.exclude_applications, app_id,
                             resource_id)

    @property
    def covers_onedrive(self) -> bool:
        """Whether the OneDrive sync client's sign-in is in the policy's applications."""
        return self.covers(*ONEDRIVE_SIGN_IN)

    def scope_for(self, user_id: str | None, groups: Membership | None = None) -> str | None:
        """How the policy reaches the user: ``all``, ``user``, ``group`` (a member of an
        included group), ``group-unresolved`` (included groups, membership unknown) or None.

        An excluded user, or a known member of an excluded group, is out of scope.
        """
        groups = groups or Membership()
        if user_id and user_id in self.exclude_users:
            return None
        if any(groups.member(user_id, g) for g in self.exclude_groups):
            return None
        if "All" in self.include_users:
            return "all"
        if user_id and user_id in self.include_users:
            return "user"
        answers = [groups.member(user_id, g) for g in self.include_groups]
        if any(answers):
            return "group"
        return "group-unresolved" if None in answers else None


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
        exclude_applications=_strings(_dig(raw, "conditions", "applications",
                                           "excludeApplications")),
        include_users=_strings(_dig(raw, "conditions", "users", "includeUsers")),
        exclude_users=_strings(_dig(raw, "conditions", "users", "excludeUsers")),
        include_groups=_strings(_dig(raw, "conditions", "users", "includeGroups")),
        exclude_groups=_strings(_dig(raw, "conditions", "users", "excludeGroups")),
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
    """Table ``users(user_id, upn, changed_at)`` from lastPasswordChangeDateTime, and the users'
    ``memberOf`` / ``transitiveMemberOf`` lists when the export has them (``add_memberships``)."""
    columns = {"id": "VARCHAR", "userPrincipalName": "VARCHAR",
               "lastPasswordChangeDateTime": "VARCHAR", "memberOf": _ID_LIST,
               "memberOf@odata.count": "BIGINT", "transitiveMemberOf": _ID_LIST,
               "transitiveMemberOf@odata.count": "BIGINT"}
    con.execute("CREATE OR REPLACE TABLE users_raw (id VARCHAR, upn VARCHAR, changed VARCHAR, "
                f"{_LIST_COLUMNS})").fetchall()
    load_records(con, path, Target(columns, ("userPrincipalName", "lastPasswordChangeDateTime"),
                                   lambda src: f"INSERT INTO users_raw SELECT * FROM {src}"),
                 report)
    _count_bad(con, "users_raw", "id IS NULL AND upn IS NULL", path, report,
               "user without id or UPN")
    con.execute(f"""CREATE OR REPLACE TABLE users AS
        SELECT id AS user_id, lower(upn) AS upn, {ts('changed')} AS changed_at
        FROM users_raw WHERE changed IS NOT NULL""").fetchall()
    add_memberships(con, "users_raw", "user")


def load_groups(con: "duckdb.DuckDBPyConnection", path: Path, report: LoadReport) -> None:
    """Group memberships from Graph groups with ``members`` or ``transitiveMembers`` (as
    ``/groups?$expand=members($select=id)`` or ``odfix signins pull`` write them)."""
    columns = {"id": "VARCHAR", "members": _ID_LIST, "members@odata.count": "BIGINT",
               "transitiveMembers": _ID_LIST, "transitiveMembers@odata.count": "BIGINT"}
    con.execute(f"CREATE OR REPLACE TABLE groups_raw (id VARCHAR, {_LIST_COLUMNS})").fetchall()
    load_records(con, path, Target(columns, ("members", "transitiveMembers"),
                                   lambda src: f"INSERT INTO groups_raw SELECT * FROM {src}"),
                 report)
    _count_bad(con, "groups_raw", "id IS NULL", path, report, "group without id")
    add_memberships(con, "groups_raw", "group")


def add_memberships(con: "duckdb.DuckDBPyConnection", table: str, kind: str) -> None:
    """Add to ``memberships(user_id, group_id)`` the lists of ``table`` (``_LIST_COLUMNS``: a
    user's groups when ``kind`` is ``user``, a group's members when it is ``group``; the
    transitive list when there is one), and to ``complete_lists(kind, id)`` the owners whose
    list is whole.

    Graph cuts an ``$expand`` at 100 objects, so a list of 100 or more proves memberships but
    not the absence of others, unless its ``@odata.count`` says it is all there.
    """
    con.execute("CREATE TABLE IF NOT EXISTS memberships (user_id VARCHAR, group_id VARCHAR); "
                "CREATE TABLE IF NOT EXISTS complete_lists (kind VARCHAR, id VARCHAR)").fetchall()
    user, group = ("owner", "m.id") if kind == "user" else ("m.id", "owner")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE odfix_lists AS
        SELECT id AS owner, coalesce(transitive, direct) AS items,
               CASE WHEN transitive IS NULL THEN direct_count ELSE transitive_count END AS total
        FROM {table} WHERE id IS NOT NULL AND coalesce(transitive, direct) IS NOT NULL;
        INSERT INTO memberships SELECT {user}, {group}
            FROM (SELECT owner, unnest(items) AS m FROM odfix_lists) WHERE m.id IS NOT NULL;
        INSERT INTO complete_lists SELECT {lit(kind)}, owner FROM odfix_lists
            WHERE len(items) < {EXPAND_CAP} OR total = len(items);
        DROP TABLE odfix_lists""").fetchall()


def memberships(con: "duckdb.DuckDBPyConnection", user_ids: list[str]) -> Membership:
    """What the loaded inputs say about these users' groups (empty without membership input)."""
    present = con.execute("SELECT count(*) FROM duckdb_tables() "
                          "WHERE table_name = 'memberships'").fetchall()[0][0]
    if not present or not user_ids:
        return Membership()
    pairs = con.execute("SELECT DISTINCT user_id, group_id FROM memberships "
                        "WHERE user_id IN (SELECT unnest($ids))", {"ids": user_ids}).fetchall()
    known = con.execute("SELECT DISTINCT kind, id FROM complete_lists WHERE kind = 'group' "
                        "OR id IN (SELECT unnest($ids))", {"ids": user_ids}).fetchall()
    return Membership(pairs=frozenset((u, g) for u, g in pairs),
                      known_groups=frozenset(i for k, i in known if k == "group"),
                      known_users=frozenset(i for k, i in known if k == "user"))


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
