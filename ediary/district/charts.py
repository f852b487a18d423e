"""Server-side SVG charts for the figures page: a trend line and per-school bars.

Hand-written rather than a charting library: two chart kinds of a few dozen lines, whose output
we control entirely (every text escaped, no script, a <title> and <desc> for screen readers, the
same numbers in the table beside it), where a library (pygal, leather) would add a dependency and
its own markup and styles for that much. Embedded inline in the page: no CDN, nothing fetched.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD, LEFT = 640, 220, 24, 48


def _svg(title: str, body: str, height: int = HEIGHT) -> Markup:
    # Every text put in `body` and here went through `escape`; numbers are ours.
    return Markup(  # noqa: S704
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def trend(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> Markup:
    """Lines of weekly counts; `series` is (name, values per label)."""
    top = max([1, *(v for _name, values in series for v in values)])
    span = max(1, len(labels) - 1)
    plot_w, plot_h = WIDTH - LEFT - PAD, HEIGHT - 2 * PAD - 16
    parts = [
        f'<line x1="{LEFT}" y1="{PAD + plot_h}" x2="{WIDTH - PAD}" y2="{PAD + plot_h}"'
        ' class="axis"/>',
        f'<text x="{LEFT - 6}" y="{PAD + 4}" text-anchor="end" class="tick">{top}</text>',
        f'<text x="{LEFT - 6}" y="{PAD + plot_h}" text-anchor="end" class="tick">0</text>',
    ]
    for i, label in enumerate(labels):
        if len(labels) <= 12 or i % max(1, len(labels) // 8) == 0:
            x = LEFT + plot_w * i / span
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="middle" class="tick">'
                f"{escape(label)}</text>"
            )
    for index, (name, values) in enumerate(series):
        points = " ".join(
            f"{LEFT + plot_w * i / span:.1f},{PAD + plot_h - plot_h * v / top:.1f}"
            for i, v in enumerate(values)
        )
        parts.append(
            f'<polyline points="{points}" class="line s{index}" fill="none">'
            f"<title>{escape(name)}</title></polyline>"
        )
        parts.append(
            f'<text x="{WIDTH - PAD}" y="{PAD + 14 * index}" text-anchor="end" '
            f'class="legend s{index}">{escape(name)}</text>'
        )
    return _svg(title, "".join(parts))


def bars(
    title: str, rows: Sequence[tuple[str, Decimal | None]], unit: str = "%", comma: bool = True
) -> Markup:
    """One horizontal bar per school; a suppressed or empty value is drawn as "—"."""
    height = 2 * PAD + 26 * max(1, len(rows))
    top = max(
        [Decimal(100) if unit == "%" else Decimal(1), *(v for _n, v in rows if v is not None)]
    )
    label_w = 220
    plot_w = WIDTH - label_w - PAD - 60
    parts = []
    for i, (name, value) in enumerate(rows):
        y = PAD + 26 * i
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" class="tick">'
            f"{escape(name[:34])}</text>"
        )
        if value is None:
            parts.append(f'<text x="{label_w}" y="{y + 15}" class="tick">—</text>')
            continue
        w = float(plot_w * value / top)
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="18" class="bar"/>')
        parts.append(
            f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" class="tick">'
            f"{escape(str(value).replace('.', ',') if comma else str(value))}\u00a0"
            f"{escape(unit)}</text>"
        )
    return _svg(title, "".join(parts), height)
