"""Charts as SVG markup, drawn on the server: one renderer for the dashboard page and the PDF
reports (no JavaScript, nothing fetched).

Every chart has an accessible name and description (``<title>``/``<desc>``, referenced by
``aria-labelledby``) that state its figures in words, a ``<title>`` on every bar and point
(the tooltip), and text in a font that has Chinese: the SVG names the same CJK font as
recovery/core/pdf.py first. Colours and fonts are presentation attributes (``fill=``,
``font-family=``), never ``style=``: the page's Content-Security-Policy (style-src 'self')
blocks inline styles, not attributes. Labels are passed in already translated; amounts on
the axis are abbreviated for the language (1.2亿, 12.3万; 123.5M).

    bar_chart(title, labels, values)                        one bar per label
    stacked_bar_chart(title, categories, series)            segments per bar (aging)
    line_chart(title, labels, series)                       one line per series (trends)

``css_class``: the class of the ``<svg>`` (the page adds Bootstrap's img-fluid to scale it).
``series`` is a list of (name, values) or (name, values, colour). ``links`` (optional, one
per bar/point, or per category) make the bars and points links to their drill-down.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_compact_decimal
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from recovery.core.money import display_amount

FONT_FAMILY = (
    "'Noto Sans CJK SC', 'Noto Sans CJK', 'Source Han Sans SC', 'PingFang SC', "
    "'Microsoft YaHei', 'Noto Sans', sans-serif"
)
# Colour-blind-safe palette (Okabe–Ito), dark enough for text contrast on white.
PALETTE = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#8C6D00",
    "#555555",
)
# Aging: green (not due) through orange to dark red (oldest).
AGING_PALETTE = (
    "#2E7D32",
    "#9CCC65",
    "#FBC02D",
    "#FB8C00",
    "#F4511E",
    "#D32F2F",
    "#B71C1C",
    "#6D0F0F",
)
TEXT = "#212529"
MUTED = "#6C757D"
GRID = "#DEE2E6"

_ids = itertools.count(1)


def _locale() -> str:
    try:
        return str(get_locale() or "en")
    except RuntimeError:  # outside an application context
        return "en"


def compact(value) -> str:
    """An amount abbreviated for an axis in the current language: 1.2亿 / 123.5M."""
    number = Decimal(value or 0)
    if abs(number) < 1000:
        return str(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return format_compact_decimal(number, locale=_locale(), fraction_digits=1)


def _nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 × 10^n at or above ``value`` (the axis maximum)."""
    if value <= 0:
        return Decimal(1)
    exponent = value.adjusted()
    for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        candidate = step.scaleb(exponent)
        if candidate >= value:
            return candidate
    return Decimal(10).scaleb(exponent)


def _attrs(**values) -> str:
    return " ".join(
        f'{name.rstrip("_").replace("_", "-")}="{escape(value)}"'
        for name, value in values.items()
        if value is not None
    )


def _frame(
    title: str,
    description: str,
    width: int,
    height: int,
    body: list[str],
    testid: str | None,
    css_class: str = "chart",
) -> Markup:
    number = next(_ids)
    title_id, desc_id = f"chart-{number}-title", f"chart-{number}-desc"
    root = _attrs(
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {width} {height}",
        width=str(width),
        height=str(height),
        role="img",
        aria_labelledby=f"{title_id} {desc_id}",
        font_family=FONT_FAMILY,
        font_size="12",
        fill=TEXT,
        class_=css_class,
        data_testid=testid,
    )
    parts = [
        f"<svg {root}>",
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
        *body,
        "</svg>",
    ]
    # Every piece of text above went through escape(); the rest is markup written here.
    return Markup("".join(parts))  # noqa: S704


def _empty(title: str, width: int, height: int, testid: str | None, css_class: str) -> Markup:
    message = _("No data for this period.")
    text = (
        f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" fill="{MUTED}">'
        f"{escape(message)}</text>"
    )
    return _frame(title, message, width, height, [text], testid, css_class)


def _link(href: str | None, inner: str) -> str:
    if not href:
        return inner
    return f'<a href="{escape(href)}">{inner}</a>'


def _y_axis(maximum: Decimal, left: int, top: int, plot_w: int, plot_h: int) -> list[str]:
    parts = []
    for step in range(5):
        value = maximum * step / 4
        y = top + plot_h - plot_h * step / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}" '
            f'font-size="11">{escape(compact(value))}</text>'
        )
    return parts


def _x_labels(labels: Sequence[str], left: int, slot: float, y: int) -> list[str]:
    every = max(1, -(-len(labels) // 12))  # at most about twelve labels under the axis
    parts = []
    for index, label in enumerate(labels):
        if index % every:
            continue
        x = left + slot * index + slot / 2
        parts.append(
            f'<text x="{x:.1f}" y="{y}" text-anchor="middle" font-size="11">{escape(label)}</text>'
        )
    return parts


def _legend(names: Sequence[str], colours: Sequence[str], left: int, y: int, width: int):
    parts, x = [], left
    for name, colour in zip(names, colours, strict=True):
        label = str(name)
        step = 18 + 7 * len(label) + (7 * sum(1 for ch in label if ord(ch) > 0x2E80))
        if x + step > width and x > left:
            x, y = left, y + 16
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}" font-size="11">{escape(label)}</text>')
        x += step
    return parts, y


def _describe(labels, series, fmt) -> str:
    lines = []
    for name, values, _colour in series:
        pairs = ", ".join(
            f"{label}: {fmt(value)}" for label, value in zip(labels, values, strict=True)
        )
        lines.append(f"{name} — {pairs}" if name else pairs)
    return "; ".join(lines)


def _normalise(series) -> list[tuple[str, list[Decimal], str]]:
    result = []
    for index, entry in enumerate(series):
        name, values = entry[0], [Decimal(v or 0) for v in entry[1]]
        colour = entry[2] if len(entry) > 2 else PALETTE[index % len(PALETTE)]
        result.append((str(name), values, colour))
    return result


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence,
    *,
    links: Sequence[str | None] | None = None,
    colour: str = PALETTE[0],
    value_format: Callable = display_amount,
    width: int = 640,
    height: int = 260,
    testid: str | None = None,
    css_class: str = "chart",
) -> Markup:
    """Vertical bars, one per label (amounts ≥ 0)."""
    return stacked_bar_chart(
        title,
        labels,
        [("", values, colour)],
        links=links,
        value_format=value_format,
        width=width,
        height=height,
        testid=testid,
        legend=False,
        css_class=css_class,
    )


def stacked_bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence,
    *,
    links: Sequence[str | None] | None = None,
    segment_links: Sequence[Sequence[str | None]] | None = None,
    value_format: Callable = display_amount,
    width: int = 640,
    height: int = 280,
    testid: str | None = None,
    legend: bool = True,
    css_class: str = "chart",
) -> Markup:
    """One vertical bar per category, one segment per series stacked from the bottom.

    ``links``: one per category (the whole bar); ``segment_links[s][c]``: per segment."""
    labels = [str(label) for label in categories]
    data = _normalise(series)
    totals = [sum((values[i] for _n, values, _c in data), Decimal(0)) for i in range(len(labels))]
    if not labels or not any(totals):
        return _empty(title, width, height, testid, css_class)
    legend_rows = 1 + (sum(len(n) for n, _v, _c in data) * 9 // max(width - 60, 1)) if legend else 0
    left, right, top = 64, 12, 12
    bottom = 26 + 16 * legend_rows
    plot_w, plot_h = width - left - right, height - top - bottom
    maximum = _nice_ceiling(max(totals))
    slot = plot_w / len(labels)
    bar_w = max(4.0, min(56.0, slot * 0.6))
    body = _y_axis(maximum, left, top, plot_w, plot_h)
    for index, label in enumerate(labels):
        x = left + slot * index + (slot - bar_w) / 2
        base = Decimal(0)
        segments = []
        for s_index, (name, values, colour) in enumerate(data):
            value = values[index]
            if value <= 0:
                continue
            y_top = top + plot_h - float(plot_h * (base + value) / maximum)
            y_bottom = top + plot_h - float(plot_h * base / maximum)
            tip = (
                f"{label} · {name}: {value_format(value)}"
                if name
                else f"{label}: {value_format(value)}"
            )
            rect = (
                f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{bar_w:.1f}" '
                f'height="{max(y_bottom - y_top, 0.5):.1f}" fill="{colour}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            if segment_links is not None:
                rect = _link(segment_links[s_index][index], rect)
            segments.append(rect)
            base += value
        group = "".join(segments)
        href = links[index] if links else None
        body.append(_link(href, f"<g>{group}</g>"))
    body += _x_labels(labels, left, slot, top + plot_h + 16)
    if legend:
        parts, _y = _legend(
            [n for n, _v, _c in data], [c for _n, _v, c in data], left, top + plot_h + 36, width
        )
        body += parts
    description = _describe(labels, data, value_format)
    return _frame(title, description, width, height, body, testid, css_class)


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence,
    *,
    links: Sequence[Sequence[str | None]] | None = None,
    value_format: Callable = display_amount,
    width: int = 640,
    height: int = 280,
    testid: str | None = None,
    css_class: str = "chart",
) -> Markup:
    """One line per series over the labels (e.g. month-ends), a marker on every point.

    ``links[s][i]``: the drill-down of series s at label i."""
    labels = [str(label) for label in labels]
    data = _normalise(series)
    values = [v for _n, vs, _c in data for v in vs]
    if not labels or not any(values):
        return _empty(title, width, height, testid, css_class)
    left, right, top = 64, 12, 12
    bottom = 26 + 16 * (1 + sum(len(n) for n, _v, _c in data) * 9 // max(width - 60, 1))
    plot_w, plot_h = width - left - right, height - top - bottom
    maximum = _nice_ceiling(max(max(values), Decimal(0)))
    slot = plot_w / len(labels)
    body = _y_axis(maximum, left, top, plot_w, plot_h)
    for s_index, (name, points, colour) in enumerate(data):
        coordinates = [
            (
                left + slot * i + slot / 2,
                top + plot_h - float(plot_h * max(v, Decimal(0)) / maximum),
            )
            for i, v in enumerate(points)
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
        body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, ((x, y), value) in enumerate(zip(coordinates, points, strict=True)):
            tip = f"{name} · {labels[i]}: {value_format(value)}"
            marker = (
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                f"<title>{escape(tip)}</title></circle>"
            )
            href = links[s_index][i] if links else None
            body.append(_link(href, marker))
    body += _x_labels(labels, left, slot, top + plot_h + 16)
    parts, _y = _legend(
        [n for n, _v, _c in data], [c for _n, _v, c in data], left, top + plot_h + 36, width
    )
    body += parts
    description = _describe(labels, data, value_format)
    return _frame(title, description, width, height, body, testid, css_class)
