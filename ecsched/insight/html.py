"""The timeline as one self-contained HTML file: inline CSS and SVG, no script, no network, no fonts to
fetch. Light and dark follow `prefers-color-scheme`; hovering a mark shows its time (SVG <title>)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from html import escape

from ecsched.insight.ticks import written
from ecsched.insight.timeline import Lane, Peak, describe

WIDTH = 1200
LABEL = 260
LANE_H = 20
TOP = 34
_ZERO = timedelta(0)

CSS = """
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1f2328; --muted: #6e7781; --grid: #d0d7de;
  --lane: #f6f8fa; --fire: #0969da; --peak: rgba(207, 34, 46, .35); --ok: #1a7f37; --failed: #cf222e;
  --unknown: #8c959f; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #8d96a0; --grid: #30363d; --lane: #161b22; --fire: #4493f8;
    --peak: rgba(248, 81, 73, .4); --ok: #3fb950; --failed: #f85149; --unknown: #6e7681; }
}
body { background: var(--bg); color: var(--fg); margin: 24px;
  font: 14px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Helvetica, Arial, sans-serif; }
h1 { font-size: 20px; margin: 0 0 4px; }
p.meta { color: var(--muted); margin: 0 0 16px; }
svg { display: block; max-width: 100%; height: auto; }
svg text { fill: var(--fg); font-size: 12px; }
svg .day text { fill: var(--muted); }
svg .day line { stroke: var(--grid); }
svg .lane rect.bg { fill: var(--lane); }
svg .lane.paused { opacity: .4; }
svg .lane.paused text { font-style: italic; }
svg .fire { fill: var(--fire); }
svg .fire:hover, svg .band:hover { stroke: var(--fg); stroke-width: 1; }
svg .band { fill: var(--peak); }
svg circle.ok { fill: var(--ok); } svg circle.failed { fill: var(--failed); }
svg circle.running, svg circle.stopped, svg circle.none { fill: var(--unknown); }
ol#peaks li { margin: 2px 0; }
ul.legend { list-style: none; padding: 0; display: flex; gap: 18px; color: var(--muted); }
ul.legend span { display: inline-block; width: 10px; height: 10px; border-radius: 5px; margin-right: 6px; }
"""

_OUTCOME = {"succeeded": "ok", "failed": "failed", "running": "running", "stopped": "stopped"}


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _t(t: datetime, tz: tzinfo) -> str:
    """`Thu 2026-12-03 03:00 JST (18:00 UTC)` for a UTC time; formatted by hand (strftime is several times
    slower, and a week of a thousand schedules has tens of thousands of marks)."""
    local = t.astimezone(tz)
    text = (f"{_DAYS[local.weekday()]} {local.year}-{local.month:02d}-{local.day:02d} "
            f"{local.hour:02d}:{local.minute:02d} {local.tzname()}")
    if local.utcoffset() != _ZERO:
        u = t.astimezone(UTC)
        text += f" ({u.hour:02d}:{u.minute:02d} UTC)"
    return text


def render(lanes: list[Lane], peaks: list[Peak], start: datetime, end: datetime, tz: tzinfo, tz_name: str,
           *, title: str = "ecsched timeline", history: bool = False, frequent: list[str] | None = None) -> str:
    plot = WIDTH - LABEL - 10
    span = (end - start).total_seconds() or 1.0
    days = max(1, round(span / 86400))

    def x(t: datetime) -> float:
        return LABEL + (t - start).total_seconds() / span * plot

    height = TOP + LANE_H * len(lanes) + 10
    svg = [f'<svg id="lanes" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" '
           f'aria-label="{escape(title)}">']
    day = start.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    svg.append('<g class="days">')
    while day < end:
        if day >= start and x(day) < WIDTH - 70:
            dx = x(day)
            svg.append(f'<g class="day"><line x1="{dx:.1f}" y1="{TOP - 14}" x2="{dx:.1f}" y2="{height - 10}"/>'
                       f'<text x="{dx + 3:.1f}" y="{TOP - 18}">{escape(day.strftime("%a %m-%d"))}</text></g>')
        day = (day + timedelta(days=1)).replace(hour=0, minute=0)
    svg.append("</g>")
    for i, lane in enumerate(lanes):
        y = TOP + i * LANE_H
        cls = "lane" + ("" if lane.enabled else " paused")
        svg.append(f'<g class="{cls}" data-name="{escape(lane.name)}">')
        svg.append(f'<rect class="bg" x="{LABEL}" y="{y + 2}" width="{plot}" height="{LANE_H - 4}"/>')
        label = lane.name if len(lane.name) <= 34 else lane.name[:33] + "…"
        state = "" if lane.enabled else " (paused)"
        text, zone = written(lane.schedule)
        svg.append(f'<text x="18" y="{y + 14}">{escape(label)}<title>{escape(lane.name + state)} — '
                   f"{escape(text)} {escape(zone)}</title></text>")
        if history:
            outcome = _OUTCOME.get(lane.outcome or "", "none")
            svg.append(f'<circle class="{outcome}" cx="8" cy="{y + 10}" r="5"><title>last run: '
                       f'{escape(lane.outcome or "none seen")}</title></circle>')
        svg += _marks(lane, start, span, plot, y, tz)
        svg.append("</g>")
    for p in peaks:
        for d in p.days:
            svg.append(f'<rect class="band" x="{x(d) - 3:.1f}" y="{TOP - 4}" width="7" height="{height - TOP - 6}">'
                       f'<title>{escape(describe(p, tz_name, days))}</title></rect>')
    svg.append("</svg>")
    peak_items = "\n".join(f'<li class="peak">{escape(describe(p, tz_name, days))}</li>' for p in peaks)
    freq = ""
    if frequent:
        freq = ('<p class="meta" id="frequent">Fire more than once per 10 minutes (not counted in peaks): '
                f'{escape(", ".join(frequent))}</p>')
    legend = ('<ul class="legend"><li><span style="background:var(--fire)"></span>fire</li>'
              '<li><span style="background:var(--peak)"></span>peak</li>'
              + ('<li><span style="background:var(--ok)"></span>last run ok</li>'
                 '<li><span style="background:var(--failed)"></span>last run failed</li>' if history else "")
              + "</ul>")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head>\n<body>\n"
            f"<h1>{escape(title)}</h1>\n"
            f'<p class="meta">{len(lanes)} schedules, {_t(start, tz)} to {_t(end, tz)}; times in {escape(tz_name)}. '
            f"Hover a mark for its time.</p>\n{legend}\n" + "\n".join(svg) + "\n"
            f'<h2>Peaks</h2>\n<ol id="peaks">\n{peak_items}\n</ol>\n'
            + ("" if peaks else '<p class="meta" id="no-peaks">No minute has 3 or more batches starting.</p>\n')
            + freq + "\n</body></html>\n")


def _marks(lane: Lane, start: datetime, span: float, plot: int, y: int, tz: tzinfo) -> list[str]:
    """One mark per pixel column that has fires. A lane with more fires than a third of its pixels is
    one band with one title: its marks would touch anyway (and a 15-minute job is 672 marks a week)."""
    guess = " (rate: phase unknown)" if lane.rate is not None else ""
    name = escape(lane.name)
    if len(lane.fires) > plot // 3:
        first, last = lane.fires[0], lane.fires[-1]
        x0 = LABEL + (first - start).total_seconds() / span * plot
        x1 = LABEL + (last - start).total_seconds() / span * plot
        gap = min(b - a for a, b in zip(lane.fires, lane.fires[1:], strict=False))
        return [f'<rect class="fire dense" x="{x0 - 1:.1f}" y="{y + 3}" width="{max(3.0, x1 - x0 + 2):.1f}" '
                f'height="{LANE_H - 6}"><title>{name}: {len(lane.fires)} fires, every {_gap(gap)} or more often, '
                f"from {escape(_t(first, tz))}{guess}</title></rect>"]
    cols: dict[int, list[datetime]] = {}
    for t in lane.fires:
        c = int((t - start).total_seconds() / span * plot)
        if 0 <= c < plot:
            cols.setdefault(c, []).append(t)
    out = []
    for c, times in sorted(cols.items()):
        what = _t(times[0], tz) if len(times) == 1 else f"{len(times)} fires from {_t(times[0], tz)}"
        out.append(f'<rect class="fire" x="{LABEL + c - 1}" y="{y + 3}" width="3" height="{LANE_H - 6}">'
                   f"<title>{name}: {escape(what)}{guess}</title></rect>")
    return out


def _gap(d: timedelta) -> str:
    minutes = int(d.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440} day{'s' if minutes != 1440 else ''}"
    if minutes % 60 == 0:
        return f"{minutes // 60} hour{'s' if minutes != 60 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
