"""Server-rendered SVG for the dashboard (nothing fetched: the page works offline)."""

from html import escape

from markupsafe import Markup

from odfix.console.dashboard import Week

WIDTH = 760
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")


def _svg(height: float, body: list[str], label: str) -> Markup:
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="'
                  f'{escape(label)}" width="{WIDTH}" height="{height:.0f}" viewBox="0 0 {WIDTH} '
                  f'{height:.0f}" font-family="sans-serif" font-size="12">' + "".join(body)
                  + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {extra}>{escape(text)}'
            "</text>")


def hours(seconds: int | None) -> str:
    """A duration as people read it: 45 min, 3.5 h, 2.1 d."""
    if seconds is None:
        return "–"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def rate_bars(rows: list[tuple[str, float | None, str]], label: str) -> Markup:
    """One bar per row: a share (0..1) drawn to scale, with a caption after it."""
    if not rows:
        return Markup("<p class=muted>No data yet.</p>")
    left, bar, plot = 230, 16, WIDTH - 230 - 170
    body = []
    for i, (name, rate, caption) in enumerate(rows):
        y = 4 + i * (bar + 8)
        body.append(_text(left - 8, y + 12, name[:34], "end"))
        body.append(f'<rect x="{left}" y="{y}" width="{plot}" height="{bar}" fill="#eef1f4"/>')
        if rate is not None:
            body.append(f'<rect x="{left}" y="{y}" width="{plot * rate:.1f}" height="{bar}" '
                        f'fill="#2c7fb8"><title>{escape(name)}: {rate:.0%}</title></rect>')
        text = f"{rate:.0%}" if rate is not None else "–"
        body.append(_text(left + plot + 8, y + 12, f"{text}  {caption}"))
    return _svg(8 + len(rows) * (bar + 8), body, label)


def duration_bars(rows: list[tuple[str, int | None, int | None]], label: str) -> Markup:
    """Median time to fix as a bar, the 90th percentile as a whisker, on one shared scale."""
    shown = [r for r in rows if r[1] is not None]
    if not shown:
        return Markup("<p class=muted>No fixed cases yet.</p>")
    left, bar, plot = 230, 16, WIDTH - 230 - 170
    peak = max(max(r[2] or 0, r[1] or 0) for r in shown) or 1
    body = []
    for i, (name, median, p90) in enumerate(shown):
        y = 4 + i * (bar + 8)
        body.append(_text(left - 8, y + 12, name[:34], "end"))
        w = plot * (median or 0) / peak
        body.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" fill="#41ab5d">'
                    f"<title>median {hours(median)}</title></rect>")
        if p90 is not None:
            x = left + plot * p90 / peak
            body.append(f'<line x1="{left + w:.1f}" y1="{y + bar / 2}" x2="{x:.1f}" '
                        f'y2="{y + bar / 2}" stroke="#333"/><line x1="{x:.1f}" y1="{y + 2}" '
                        f'x2="{x:.1f}" y2="{y + bar - 2}" stroke="#333"><title>p90 '
                        f"{hours(p90)}</title></line>")
        body.append(_text(left + plot + 8, y + 12, f"{hours(median)} · p90 {hours(p90)}"))
    return _svg(8 + len(shown) * (bar + 8), body, label)


def weekly_chart(weeks: list[Week], label: str) -> Markup:
    """Fix runs per week stacked by cause, and the share fixed as a line (right axis)."""
    if not any(w.runs for w in weeks):
        return Markup("<p class=muted>No fix runs reported in these weeks.</p>")
    causes = sorted({c for w in weeks for c in w.by_cause})
    colour = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(causes)}
    left, top, plot_h, right = 50.0, 10.0, 180.0, 50.0
    step = (WIDTH - left - right) / len(weeks)
    peak = max(w.runs for w in weeks) or 1
    base = top + plot_h
    body = [f'<line x1="{left}" y1="{base}" x2="{WIDTH - right}" y2="{base}" stroke="#333"/>',
            _text(left - 6, top + 8, f"{peak:,}", "end"), _text(left - 6, base, "0", "end"),
            _text(WIDTH - right + 6, top + 8, "100 %"), _text(WIDTH - right + 6, base, "0 %")]
    points = []
    for i, week in enumerate(weeks):
        y = base
        x = left + i * step
        for cause in causes:
            n = week.by_cause.get(cause, 0)
            h = plot_h * n / peak
            y -= h
            if n:
                body.append(f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{max(1.0, step - 4):.1f}" '
                            f'height="{h:.1f}" fill="{colour[cause]}"><title>week of '
                            f"{week.week} {escape(cause)}: {n:,} runs</title></rect>")
        if week.runs:
            points.append(f"{x + step / 2:.1f},{base - plot_h * week.fixed / week.runs:.1f}")
        if i % max(1, len(weeks) // 8) == 0:
            body.append(_text(x + step / 2, base + 14, week.week[5:], "middle"))
    if points:
        body.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#111" '
                    'stroke-width="2"><title>share of runs that fixed the PC</title></polyline>')
    entries = [(c, colour[c]) for c in causes] + [("share fixed", "")]
    x, y = left, base + 24
    for name, fill in entries:
        width = 26 + 6.6 * len(name)
        if x + width > WIDTH:
            x, y = left, y + 16
        if fill:
            body.append(f'<rect x="{x:.1f}" y="{y}" width="10" height="10" fill="{fill}"/>')
            body.append(_text(x + 14, y + 9, name))
        else:
            body.append(f'<line x1="{x:.1f}" y1="{y + 5}" x2="{x + 16:.1f}" y2="{y + 5}" '
                        'stroke="#111" stroke-width="2"/>')
            body.append(_text(x + 20, y + 9, name))
        x += width + 6
    return _svg(y + 16, body, label)
