"""Render an ``Analysis``: Rich tables for people, CSV for spreadsheets."""

import csv
import io

from rich.console import Console
from rich.table import Table

from odfix.output import escape
from odfix.tenant.analyze import Analysis, UserFinding, describe
from odfix.textsafe import csv_cell

CSV_FIELDS = ("upn", "problems", "failures", "onedrive_failures", "categories", "period_hours",
              "confidence",
              "policy_ids", "password_change_correlated", "password_changed_at",
              "cloned_devices", "recommended")


def affected(analysis: Analysis) -> list[UserFinding]:
    """The users with a real, recurring problem (the report's headline), ranked."""
    return [u for u in analysis.users if u.affected]


def headline(analysis: Analysis) -> str:
    """The summary line: users with a recurring problem; failures now and then and expected
    interrupts are counted apart."""
    s = analysis.summary
    occasional = s.users_with_failures - s.affected_users
    return (f"{s.affected_users:,} users with a recurring problem, of {s.users:,} users "
            f"({s.signins:,} sign-ins from {s.files} file(s)); {s.failures:,} failures, "
            f"{occasional:,} more users with occasional failures only; {s.interrupts:,} "
            "expected interrupts (MFA, 'Stay signed in?', ...) not counted as failures")


def policy_names(analysis: Analysis) -> dict[str, str]:
    return {p.id: p.name for p in analysis.policies}


def csv_row(user: UserFinding) -> dict[str, str]:
    """One user as a flat CSV row (lists joined with ``;``)."""
    rec = user.recurrence
    return {
        "upn": user.upn, "problems": ";".join(user.problems), "failures": str(user.failures),
        "onedrive_failures": str(user.onedrive_failures),
        "categories": ";".join(f"{k}={v}" for k, v in user.categories.items()),
        "period_hours": f"{rec.period_hours:g}" if rec else "",
        "confidence": f"{rec.confidence:g}" if rec else "",
        "policy_ids": ";".join(rec.policy_ids) if rec else "",
        "password_change_correlated": str(user.password_change_correlated).lower(),
        "password_changed_at": user.password_changed_at.isoformat()
        if user.password_changed_at else "",
        "cloned_devices": ";".join(user.cloned_devices),
        "recommended": ";".join(user.recommended),
    }


def to_csv(analysis: Analysis) -> str:
    """The users with a recurring problem, ranked, as CSV text (formula-leading cells
    neutralised)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for user in affected(analysis):
        writer.writerow({k: csv_cell(v) for k, v in csv_row(user).items()})
    return out.getvalue()


def render(analysis: Analysis, console: Console, top: int = 20, timelines: bool = False) -> None:
    """Summary, top users, cloned devices, policies, malformed rows (and timelines) as tables."""
    s, names = analysis.summary, policy_names(analysis)
    console.print(f"[bold]{escape(headline(analysis))}[/]"
                  + (f"; [yellow]{s.malformed:,} malformed rows skipped[/]" if s.malformed else ""))
    ranked = affected(analysis)
    users = Table(title=f"Users with a recurring problem (top {min(top, len(ranked))}, "
                        "OneDrive first)")
    for column in ("user", "problem", "failures", "OneDrive", "categories", "cadence",
                   "pwd change", "recommended"):
        users.add_column(column, overflow="fold")
    for u in ranked[:top]:
        rec = u.recurrence
        cadence = (f"~{rec.period_hours:g} h ({rec.confidence:.0%})" if rec else "")
        users.add_row(escape(u.upn), escape(", ".join(u.problems)),
                      str(u.failures), str(u.onedrive_failures),
                      escape(", ".join(f"{k} {v}" for k, v in u.categories.items())), cadence,
                      "yes" if u.password_change_correlated else "",
                      escape("; ".join(describe(a, names) for a in u.recommended)))
    console.print(users)
    if analysis.cloned_devices:
        clones = Table(title="Cloned devices")
        for column in ("device id", "names", "users", "evidence"):
            clones.add_column(column, overflow="fold")
        for c in analysis.cloned_devices:
            clones.add_row(escape(c.device_id), escape(", ".join(c.device_names)),
                           escape(", ".join(c.users)), c.evidence if len(c.device_ids) < 2
                           else f"{c.evidence}: {len(c.device_ids)} objects")
        console.print(clones)
    if analysis.policies:
        table = Table(title="Conditional Access policies")
        for column in ("policy", "state", "sign-in frequency", "grant", "users", "failures"):
            table.add_column(column, overflow="fold")
        for p in analysis.policies:
            table.add_row(escape(p.name), escape(p.state),
                          f"{p.sign_in_frequency_hours:g} h" if p.sign_in_frequency_hours else "",
                          escape(", ".join(p.grant_controls)), str(p.affected_users),
                          str(p.failures))
        console.print(table)
    for upn, events in analysis.timelines.items() if timelines else ():
        table = Table(title=f"Timeline of {escape(upn)}")
        for column in ("time (UTC)", "app", "result", "interactive", "device"):
            table.add_column(column)
        for e in events:
            result = "success" if e.error_code == 0 else f"{e.error_code} {e.category}"
            table.add_row(e.at.strftime("%Y-%m-%d %H:%M:%S"), escape(e.app or ""), escape(result),
                          "" if e.interactive is None else str(e.interactive).lower(),
                          escape(e.device or ""))
        console.print(table)
    for m in analysis.load.malformed:
        where = f"line {m.line}" if m.line else f"record {m.record}" if m.record else "file"
        console.print(f"[yellow]malformed:[/] {escape(m.file)} {where}: {escape(m.reason)}",
                      soft_wrap=True)
    for note in analysis.load.notes:
        console.print(f"note: {escape(note)}", soft_wrap=True)
