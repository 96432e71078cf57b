"""The HTML report (``--output report.html``, ``score`` and ``compare``): one
self-contained page, readable offline.

No script and no external URL: a ``Content-Security-Policy`` meta allows only inline
styles and ``data:`` images, so a browser loads nothing else. The figures
(``report.figures``) are inline SVG made from aggregated data, then the tables of the
Markdown report (``report.formats``, ``report.compare``): the page's size does not grow
with the number of rows. Every user string (a
class, a column, a slice value, an id) is escaped, in the tables and in the SVG text;
the same input gives the same bytes.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..comparison import Comparison
    from ..summary import Summary
    from .figures import Plot

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = (
    "body{font-family:system-ui,'DejaVu Sans',sans-serif;max-width:1100px;margin:1em auto;"
    "padding:0 1em;color:#222}"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}"
    ".figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:1em}"
    "figure{margin:0;border:1px solid #ddd;padding:.5em}"
    "figure svg{width:100%;height:auto}"
    "figcaption{font-size:.9em;color:#555}"
    "table{border-collapse:collapse;margin:.8em 0}"
    "caption{text-align:left;font-weight:bold;padding:.3em 0}"
    "td,th{padding:2px 10px;text-align:left;border-bottom:1px solid #eee}"
    ".passed{color:#2e8b57}.failed{color:#c0392b}"
)


def page(title: str, subtitle: str, status: str | None, plots: list[Plot], tables: str) -> str:
    """The whole page: head with the CSP, the title and what was scored, the gates'
    status, the figures, the tables."""
    from .figures import inline_svg

    figures = "\n".join(
        f"<figure>{inline_svg(plot)}<figcaption>{html.escape(plot.caption)}</figcaption></figure>"
        for plot in plots
    )
    lead = f"<p>{html.escape(subtitle)}</p>\n" if subtitle else ""
    state = ""
    if status is not None:
        css = "passed" if status == "passed" else "failed"
        state = f'<p class="{css}"><strong>xent: {html.escape(status)}</strong></p>\n'
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n{lead}{state}"
        f'<h2>Figures</h2>\n<div class="figures">\n{figures}\n</div>\n'
        f"<h2>Tables</h2>\n{tables}\n</body></html>\n"
    )


def summary_html(summary: Summary) -> str:
    """``xent score``'s page."""
    from .figures import score_plots
    from .formats import html_tables

    status = None
    if summary.gates:
        failed = [g.name for g in summary.gates if not g.passed]
        status = "passed" if not failed else "failed (" + ", ".join(failed) + ")"
    inputs = " vs ".join(str(p) for p in summary.inputs.values() if p)
    what = (
        f"{summary.n_samples:,} samples, {summary.n_classes:,} classes, {summary.task}, "
        f"{summary.input}"
    )
    subtitle = f"{inputs}: {what}" if inputs else what
    return page("xent report", subtitle, status, score_plots(summary), html_tables(summary))


def comparison_html(comparison: Comparison) -> str:
    """``xent compare``'s page."""
    from .compare import to_html_fragment
    from .figures import compare_plots

    status = None
    if comparison.gates:
        failed = [g.name for g in comparison.gates if not g.passed]
        status = "passed" if not failed else "failed (" + ", ".join(failed) + ")"
    plots = compare_plots(comparison)  # what was compared: the fragment's first line
    return page("xent compare", "", status, plots, to_html_fragment(comparison))
