"""PDF from HTML with WeasyPrint, in a font that has Chinese.

Needs the Debian packages ``fonts-noto-cjk`` (without a CJK font Chinese comes out as empty
boxes) and ``libharfbuzz-subset0`` (without it each PDF takes seconds to subset the font); the
Makefile installs both. The HTML is rendered without fetching anything: only ``data:`` URLs
are allowed, so text from the database can never make the server request a URL.
"""

from __future__ import annotations

# One stylesheet for every printed report: A4 landscape, page numbers, compact tables.
PRINT_CSS = """
@page {
  size: A4 landscape;
  margin: 12mm 10mm 14mm;
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; color: #555; }
}
html { font-family: "Noto Sans CJK SC", "Noto Sans CJK", "Noto Sans", sans-serif;
       font-size: 8.5pt; color: #111; }
h1 { font-size: 14pt; margin: 0 0 2mm; }
h2 { font-size: 11pt; margin: 5mm 0 2mm; }
p { margin: 0 0 2mm; }
table { border-collapse: collapse; width: 100%; margin-bottom: 3mm; }
th, td { border: 0.4pt solid #999; padding: 1.2mm 1.5mm; vertical-align: top; }
th { background: #eee; font-weight: bold; text-align: left; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; }
.num { text-align: right; white-space: nowrap; }
th.num { white-space: normal; }
.total td { font-weight: bold; background: #f6f6f6; }
.muted, .text-muted { color: #555; }
.no-print, .d-print-none { display: none; }
a { color: inherit; text-decoration: none; }
"""


def render_pdf(html: str, *, extra_css: str = "") -> bytes:
    """The PDF of an HTML document, laid out with PRINT_CSS (plus ``extra_css``)."""
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=("data",))
    stylesheets = [CSS(string=PRINT_CSS, url_fetcher=fetcher)]
    if extra_css:
        stylesheets.append(CSS(string=extra_css, url_fetcher=fetcher))
    return HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=stylesheets)
