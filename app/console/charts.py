"""Server-rendered SVG charts for the statistics dashboard: no script, no chart library, no
inline style (the console's content policy forbids it). Each chart scales to its container
through its viewBox, so it stays readable on a 390 px phone."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 420, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 40, 8, 14, 40
BAR = "#b3121b"
SECOND = "#1f7a3a"
GRID = "#dee0e3"
INK = "#1f2329"
MUTED = "#646a73"


def _nice_max(value: int) -> int:
    """A round axis maximum at or above `value` (4, or 1, 2, 5 × 10^n)."""
    if value <= 4:
        return 4  # whole-number ticks for small counts
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _label_every(count: int, room: int = 6) -> int:
    return max(1, -(-count // room))


def bar_chart(
    series: Sequence[tuple[str, int]],
    *,
    title: str,
    second: Sequence[tuple[str, int]] | None = None,
    legend: tuple[str, str] | None = None,
    chart_id: str,
) -> Markup:
    """Vertical bars per period (optionally a second, green series beside each bar)."""
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    values = [v for _, v in series] + [v for _, v in (second or [])]
    top = _nice_max(max(values, default=0))
    n = max(1, len(series))
    slot = plot_w / n
    width = slot * (0.38 if second else 0.7)
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
    ]
    for i in range(5):
        value = top * i / 4
        y = PAD_TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="13" '
            f'fill="{MUTED}">{value:g}</text>'
        )
    every = _label_every(n)
    for i, (label, value) in enumerate(series):
        x = PAD_LEFT + slot * i + (slot - (width * (2 if second else 1))) / 2
        parts.append(_bar(x, width, value, top, plot_h, BAR, f"{label}: {value}"))
        if second is not None:
            other = second[i][1] if i < len(second) else 0
            parts.append(_bar(x + width, width, other, top, plot_h, SECOND, f"{label}: {other}"))
        if i % every == 0:
            cx = PAD_LEFT + slot * i + slot / 2
            parts.append(
                f'<text x="{cx:.1f}" y="{HEIGHT - PAD_BOTTOM + 16}" text-anchor="middle" '
                f'font-size="13" fill="{INK}">{escape(_short(label))}</text>'
            )
    if legend and second is not None:
        parts.append(_legend(legend))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text and label above is escaped)


def _bar(x: float, w: float, value: int, top: int, plot_h: float, fill: str, tip: str) -> str:
    h = plot_h * value / top if top else 0
    y = PAD_TOP + plot_h - h
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}" '
        f'data-value="{value}"><title>{escape(tip)}</title></rect>'
    )


def _short(label: str) -> str:
    """2026-11-05 -> 11-05; 2026-11 -> 2026-11."""
    return label[5:] if len(label) == 10 else label


def _legend(names: tuple[str, str]) -> str:
    y = HEIGHT - 8
    return (
        f'<rect x="{PAD_LEFT}" y="{y - 9}" width="10" height="10" fill="{BAR}"/>'
        f'<text x="{PAD_LEFT + 14}" y="{y}" font-size="13" fill="{INK}">{escape(names[0])}</text>'
        f'<rect x="{PAD_LEFT + 120}" y="{y - 9}" width="10" height="10" fill="{SECOND}"/>'
        f'<text x="{PAD_LEFT + 134}" y="{y}" font-size="13" fill="{INK}">{escape(names[1])}</text>'
    )


def rate_bars(rows: Sequence[tuple[str, float | None]], *, title: str, chart_id: str) -> Markup:
    """Horizontal bars of rates (0..1) per region, labelled with the percentage."""
    row_h, label_w, width = 26, 70, WIDTH
    height = max(1, len(rows)) * row_h + 8
    plot_w = width - label_w - 60
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
    ]
    for i, (label, rate) in enumerate(rows):
        y = 4 + i * row_h
        w = plot_w * (rate or 0)
        text = "—" if rate is None else f"{rate * 100:.1f}%"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end" font-size="13" '
            f'fill="{INK}">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{plot_w}" height="16" fill="{GRID}"/>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="16" fill="{SECOND}" '
            f'data-value="{rate if rate is not None else ""}"/>'
            f'<text x="{label_w + plot_w + 6}" y="{y + 16}" font-size="13" '
            f'fill="{INK}">{text}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text and label above is escaped)
