"""Per-user cadence of failures (e.g. every ~24 h) and the CA policies that explain it.

Failures of one user and category closer than an hour are one episode; the gaps between episode
starts give the period (their median) and the confidence: the share of gaps within 10 % of a
period or twice or three times it (a missed day is still on cadence), scaled down below
eight gaps.
Password-change failures come in bursts after the change, not on a cadence, so they are left out.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel

from odfix.tenant.apps import ONEDRIVE_SIGN_IN
from odfix.tenant.directory import Membership, Policy, memberships

if TYPE_CHECKING:
    import duckdb

MIN_GAPS = 3
MIN_CONFIDENCE = 0.7
EPISODE_HOURS = 1.0
MIN_PERIOD_HOURS = 2.0

#: Categories a sign-in-frequency (session) policy explains; the rest need grant controls.
_SESSION_CATEGORIES = {"sign-in-frequency", "interaction-required", "inactivity"}
_GRANT_CATEGORIES = {"ca-block": {"block"}, "device": {"compliantDevice", "domainJoinedDevice"}}


class Recurrence(BaseModel):
    """A user's failure cadence (the ``--json`` contract: period_hours, confidence, policy_ids)."""

    period_hours: float
    confidence: float
    policy_ids: list[str]
    category: str
    episodes: int


def cadences(con: "duckdb.DuckDBPyConnection") -> dict[str, tuple[str, float, float, int]]:
    """upn -> (category, period hours, confidence, episodes) for users with a cadence."""
    rows = con.execute(f"""
        WITH ep AS (
            SELECT upn, category, created_at,
                   lag(created_at) OVER (PARTITION BY upn, category ORDER BY created_at) AS prev
            FROM failures WHERE category <> 'password-change'),
        starts AS (
            SELECT upn, category, created_at FROM ep
            WHERE prev IS NULL OR created_at - prev > INTERVAL {EPISODE_HOURS * 60:.0f} MINUTE),
        gaps AS (
            SELECT upn, category, epoch(created_at - lag(created_at) OVER
                       (PARTITION BY upn, category ORDER BY created_at)) / 3600.0 AS h
            FROM starts),
        stats AS (
            SELECT upn, category, median(h) AS period, list(h) AS hs, count(*) AS n
            FROM gaps WHERE h IS NOT NULL GROUP BY ALL HAVING count(*) >= {MIN_GAPS}),
        scored AS (
            SELECT upn, category, period, n,
                   len(list_filter(hs, lambda x: abs(
                       x - period * least(3, greatest(1, round(x / period))))
                       <= greatest(0.1 * period, 0.25))) / n
                   * least(1.0, n / 8.0) AS confidence
            FROM stats WHERE period >= {MIN_PERIOD_HOURS})
        SELECT upn, arg_max(category, confidence), arg_max(period, confidence),
               max(confidence), arg_max(n, confidence) + 1
        FROM scored WHERE confidence >= {MIN_CONFIDENCE} GROUP BY upn""").fetchall()
    return {r[0]: (r[1], float(r[2]), float(r[3]), int(r[4])) for r in rows}


def logged_policies(con: "duckdb.DuckDBPyConnection",
                    found: dict[str, tuple[str, float, float, int]]) -> dict[str, list[str]]:
    """upn -> ids of CA policies the logs show enforcing on that user's recurring failures."""
    if not found:
        return {}
    rows = con.execute("""
        WITH recurring AS (SELECT unnest($upns) AS upn, unnest($categories) AS category)
        SELECT upn, p.id, count(*) AS n FROM (
            SELECT f.upn, unnest(f.ca) AS p FROM failures f
            JOIN recurring r ON r.upn = f.upn AND r.category = f.category)
        WHERE p.sif OR p.result IN ('failure', 'reportOnlyFailure')
        GROUP BY ALL ORDER BY upn, n DESC""",
                       {"upns": list(found), "categories": [c[0] for c in found.values()]}
                       ).fetchall()
    out: dict[str, list[str]] = {}
    for upn, pid, _ in rows:
        out.setdefault(upn, []).append(pid)
    return out


def failing_apps(con: "duckdb.DuckDBPyConnection", found: dict[str, tuple[str, float, float, int]]
                 ) -> dict[str, list[tuple[str | None, str | None]]]:
    """upn -> the (client app id, resource id) pairs of that user's recurring failures."""
    if not found:
        return {}
    rows = con.execute("""
        WITH recurring AS (SELECT unnest($upns) AS upn, unnest($categories) AS category)
        SELECT DISTINCT f.upn, f.app_id, f.resource_id FROM failures f
        JOIN recurring r ON r.upn = f.upn AND r.category = f.category ORDER BY ALL""",
                       {"upns": list(found), "categories": [c[0] for c in found.values()]}
                       ).fetchall()
    out: dict[str, list[tuple[str | None, str | None]]] = {}
    for upn, app, resource in rows:
        out.setdefault(upn, []).append((app, resource))
    return out


def explaining(policy: Policy, category: str, period: float, user_id: str | None,
               groups: Membership | None = None,
               apps: Sequence[tuple[str | None, str | None]] = ()) -> bool:
    """Whether an enforced ``policy`` can explain a ``period``-hour cadence of ``category``
    (for a user it may reach: group scope is checked where ``groups`` knows the membership)
    on failures of ``apps`` (client app id, resource id; the OneDrive sync client when none
    are given): the policy's included applications must reach one, its excluded ones not."""
    if policy.state != "enabled" or policy.scope_for(user_id, groups) is None:
        return False
    if not any(policy.covers(app, resource) for app, resource in apps or [ONEDRIVE_SIGN_IN]):
        return False
    if category in _SESSION_CATEGORIES and policy.sign_in_frequency_hours:
        sif = policy.sign_in_frequency_hours
        return abs(period - sif) <= 0.25 * sif
    wanted = _GRANT_CATEGORIES.get(category)
    return bool(wanted and wanted.intersection(policy.grant_controls))


def recurrences(con: "duckdb.DuckDBPyConnection", policies: list[Policy],
                user_ids: dict[str, str | None]) -> dict[str, Recurrence]:
    """upn -> ``Recurrence`` with the explaining policies (logged ones first, then matches)."""
    found = cadences(con)
    logged = logged_policies(con, found)
    apps = failing_apps(con, found)
    groups = memberships(con, sorted({uid for upn in found if (uid := user_ids.get(upn))}))
    out = {}
    for upn, (category, period, confidence, episodes) in found.items():
        ids = list(logged.get(upn, []))
        ids += [p.id for p in policies if p.id not in ids
                and explaining(p, category, period, user_ids.get(upn), groups, apps.get(upn, []))]
        out[upn] = Recurrence(period_hours=round(period, 2), confidence=round(confidence, 2),
                              policy_ids=ids, category=category, episodes=episodes)
    return out
