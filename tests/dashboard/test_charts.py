"""The SVG charts: well-formed, accessible (title, desc, aria), safe (escaped text, no inline
style under the CSP), CJK-capable, and honest about empty data."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from flask_babel import force_locale

from recovery.dashboard import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 - markup the test itself just made


def test_a_bar_chart_is_accessible_svg(app):
    with app.test_request_context():
        svg = charts.bar_chart(
            "回款 <by month>",
            ["2026-01", "2026-02"],
            [Decimal("1200.50"), Decimal("300.00")],
            links=["/dashboard/items?a=1&b=2", None],
            testid="bars",
        )
    root = parse(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text == "回款 <by month>"  # escaped in the markup, read back as text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "2026-01: 1,200.50" in desc.text and "2026-02: 300.00" in desc.text
    assert "Noto Sans CJK SC" in root.get("font-family")
    rects = root.findall(f".//{SVG}rect")
    assert [r.find(f"{SVG}title").text for r in rects] == ["2026-01: 1,200.50", "2026-02: 300.00"]
    links = root.findall(f".//{SVG}a")
    assert [a.get("href") for a in links] == ["/dashboard/items?a=1&b=2"]
    assert "style=" not in str(svg) and "<script" not in str(svg)
    # The taller bar is the larger amount.
    heights = [float(r.get("height")) for r in rects]
    assert heights[0] > heights[1] > 0


def test_stacked_bars_add_up_and_carry_a_legend(app):
    with app.test_request_context():
        svg = charts.stacked_bar_chart(
            "Aging",
            ["营销一部", "营销二部"],
            [("Not due", [Decimal(10), Decimal(0)]), ("1–30 days", [Decimal(30), Decimal(20)])],
            segment_links=[["/a", "/b"], ["/c", "/d"]],
        )
    root = parse(svg)
    segments = [r for r in root.findall(f".//{SVG}rect") if r.find(f"{SVG}title") is not None]
    # Zero segments are not drawn; the first bar's two segments stack to its total.
    assert [s.find(f"{SVG}title").text for s in segments] == [
        "营销一部 · Not due: 10.00",
        "营销一部 · 1–30 days: 30.00",
        "营销二部 · 1–30 days: 20.00",
    ]
    assert [a.get("href") for a in root.findall(f".//{SVG}a")] == ["/a", "/c", "/d"]
    texts = [t.text for t in root.findall(f".//{SVG}text")]
    assert "Not due" in texts and "1–30 days" in texts and "营销一部" in texts


def test_a_line_chart_has_a_point_per_value(app):
    with app.test_request_context():
        svg = charts.line_chart(
            "Trend",
            ["2026-01", "2026-02", "2026-03"],
            [("Receivables", [1, 2, 3]), ("Overdue", [0, 1, 1])],
            links=[["/r1", "/r2", "/r3"], [None, None, None]],
        )
    root = parse(svg)
    assert len(root.findall(f".//{SVG}polyline")) == 2
    assert len(root.findall(f".//{SVG}circle")) == 6
    assert [a.get("href") for a in root.findall(f".//{SVG}a")] == ["/r1", "/r2", "/r3"]


def test_no_data_says_so_instead_of_drawing_nothing(app):
    with app.test_request_context(), force_locale("en"):
        empty = charts.line_chart("Trend", ["2026-01"], [("Receivables", [0])])
        nothing = charts.bar_chart("Bars", [], [])
        with force_locale("zh_CN"):
            chinese = charts.bar_chart("图", ["a"], [0])
            message = charts._("No data for this period.")
    assert "No data for this period." in str(empty)
    assert parse(nothing).find(f"{SVG}desc").text == "No data for this period."
    assert message in str(chinese)  # through Flask-Babel, in the page's language


def test_axis_amounts_are_abbreviated_for_the_language(app):
    with app.test_request_context():
        with force_locale("zh_CN"):
            assert charts.compact(Decimal("123456789")) == "1.2亿"
            assert charts.compact(Decimal("123456")) == "12.3万"
        with force_locale("en"):
            assert charts.compact(Decimal("123456789")) == "123.5M"
        assert charts.compact(Decimal("950")) == "950"
