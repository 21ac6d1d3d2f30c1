"""Tenant-wide analysis of loaded sign-ins: classify, rank, recur, correlate, detect clones."""

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, TypeAdapter

from odfix.guide.codes import NOT_FAILURES
from odfix.tenant import apps
from odfix.tenant.directory import (
    Policy,
    load_audits,
    load_devices,
    load_groups,
    load_policies,
    load_users,
    require_file,
)
from odfix.tenant.load import LoadReport, connect, cursor, insert_rows, load_signins
from odfix.tenant.recurrence import EPISODE_HOURS, Recurrence, recurrences
from odfix.tenant.schema import lit

if TYPE_CHECKING:
    import duckdb

#: Who acts on a recurring problem of each category (docs/tenant.md): ``user:`` the user,
#: ``tenant-admin:`` an admin, a guide special case or method id the help desk.
WHO_ACTS: dict[str, tuple[str, ...]] = {
    "password-change": ("after-password-reset",),
    "wrong-password": ("user:check-password", "credential-cleanup"),
    "sign-in-frequency": ("user:sign-in-again", "tenant-admin:review-sign-in-frequency"),
    "inactivity": ("user:sign-in-again",),
    "interaction-required": ("user:complete-mfa",),
    "device": ("tenant-admin:review-device",),
    "ca-block": ("tenant-admin:review-conditional-access",),
    "network": ("connectivity-checks",),
    "identity-cache": ("clear-office-identity", "wam-signout"),
    "account-license": ("tenant-admin:review-account",),
    "unknown": ("tenant-admin:look-up-error-code",),
}
#: Device codes that mean "not compliant / not managed" (the catalog's DeviceNotCompliant and
#: "device must be managed"): Intune's compliance review, not a disabled or deleted device.
COMPLIANCE_CODES = frozenset({53000, 530003})
#: A category is a user's recurring problem with at least this many failures, in at least this
#: many episodes (an hour apart), making up at least this share of the user's sign-ins.
RECURRING_FAILURES = 3
RECURRING_EPISODES = 2
RECURRING_SHARE = 0.10


class Options(BaseModel):
    """Knobs of the analysis (defaults documented in docs/tenant.md)."""

    password_window_hours: float = 72.0
    clone_minutes: float = 60.0
    timeline_users: list[str] = []
    timeline_top: int = 5


class TimelineEvent(BaseModel):
    at: datetime
    app: str | None
    error_code: int
    category: str
    interactive: bool | None
    device: str | None


class UserFinding(BaseModel):
    upn: str
    user_id: str | None
    affected: bool
    problems: list[str]
    signins: int
    failures: int
    onedrive_failures: int
    categories: dict[str, int]
    first_failure: datetime
    last_failure: datetime
    recurrence: Recurrence | None
    password_change_correlated: bool
    password_changed_at: datetime | None
    cloned_devices: list[str]
    recommended: list[str]


class ClonedDevice(BaseModel):
    device_id: str
    device_names: list[str]
    operating_systems: list[str] = []
    device_ids: list[str]
    users: list[str]
    evidence: str  # "sign-ins" | "device-objects"


class PolicyImpact(BaseModel):
    id: str
    name: str
    sign_in_frequency_hours: float | None
    state: str
    grant_controls: list[str]
    targets_onedrive: bool | None
    affected_users: int
    failures: int


class DayCount(BaseModel):
    day: datetime
    category: str
    failures: int


class Summary(BaseModel):
    signins: int
    failures: int
    interrupts: int
    users: int
    users_with_failures: int
    affected_users: int
    files: int
    malformed: int
    start: datetime | None
    end: datetime | None


class Analysis(BaseModel):
    """Everything ``odfix signins analyze`` reports (its ``--json`` document)."""

    summary: Summary
    users: list[UserFinding]
    cloned_devices: list[ClonedDevice]
    policies: list[PolicyImpact]
    failures_by_day: list[DayCount]
    timelines: dict[str, list[TimelineEvent]]
    load: LoadReport


_FINDINGS = TypeAdapter(list[UserFinding])
EPISODE_MINUTES = int(EPISODE_HOURS * 60)


def catalog_categories() -> dict[int, str]:
    """AADSTS code -> guide category from the packaged error-code catalog."""
    from odfix.guide.codes import load_catalog

    return dict(load_catalog().aadsts_categories())


def run(files: Sequence[Path], *, users: Path | None = None, audits: Path | None = None,
        policies: Path | None = None, devices: Path | None = None, groups: Path | None = None,
        categories: dict[int, str] | None = None, options: Options | None = None) -> Analysis:
    """Load every input and analyse it (the whole ``analyze`` command minus rendering)."""
    for path, what in ((users, "users"), (audits, "audits"), (policies, "policies"),
                       (devices, "devices"), (groups, "groups")):
        require_file(path, what)
    con = connect()
    side_con = cursor(con)
    try:
        side = LoadReport()
        # the directory files and the catalog load on a second cursor while the sign-ins load
        with ThreadPoolExecutor(1) as pool:
            extra = pool.submit(_load_directory, side_con, side, users=users, audits=audits,
                                devices=devices, groups=groups, policies=policies,
                                categories=categories)
            report = load_signins(con, files)
            found, codes = extra.result()
        report.extend(side)
        if len(report.files) > 1:
            con.execute("DELETE FROM signins WHERE rowid NOT IN "
                        "(SELECT min(rowid) FROM signins GROUP BY id)").fetchall()
        return analyze(con, report, found, codes, options or Options())
    finally:
        # freeing the in-memory tables (~0.07 s for 1M rows) overlaps the caller's output
        threading.Thread(target=_close, args=(side_con, con), name="odfix-close").start()


def _close(*connections: "duckdb.DuckDBPyConnection") -> None:
    for connection in connections:
        connection.close()


def _load_directory(con: "duckdb.DuckDBPyConnection", report: LoadReport, *,
                    users: Path | None, audits: Path | None, devices: Path | None,
                    groups: Path | None, policies: Path | None,
                    categories: dict[int, str] | None) -> tuple[list[Policy], dict[int, str]]:
    """Load the optional directory files; the policies and the code catalog."""
    if users:
        load_users(con, users, report)
    if groups:
        load_groups(con, groups, report)
    if audits:
        load_audits(con, audits, report)
    if devices:
        load_devices(con, devices, report)
    found = load_policies(policies, report) if policies else []
    return found, categories if categories is not None else catalog_categories()


def analyze(con: "duckdb.DuckDBPyConnection", report: LoadReport, policies: list[Policy],
            categories: dict[int, str], options: Options) -> Analysis:
    """Run the analysis over the loaded tables (``signins`` and optional directory tables).

    Queries over all sign-ins (totals, clones, the summary) run on a second session while the
    per-user ones run here; the day counts and timelines run there while findings are built.
    """
    insert_rows(con, "codes", "code INTEGER, category VARCHAR", sorted(categories.items()))
    with cursor(con) as side, ThreadPoolExecutor(1) as pool:  # the pool ends first
        whole = pool.submit(_tenant_wide, side, options.clone_minutes)
        per_user, cats, recurring = _per_user(con)
        recur = recurrences(con, policies, {r[0]: r[1] for r in per_user})
        changed = _password_changes(con, options.password_window_hours)
        picked = options.timeline_users or [r[0] for r in per_user
                                            if r[0] in recur][:options.timeline_top]
        later = pool.submit(lambda: (_by_day(side), timelines(side, picked)))
        totals, clones, summary = whole.result()
        findings = _findings(per_user, cats, recurring, totals, recur, changed, clones)
        by_day, lines = later.result()
    summary.users_with_failures, summary.files = len(findings), len(report.files)
    summary.affected_users = sum(f.affected for f in findings)
    summary.malformed = report.malformed_count
    return Analysis(summary=summary, users=findings, cloned_devices=clones,
                    policies=_impact(con, policies, findings), failures_by_day=by_day,
                    timelines=lines, load=report)


Episodes = dict[tuple[str, str], int]


def _per_user(con: "duckdb.DuckDBPyConnection") -> tuple[list[tuple[Any, ...]],
                                                        dict[str, dict[str, int]], Episodes]:
    """The ``failures`` table (expected interrupts are not failures); per-user failure rows
    (ranked), category counts and episodes per (user, category)."""
    od_apps = ", ".join(lit(a) for a in sorted(apps.ONEDRIVE_CLIENT_APPS))
    od_res = ", ".join(lit(r) for r in sorted(apps.ONEDRIVE_RESOURCES))
    expected = ", ".join(lit(c) for c in sorted(NOT_FAILURES))
    con.execute(f"""CREATE OR REPLACE TABLE failures AS
        SELECT * FROM (
        SELECT s.created_at, s.upn, s.user_id, s.app_id, s.app_name, s.resource_id, s.error_code,
               s.interactive, s.device_name, s.ca,
               coalesce(c.category, 'unknown') AS category,
               coalesce(s.app_id IN ({od_apps}) OR s.resource_id IN ({od_res}), false) AS onedrive
        FROM signins s LEFT JOIN codes c ON c.code = s.error_code
        WHERE s.error_code <> 0) WHERE category NOT IN ({expected})""").fetchall()
    per_user = con.execute("""
        SELECT upn, any_value(user_id), count(*), count(*) FILTER (WHERE onedrive),
               min(created_at), max(created_at),
               list(DISTINCT error_code) FILTER (WHERE category = 'device')
        FROM failures GROUP BY upn ORDER BY 4 DESC, 3 DESC, 1""").fetchall()
    cats: dict[str, dict[str, int]] = {}
    episodes: Episodes = {}
    for upn, category, n, starts in con.execute(f"""
            WITH g AS (SELECT upn, category, created_at - lag(created_at) OVER
                              (PARTITION BY upn, category ORDER BY created_at) AS gap
                       FROM failures)
            SELECT upn, category, count(*),
                   count(*) FILTER (WHERE gap IS NULL OR gap > INTERVAL {EPISODE_MINUTES} MINUTE)
            FROM g GROUP BY ALL ORDER BY 3 DESC, 2""").fetchall():
        cats.setdefault(upn, {})[category] = n  # most frequent first, ties by name
        episodes[upn, category] = starts
    return per_user, cats, episodes


def _tenant_wide(con: "duckdb.DuckDBPyConnection", clone_minutes: float
                 ) -> tuple[dict[str, int], list[ClonedDevice], Summary]:
    """Sign-ins per user, cloned devices and the summary (its per-run fields left at 0)."""
    totals = dict(con.execute("SELECT upn, count(*) FROM signins GROUP BY upn").fetchall())
    expected = ", ".join(lit(c) for c in sorted(NOT_FAILURES))
    row = con.execute(f"""
        WITH s AS (SELECT s.error_code, s.upn, s.created_at, coalesce(c.category, 'unknown')
                          IN ({expected}) AS expected
                   FROM signins s LEFT JOIN codes c ON c.code = s.error_code)
        SELECT count(*), count(*) FILTER (WHERE error_code <> 0 AND NOT expected),
               count(*) FILTER (WHERE error_code <> 0 AND expected),
               count(DISTINCT upn), min(created_at), max(created_at) FROM s""").fetchall()[0]
    summary = Summary(signins=int(row[0]), failures=int(row[1]), interrupts=int(row[2]),
                      users=int(row[3]), users_with_failures=0, affected_users=0, files=0,
                      malformed=0, start=row[4], end=row[5])
    return totals, _clones(con, clone_minutes), summary


def _findings(per_user: list[tuple[Any, ...]], cats: dict[str, dict[str, int]],
              episodes: Episodes, totals: dict[str, int], recur: dict[str, Recurrence],
              changed: dict[str, datetime], clones: list[ClonedDevice]) -> list[UserFinding]:
    """One finding per user with failures; users with a recurring problem first, each part in
    ``per_user``'s rank order. Only they get recommendations."""
    on_clone: dict[str, list[str]] = {}
    for clone in clones:
        for upn in clone.users:
            on_clone.setdefault(upn, []).append(clone.device_id)
    rows = []
    for upn, uid, n, od, first, last, device_codes in per_user:
        rec, counts, devices = recur.get(upn), cats.get(upn, {}), on_clone.get(upn, [])
        signins, password = totals.get(upn, n), upn in changed
        problems = recurring_categories(counts, episodes, upn, signins)
        if rec is not None and rec.category not in problems:
            problems.insert(0, rec.category)
        problems += [p for p, found in (("password-change", password),
                                        ("cloned-device", devices)) if found and p not in problems]
        affected = bool(problems)
        plan = recommend(problems, rec, password, devices, frozenset(device_codes or ())) \
            if affected else []
        rows.append({"upn": upn, "user_id": uid, "affected": affected, "problems": problems,
                     "signins": signins, "failures": n,
                     "onedrive_failures": od, "categories": counts, "first_failure": first,
                     "last_failure": last, "recurrence": rec,
                     "password_change_correlated": password,
                     "password_changed_at": changed.get(upn), "cloned_devices": devices,
                     "recommended": plan})
    rows.sort(key=lambda r: not r["affected"])  # stable: the rank order stays within each part
    return _FINDINGS.validate_python(rows)


def recurring_categories(counts: dict[str, int], episodes: Episodes, upn: str,
                         signins: int) -> list[str]:
    """The categories that are a real, recurring problem for a user (not a failure now and
    then): ``RECURRING_FAILURES`` failures or more in ``RECURRING_EPISODES`` episodes or more,
    at least ``RECURRING_SHARE`` of the user's sign-ins."""
    return [category for category, n in counts.items()
            if n >= RECURRING_FAILURES and episodes.get((upn, category), 1) >= RECURRING_EPISODES
            and n >= RECURRING_SHARE * signins]


def recommend(problems: list[str], rec: Recurrence | None, password: bool, clones: list[str],
              device_codes: frozenset[int] = frozenset()) -> list[str]:
    """Ordered actions for one user's recurring problems (``WHO_ACTS``): the password-change
    path, the policies that explain a cadence, cloned devices, then each problem category.

    A cloned device gets an admin review, never an unjoin: the sign-in logs do not show the
    PC's join type, which every unjoin needs first (docs/tenant.md).
    """
    out: list[str] = []
    if password:
        out += WHO_ACTS["password-change"]
    if rec is not None:
        out += [f"tenant-admin:review-policy:{pid}" for pid in rec.policy_ids]
    out += [f"tenant-admin:review-cloned-device:{device}" for device in clones]
    for category in problems:
        if category == "cloned-device":
            continue  # reviewed above, device by device
        if category == "device":
            if device_codes & COMPLIANCE_CODES:
                out.append("tenant-admin:intune-compliance-review")
            if device_codes - COMPLIANCE_CODES or not device_codes:
                out.append("tenant-admin:review-device")
        elif category == "sign-in-frequency" and rec is not None and rec.policy_ids:
            out.append("user:sign-in-again")  # the explaining policies are listed above
        else:
            out += WHO_ACTS.get(category, WHO_ACTS["unknown"])
    return list(dict.fromkeys(out))


def describe(action: str, names: dict[str, str]) -> str:
    """Human text for a recommendation id (guide method ids are shown as they are)."""
    if action.startswith("tenant-admin:review-policy:"):
        pid = action.rsplit(":", 1)[1]
        return f"tenant admin: review policy {names.get(pid, pid)}"
    if action.startswith("tenant-admin:review-cloned-device:"):
        return f"tenant admin: review cloned device {action.rsplit(':', 1)[1]}"
    if action == "tenant-admin:intune-compliance-review":
        return "tenant admin: Intune compliance review of the device"
    if action.startswith(("tenant-admin:", "user:")):
        who, what = action.split(":", 1)
        return f"{who.replace('-', ' ')}: {what.replace('-', ' ')}"
    if action == "after-password-reset":
        return "help desk: the password-change path (odfix guide, after-password-reset)"
    return f"help desk: {action}"


def _password_changes(con: "duckdb.DuckDBPyConnection", window: float) -> dict[str, datetime]:
    tables = [t for (t,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name IN ('users', 'audits')"
    ).fetchall()]
    if not tables:
        return {}
    union = " UNION ALL ".join(f"SELECT user_id, upn, changed_at FROM {t}" for t in tables)
    rows = con.execute(f"""
        WITH ids AS (SELECT DISTINCT user_id, upn FROM failures WHERE user_id IS NOT NULL),
        changes AS (SELECT coalesce(c.upn, ids.upn) AS upn, c.changed_at
                    FROM ({union}) c LEFT JOIN ids ON ids.user_id = c.user_id)
        SELECT f.upn, max(c.changed_at) FROM failures f JOIN changes c ON c.upn = f.upn
        WHERE f.category = 'password-change' AND f.created_at >= c.changed_at
          AND f.created_at <= c.changed_at + INTERVAL {int(window * 60)} MINUTE
        GROUP BY f.upn""").fetchall()
    return {upn: at for upn, at in rows}


def _clones(con: "duckdb.DuckDBPyConnection", minutes: float) -> list[ClonedDevice]:
    out = [ClonedDevice(device_id=d, device_names=names or [], operating_systems=systems or [],
                        device_ids=[d], users=users, evidence="sign-ins")
           for d, names, systems, users in con.execute("""
        WITH triples AS (SELECT device_id, device_name, device_os FROM signins
                         WHERE device_id IS NOT NULL GROUP BY ALL),
             odd AS (SELECT device_id, count(DISTINCT device_name) > 1 AS renamed
                     FROM triples GROUP BY device_id
                     HAVING count(DISTINCT device_name) > 1 OR count(DISTINCT device_os) > 1),
             seen AS (SELECT device_id, device_name, device_os, upn, created_at
                      FROM signins SEMI JOIN odd USING (device_id)),
             flips AS (SELECT device_id FROM (
                           SELECT device_id, device_os, lag(device_os) OVER
                                  (PARTITION BY device_id ORDER BY created_at) AS prev
                           FROM seen WHERE device_os IS NOT NULL)
                       WHERE prev <> device_os GROUP BY device_id HAVING count(*) >= 2),
             flagged AS (SELECT device_id FROM odd WHERE renamed
                         UNION SELECT device_id FROM flips)
        SELECT device_id,
               list(DISTINCT device_name ORDER BY device_name)
                   FILTER (WHERE device_name IS NOT NULL),
               list(DISTINCT device_os ORDER BY device_os) FILTER (WHERE device_os IS NOT NULL),
               list(DISTINCT upn ORDER BY upn)
        FROM seen SEMI JOIN flagged USING (device_id)
        GROUP BY device_id ORDER BY device_id""").fetchall()]
    has_devices = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'devices'").fetchall()[0][0]
    if has_devices:
        for name, ids in con.execute(f"""
            WITH d AS (SELECT lower(name) AS k, name, device_id, registered_at,
                              lag(registered_at) OVER (PARTITION BY lower(name)
                                                       ORDER BY registered_at) AS prev
                       FROM devices)
            SELECT any_value(name), list(device_id ORDER BY registered_at) FROM d
            WHERE k IN (SELECT k FROM d
                        WHERE registered_at - prev <= INTERVAL {int(minutes)} MINUTE)
            GROUP BY k ORDER BY 1""").fetchall():
            out.append(ClonedDevice(device_id=ids[0], device_names=[name], device_ids=ids,
                                    users=[], evidence="device-objects"))
    return out


def _impact(con: "duckdb.DuckDBPyConnection", policies: list[Policy],
            findings: list[UserFinding]) -> list[PolicyImpact]:
    logged = {pid: (name, int(n)) for pid, name, n in con.execute("""
        SELECT p.id, any_value(p.name), count(*) FROM (SELECT unnest(ca) AS p FROM failures)
        GROUP BY p.id""").fetchall()}
    affected: dict[str, int] = {}
    for f in findings:
        for pid in f.recurrence.policy_ids if f.recurrence else []:
            affected[pid] = affected.get(pid, 0) + 1
    out = [PolicyImpact(id=p.id, name=p.name, sign_in_frequency_hours=p.sign_in_frequency_hours,
                        state=p.state, grant_controls=p.grant_controls,
                        targets_onedrive=p.covers_onedrive, affected_users=affected.get(p.id, 0),
                        failures=logged.get(p.id, ("", 0))[1]) for p in policies]
    known = {p.id for p in policies}
    out += [PolicyImpact(id=pid, name=name or pid, sign_in_frequency_hours=None, state="unknown",
                         grant_controls=[], targets_onedrive=None,
                         affected_users=affected.get(pid, 0), failures=n)
            for pid, (name, n) in sorted(logged.items()) if pid not in known]
    out.sort(key=lambda p: (-p.affected_users, -p.failures, p.name))
    return out


def _by_day(con: "duckdb.DuckDBPyConnection") -> list[DayCount]:
    return [DayCount(day=d, category=c, failures=int(n)) for d, c, n in con.execute("""
        SELECT date_trunc('day', created_at), category, count(*) FROM failures
        GROUP BY ALL ORDER BY 1, 2""").fetchall()]


def timelines(con: "duckdb.DuckDBPyConnection",
              upns: Sequence[str]) -> dict[str, list[TimelineEvent]]:
    """Every sign-in of each user in ``upns``, failures classified, oldest first (one scan)."""
    out: dict[str, list[TimelineEvent]] = {u.lower(): [] for u in upns}
    if not out:
        return out
    wanted = ", ".join(lit(u) for u in out)
    for upn, at, app, code, cat, inter, dev in con.execute(f"""
        SELECT s.upn, s.created_at, s.app_name, s.error_code,
               CASE WHEN s.error_code = 0 THEN 'success' ELSE coalesce(c.category, 'unknown') END,
               s.interactive, s.device_name
        FROM signins s LEFT JOIN codes c ON c.code = s.error_code
        WHERE s.upn IN ({wanted}) ORDER BY s.upn, s.created_at""").fetchall():
        out[upn].append(TimelineEvent(at=at, app=app, error_code=code, category=cat,
                                      interactive=inter, device=dev))
    return out
