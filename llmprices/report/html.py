"""One self-contained HTML page: inline CSS, charts as PNG data URIs, no script and nothing fetched, so the file
reads the same offline, attached to a mail or opened from the lake.

Wide tables scroll inside their own box instead of widening the page; charts are shown at their natural size
(never stretched), shrunk only to fit a narrow window.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.lead { color: #555; margin-top: 0; } nav a { margin-right: .8rem; } .note { color: #555; font-size: .9rem; }
.table-wrap { overflow-x: auto; margin: .8rem 0; border: 1px solid #e4e4e4; width: fit-content; max-width: 100%; }
td.wrap { white-space: normal; min-width: 24em; }
table { border-collapse: collapse; font-size: 13.5px; }
th, td { padding: 4px 10px; border-bottom: 1px solid #eee; text-align: left; white-space: nowrap; }
th { background: #f6f6f6; position: sticky; top: 0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; box-sizing: border-box; }
figcaption { color: #555; font-size: .9rem; }
"""


#: Characters past which a text cell wraps instead of widening its table.
LONG_TEXT = 60


@dataclass(frozen=True)
class Section:
    """A titled part of the page; `body` is HTML made by this module's functions."""

    anchor: str
    title: str
    body: str


def page(title: str, lead: str, sections: list[Section], footer: str) -> str:
    nav = " ".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>' for s in sections)
    body = "".join(f'<section id="{s.anchor}"><h2>{html.escape(s.title)}</h2>{s.body}</section>' for s in sections)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body><main>"
        f'<h1>{html.escape(title)}</h1><p class="lead">{lead}</p><nav>{nav}</nav>{body}'
        f'<p class="note">{footer}</p></main></body></html>'
    )


def paragraph(text: str, css_class: str = "") -> str:
    """A paragraph of plain text (escaped)."""
    attribute = f' class="{css_class}"' if css_class else ""
    return f"<p{attribute}>{html.escape(text)}</p>"


def figure(png: bytes, alt: str, caption: str) -> str:
    source = "data:image/png;base64," + base64.b64encode(png).decode()
    caption = f"<figcaption>{html.escape(caption)}</figcaption>"
    return f'<figure><img src="{source}" alt="{html.escape(alt)}">{caption}</figure>'


Format = Callable[[object], str]


def table(frame: pd.DataFrame, formats: Mapping[str, Format] | None = None, empty: str = "none") -> str:
    """The frame as an HTML table (columns as named, values escaped); numbers right-aligned, formatted by
    `formats[column]` or to 4 significant digits; missing values blank."""
    if frame.empty:
        return paragraph(empty, "note")
    formats = formats or {}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record, strict=True):
            text = "" if _missing(value) else formats.get(column, _default)(value)
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            css = " class=num" if numeric else " class=wrap" if len(text) > LONG_TEXT else ""
            cells.append(f"<td{css}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _default(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)[:10] if isinstance(value, pd.Timestamp) else str(value)


def usd(value) -> str:
    return f"${value:,.4g}"


def times(value) -> str:
    return f"{value:.1f}x"


def percent(value) -> str:
    return "new price (was free)" if math.isinf(value) else f"{value:+.0%}"
