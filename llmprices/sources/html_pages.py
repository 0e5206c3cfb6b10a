"""Provider pricing pages (HTML), parsed with BeautifulSoup: for providers no API reports.

The pages are listed in a YAML file (`$HTML_PAGES_FILE`, default `assets/sources/html_pages.yaml`,
which documents the format). A fetch keeps each page as `pages/{provider}.html` plus `pages.json`, the
page list with its parsing hints as configured that day, so re-parsing a past day reads the hints it
was fetched with, not today's file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import yaml
from bs4 import BeautifulSoup, Tag

from llmprices.http import HttpClient
from llmprices.payloads import RawPayload
from llmprices.sources.base import Listing, ParsedPayload, PayloadError, Rejection, SourceNotConfigured, SourceSpec
from llmprices.sources.common import (
    fetch_error_rejections,
    fetch_errors_payload,
    fetch_many,
    is_fetch_errors,
    load_json,
)
from llmprices.sources.prices import PER_1K_TOKENS, PER_MTOK, PER_TOKEN, BadPrice, usd_per_mtok
from llmprices.sources.providers import canonical_provider, slugify

#: The page list shipped with the project (empty: its comments show the format).
DEFAULT_PAGES_FILE = str(Path(__file__).resolve().parent / "html_pages.yaml")
PAGES_FILE_ENV = "HTML_PAGES_FILE"
PAGES_PAYLOAD = "pages.json"
#: USD per million tokens per unit the page quotes in.
UNITS: dict[str, Decimal] = {"per_mtok": PER_MTOK, "per_1k_tokens": PER_1K_TOKENS, "per_token": PER_TOKEN}
#: Units written on the page itself ("$0.2 / 1M tokens", "Input (per 1K tokens)"), tried in order.
_UNIT_PATTERNS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"(?:/|\bper\b)\s*(?:1\s*m\b|one\s+million\b|million\b|1,000,000\b|m\s*tok)", re.I), "per_mtok"),
    (re.compile(r"(?:/|\bper\b)\s*(?:1\s*k\b|one\s+thousand\b|thousand\b|1,000\b|k\s*tok)", re.I), "per_1k_tokens"),
    (re.compile(r"(?:/|\bper\b)\s*(?:1\s*|one\s+|a\s+)?token\b", re.I), "per_token"),
]
_AMOUNT = re.compile(
    r"(?:US\$|\$|USD)?\s*(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)\s*(?:USD|US\$|\$)?", re.I
)
_FOOTNOTES = re.compile(r"(?:\s*(?:[*\u2020\u2021\u00a7\u00b9\u00b2\u00b3\u2070-\u2079]|\[\d+\]))+$")
_FREE = frozenset({"free", "free!", "$0", "0", "$0.00", "0.00"})


@dataclass(frozen=True)
class PageConfig:
    """One pricing page and how to read its table."""

    provider: str
    url: str
    table: str | None = None
    model_column: str = "model"
    input_column: str = "input"
    output_column: str = "output"
    unit: str | None = None  # None: what the page says, else per_mtok
    name: str = ""  # its payload name, set when fetched

    @classmethod
    def from_mapping(cls, raw: object, where: str) -> PageConfig:
        if not isinstance(raw, dict):
            raise ValueError(f"{where}: a page must be a mapping with `provider` and `url`, got {raw!r}")
        unknown = set(raw) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise ValueError(f"{where}: unknown page setting(s) {sorted(unknown)}")
        for required in ("provider", "url"):
            if not isinstance(raw.get(required), str) or not raw[required].strip():
                raise ValueError(f"{where}: `{required}` is required")
        wrong = sorted(key for key, value in raw.items() if value is not None and not isinstance(value, str))
        if wrong:
            raise ValueError(f"{where}: page setting(s) {wrong} must be text")
        if raw.get("unit") is not None and raw["unit"] not in UNITS:
            raise ValueError(f"{where}: unit {raw['unit']!r} is not one of {sorted(UNITS)}")
        return cls(**{k: v for k, v in raw.items() if v is not None})


def fetch(http: HttpClient, pages_file: str = DEFAULT_PAGES_FILE) -> list[RawPayload]:
    """Every page listed in `pages_file`, the list itself (so parsing knows how to read each page), and the
    failed requests as a payload of their own."""
    path = resolve_pages_file(pages_file)
    pages = load_pages(path)
    if not pages:
        raise SourceNotConfigured(f"no pricing pages listed in {path} (its comments show the format)")
    fetched, failures = fetch_many(http, [(page.name, page.url) for page in pages])
    listing = json.dumps({"pages": [asdict(page) for page in pages]}, indent=1).encode()
    payloads = [RawPayload(PAGES_PAYLOAD, path.as_uri(), 0, datetime.now(UTC), listing), *fetched]
    if failures:
        payloads.append(fetch_errors_payload(path.as_uri(), failures))
    return payloads


def resolve_pages_file(pages_file: str) -> Path:
    """The pages file, or SourceNotConfigured naming it when it does not exist."""
    path = Path(pages_file).expanduser()
    if not path.is_file():
        raise SourceNotConfigured(f"pages file {path} not found (set {PAGES_FILE_ENV})")
    return path.resolve()


def load_pages(path: Path) -> list[PageConfig]:
    """The configured pages, each with a unique payload name `pages/{provider}.html`."""
    document = yaml.safe_load(path.read_text()) or {}
    raw_pages = document.get("pages") if isinstance(document, dict) else None
    if raw_pages is None:
        raw_pages = []
    if not isinstance(raw_pages, list):
        raise ValueError(f"{path}: `pages` must be a list")
    pages, names = [], set()
    for index, raw in enumerate(raw_pages):
        page = PageConfig.from_mapping(raw, f"{path} pages[{index}]")
        base = slugify(page.provider) or "page"
        name, n = f"pages/{base}.html", 1
        while name in names:
            n += 1
            name = f"pages/{base}-{n}.html"
        names.add(name)
        pages.append(PageConfig(**{**asdict(page), "name": name}))
    return pages


def parse(payloads: list[RawPayload], day: date) -> Iterator[ParsedPayload]:
    """Rows of each page's price table; `pages.json` (when parsed with them) gives the hints.

    A page parsed without its `pages.json` is read with the default hints, its provider taken from
    its name.
    """
    configs: dict[str, PageConfig] = {}
    for payload in payloads:
        if payload.name == PAGES_PAYLOAD:
            configs.update({page.name: page for page in _pages_of(payload)})
    for payload in payloads:
        parsed = ParsedPayload(payload)
        if is_fetch_errors(payload):
            parsed.rejections.extend(fetch_error_rejections(payload))
        elif payload.name != PAGES_PAYLOAD:
            page = configs.get(payload.name) or _default_config(payload)
            _parse_page(payload, page, parsed)
        yield parsed


def _pages_of(payload: RawPayload) -> list[PageConfig]:
    document = load_json(payload)
    pages = document.get("pages") if isinstance(document, dict) else None
    if not isinstance(pages, list):
        raise PayloadError(f"{payload.name} has no `pages` list")
    try:
        return [PageConfig.from_mapping(page, f"{payload.name} pages[{i}]") for i, page in enumerate(pages)]
    except (TypeError, ValueError) as exc:
        raise PayloadError(str(exc)) from None


def _default_config(payload: RawPayload) -> PageConfig:
    stem = payload.name.rsplit("/", 1)[-1].removesuffix(".html")
    return PageConfig(provider=stem, url=payload.url, name=payload.name)


def _parse_page(payload: RawPayload, page: PageConfig, parsed: ParsedPayload) -> None:
    provider = canonical_provider(page.provider)
    soup = BeautifulSoup(payload.body, "html.parser")
    headers, body, columns = _find_table(soup, page, payload.name)
    model_i, input_i, output_i = columns
    header_units = [_unit_in(headers[i]) for i in (input_i, output_i)]
    seen: dict[str, int] = {}
    for row_number, row in enumerate(body, start=1):
        cells = [_text(cell) if cell is not None else "" for cell in row]
        distinct = {id(cell) for cell, text in zip(row, cells, strict=True) if cell is not None and text}
        if len(distinct) <= 1 or cells == headers:
            continue  # a section heading ("Llama models") spanning the row, or a repeated header
        record = {"page": payload.name, "row": row_number, "cells": cells}
        if len(cells) <= max(columns):
            reason = f"row {row_number} has {len(cells)} cells, the table has {len(headers)} columns"
            parsed.rejections.append(Rejection(reason, record, provider, cells[0] if cells else None))
            continue
        model = _model_name(row[model_i]) or cells[model_i]
        if not model:
            parsed.rejections.append(Rejection(f"row {row_number} has no model name", record, provider))
            continue
        try:
            prices = [
                price_usd_per_mtok(cells[i], page.unit or unit or "per_mtok", column)
                for i, unit, column in zip((input_i, output_i), header_units, ("input", "output"), strict=True)
            ]
        except BadPrice as exc:
            parsed.rejections.append(Rejection(f"row {row_number}: {exc}", record, provider, model))
            continue
        if model in seen:
            reason = f"row {row_number} repeats model {model!r} of row {seen[model]}"
            parsed.rejections.append(Rejection(reason, record, provider, model))
            continue
        seen[model] = row_number
        parsed.listings.append(Listing(provider, model, input_usd_per_mtok=prices[0], output_usd_per_mtok=prices[1]))


def price_usd_per_mtok(text: str, default_unit: str, column: str = "price") -> float:
    """A price cell ("$0.20", "0.20 USD", "$0.2 / 1M tokens", "Free") in USD per million tokens.

    A unit written in the cell wins over `default_unit`; anything that is not one amount in dollars
    ("-", "Contact us", "$0.20 / $0.40") raises BadPrice with the cell's text.
    """
    cleaned = _FOOTNOTES.sub("", text.replace("\u00a0", " ").strip())
    if cleaned.lower() in _FREE:
        return 0.0
    unit = default_unit
    for pattern, name in _UNIT_PATTERNS:
        if pattern.search(cleaned):
            unit = name
            cleaned = pattern.sub(" ", cleaned)
            break
    cleaned = re.sub(r"\b(?:input|output)?\s*tokens?\b", " ", cleaned, flags=re.I).strip()
    match = _AMOUNT.fullmatch(cleaned)
    if not match:
        raise BadPrice(f"{column} cell {text.strip()!r} is not a price")
    return usd_per_mtok(match.group("number").replace(",", ""), column, UNITS[unit])


Grid = list[list[Tag | None]]


def _find_table(soup: BeautifulSoup, page: PageConfig, name: str) -> tuple[list[str], Grid, tuple[int, int, int]]:
    """(column headers, body rows as a grid, (model, input, output) column indexes) of the price table."""
    if page.table:
        selected = soup.select(page.table)
        tables = [el if el.name == "table" else el.find("table") for el in selected]
        tables = [t for t in tables if t is not None]
        if not tables:
            raise PayloadError(f"{name}: the selector {page.table!r} matches no table")
    else:
        tables = soup.find_all("table")
    wanted = (page.model_column, page.input_column, page.output_column)
    seen_headers = []
    for table in tables:
        rows = _rows(table)
        header_count = _header_row_count(table, rows)
        if not header_count:
            continue
        grid = _grid(rows)
        headers = _column_headers(grid[:header_count])
        columns = _columns(headers, wanted)
        if columns is not None:
            return headers, grid[header_count:], columns
        seen_headers.append(headers)
    raise PayloadError(f"{name}: no table has the columns {list(wanted)} (table headers seen: {seen_headers[:5]})")


def _rows(table: Tag) -> list[Tag]:
    """The table's own rows (not those of tables nested in its cells)."""
    return [row for row in table.find_all("tr") if row.find_parent("table") is table]


def _header_row_count(table: Tag, rows: list[Tag]) -> int:
    """How many leading rows are the header: those of `<thead>`, else the first rows made of `<th>`s."""
    thead = [row for row in rows if row.find_parent("thead") is not None]
    if thead:
        return rows.index(thead[-1]) + 1
    count = 0
    for row in rows:
        cells = row.find_all(["td", "th"], recursive=False)
        if not cells or any(cell.name != "th" for cell in cells):
            break
        count += 1
    return count or (1 if rows else 0)


def _span(cell: Tag, attribute: str) -> int:
    value = cell.get(attribute)
    return max(1, min(int(value), 100)) if isinstance(value, str) and value.strip().isdigit() else 1


def _grid(rows: list[Tag]) -> Grid:
    """Rows as lists of cells, a cell spanning several columns or rows repeated in each position."""
    grid: Grid = []
    carried: dict[int, tuple[Tag, int]] = {}  # column -> (cell, rows it still covers)
    for row in rows:
        line: list[Tag | None] = []
        for cell in row.find_all(["td", "th"], recursive=False):
            _carry(line, carried)
            rowspan = _span(cell, "rowspan")
            for _ in range(_span(cell, "colspan")):
                if rowspan > 1:
                    carried[len(line)] = (cell, rowspan - 1)
                line.append(cell)
        _carry(line, carried)
        grid.append(line)
    return grid


def _carry(line: list[Tag | None], carried: dict[int, tuple[Tag, int]]) -> None:
    """Fill the positions a cell from a row above still covers (its rowspan)."""
    while len(line) in carried:
        cell, left = carried.pop(len(line))
        if left > 1:
            carried[len(line)] = (cell, left - 1)
        line.append(cell)


def _column_headers(header_rows: Grid) -> list[str]:
    """Each column's header: the texts of its header cells, top to bottom, each once."""
    width = max((len(row) for row in header_rows), default=0)
    headers = []
    for column in range(width):
        cells = list(dict.fromkeys(row[column] for row in header_rows if column < len(row) and row[column] is not None))
        headers.append(" ".join(t for t in (_text(cell) for cell in cells) if t))
    return headers


def _columns(headers: list[str], wanted: tuple[str, str, str]) -> tuple[int, int, int] | None:
    """Column indexes of (model, input, output): an exact header first, then one that starts with the
    hint, then one that contains it; each column used once."""
    lowered = [h.lower() for h in headers]
    chosen: list[int] = []
    for hint in (w.lower().strip() for w in wanted):
        for test in (str.__eq__, str.startswith, str.__contains__):
            found = next((i for i, h in enumerate(lowered) if i not in chosen and test(h, hint)), None)
            if found is not None:
                chosen.append(found)
                break
        else:
            return None
    return chosen[0], chosen[1], chosen[2]


def _text(cell: Tag) -> str:
    """The cell's text, without footnote marks (`<sup>`, trailing `*`, `[1]`)."""
    parts = [s for s in cell.find_all(string=True) if not s.find_parent("sup")]
    return _FOOTNOTES.sub("", re.sub(r"\s+", " ", " ".join(parts).replace("\u00a0", " ")).strip())


def _model_name(cell: Tag | None) -> str | None:
    """The model's API id when its cell shows one in `<code>`, else None (the cell text is used)."""
    code = cell.find("code") if cell is not None else None
    return _text(code) or None if code is not None else None


def _unit_in(text: str) -> str | None:
    return next((name for pattern, name in _UNIT_PATTERNS if pattern.search(text)), None)


SOURCE = SourceSpec(
    name="html",
    description="Provider pricing pages (HTML) listed in $HTML_PAGES_FILE, parsed with BeautifulSoup.",
    parse=parse,
    archive_payload_name="page.html",
)
