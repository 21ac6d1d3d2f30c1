"""The self-contained HTML report: inline CSS and SVG charts drawn here, nothing fetched."""

from collections import defaultdict
from datetime import datetime
from html import escape
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from odfix.tenant.analyze import Analysis, TimelineEvent, describe
from odfix.tenant.outfile import write_text
from odfix.tenant.report import affected, headline, policy_names

COLORS = {
    "password-change": "#d62728", "sign-in-frequency": "#1f77b4", "inactivity": "#9467bd",
    "interaction-required": "#ff7f0e", "device": "#8c564b", "ca-block": "#e377c2",
    "network": "#7f7f7f", "identity-cache": "#bcbd22", "account-license": "#17becf",
    "unknown": "#aaaaaa", "success": "#2ca02c",
}
WIDTH = 880


def _color(category: str) -> str:
    return COLORS.get(category, COLORS["unknown"])


def _svg(height: int, body: list[str]) -> Markup:
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
                  f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">'
                  + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {extra}>'
            f"{escape(text)}</text>")


def failures_chart(analysis: Analysis) -> Markup:
    """Stacked bars: failures per day, coloured by category, with a legend."""
    days: dict[datetime, dict[str, int]] = defaultdict(dict)
    for d in analysis.failures_by_day:
        days[d.day][d.category] = d.failures
    if not days:
        return Markup("<p>No failures.</p>")
    order = sorted({d.category for d in analysis.failures_by_day})
    keys = sorted(days)
    peak = max(sum(v.values()) for v in days.values())
    left, top, plot_h = 50.0, 10.0, 220.0
    step = (WIDTH - left - 10) / len(keys)
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{WIDTH - 10}" y2="{top + plot_h}" '
            'stroke="#333"/>', _text(left - 6, top + 8, f"{peak:,}", "end"),
            _text(left - 6, top + plot_h, "0", "end")]
    for i, day in enumerate(keys):
        y = top + plot_h
        for category in order:
            n = days[day].get(category, 0)
            h = plot_h * n / peak
            y -= h
            body.append(f'<rect x="{left + i * step + 1:.1f}" y="{y:.1f}" '
                        f'width="{max(1.0, step - 2):.1f}" height="{h:.1f}" '
                        f'fill="{_color(category)}"><title>{day:%Y-%m-%d} {category}: {n}'
                        "</title></rect>")
        if i % max(1, len(keys) // 10) == 0:
            body.append(_text(left + i * step + step / 2, top + plot_h + 14, f"{day:%m-%d}",
                              "middle"))
    x = left
    for category in order:
        body.append(f'<rect x="{x}" y="{top + plot_h + 24}" width="10" height="10" '
                    f'fill="{_color(category)}"/>')
        body.append(_text(x + 14, top + plot_h + 33, category))
        x += 24 + 6.5 * len(category)
    return _svg(int(top + plot_h + 44), body)


def cadence_chart(timelines: dict[str, list[TimelineEvent]]) -> Markup:
    """One lane per user: failures as coloured marks, successes as small grey ticks."""
    lanes = {u: ev for u, ev in timelines.items() if ev}
    if not lanes:
        return Markup("<p>No recurring users.</p>")
    start = min(e.at for ev in lanes.values() for e in ev)
    end = max(e.at for ev in lanes.values() for e in ev)
    span = max(1.0, (end - start).total_seconds())
    left, lane = 200, 34
    body = []
    for row, (upn, events) in enumerate(lanes.items()):
        y = 20 + row * lane
        body.append(_text(left - 8, y + 4, upn, "end"))
        body.append(f'<line x1="{left}" y1="{y}" x2="{WIDTH - 10}" y2="{y}" stroke="#ddd"/>')
        for e in events:
            x = left + (WIDTH - left - 10) * (e.at - start).total_seconds() / span
            if e.category == "success":
                body.append(f'<line x1="{x:.1f}" y1="{y - 4}" x2="{x:.1f}" y2="{y + 4}" '
                            'stroke="#bbb"/>')
            else:
                body.append(f'<circle cx="{x:.1f}" cy="{y}" r="4" fill="{_color(e.category)}">'
                            f"<title>{e.at:%Y-%m-%d %H:%M} {e.error_code} {e.category}</title>"
                            "</circle>")
    y = 20 + len(lanes) * lane
    body.append(_text(left, y, f"{start:%Y-%m-%d}"))
    body.append(_text(WIDTH - 10, y, f"{end:%Y-%m-%d}", "end"))
    return _svg(y + 8, body)


def bar_chart(rows: list[tuple[str, int, int]], first: str, second: str) -> Markup:
    """Horizontal bars: ``(label, total, part)``; the part is drawn darker inside the total."""
    if not rows:
        return Markup("<p>Nothing to show.</p>")
    left, bar = 260, 18
    peak = max(1, max(r[1] for r in rows))
    body = []
    for i, (label, total, part) in enumerate(rows):
        y = 6 + i * (bar + 6)
        w = (WIDTH - left - 60) * total / peak
        wp = (WIDTH - left - 60) * part / peak
        body.append(_text(left - 8, y + 13, label[:40], "end"))
        body.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" fill="#9ecae1"/>')
        body.append(f'<rect x="{left}" y="{y}" width="{wp:.1f}" height="{bar}" fill="#3182bd"/>')
        body.append(_text(left + w + 6, y + 13, f"{total:,} ({part:,})"))
    y = 6 + len(rows) * (bar + 6)
    body.append(f'<rect x="{left}" y="{y + 4}" width="10" height="10" fill="#3182bd"/>')
    body.append(_text(left + 14, y + 13, second))
    gap = left + 34 + 6.5 * len(second)
    body.append(f'<rect x="{gap:.1f}" y="{y + 4}" width="10" height="10" fill="#9ecae1"/>')
    body.append(_text(gap + 14, y + 13, first))
    return _svg(y + 22, body)


def render_html(analysis: Analysis) -> str:
    """The whole report as one HTML string."""
    env = Environment(loader=PackageLoader("odfix.tenant", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    names = policy_names(analysis)
    ranked = affected(analysis)
    top = ranked[:15]
    policies = [p for p in analysis.policies if p.affected_users or p.failures][:12]
    return env.get_template("report.html.j2").render(
        a=analysis, names=names, describe=describe, colors=COLORS, ranked=ranked,
        headline=headline(analysis),
        failures_chart=failures_chart(analysis),
        cadence_chart=cadence_chart(analysis.timelines),
        users_chart=bar_chart([(u.upn, u.failures, u.onedrive_failures) for u in top],
                              "all failures", "OneDrive / Office clients"),
        policy_chart=bar_chart([(p.name, p.failures, p.affected_users) for p in policies],
                               "failures citing the policy", "users with a cadence it explains"),
    )


def write_html(analysis: Analysis, path: Path) -> None:
    """Write the report to ``path`` (one clear line when it cannot be written)."""
    write_text(path, render_html(analysis), "the HTML report")
