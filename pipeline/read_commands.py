"""The `llmprices` commands that read the lake and never write it: `query` (SQL over the lake's views),
`history` (a model's price per provider over time, a table and a PNG) and `report` (the month's HTML report).

Each registers its parser and handler here (`register`), so `pipeline.cli` only calls `register`.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from pipeline.cli_errors import UsageError, iso_day, iso_month

LAKE_HELP = "lake root URI (default $PRICE_LAKE_URI or ./lake)"
FORMATS = ("table", "csv", "json")


def register(commands) -> None:
    """Add `query`, `history` and `report` to the `llmprices` subcommands."""
    query = commands.add_parser(
        "query",
        help="run SQL over the lake (read-only): one view per table, e.g. spreads, provider_prices, observations",
        description="Run a read-only SQL query (DuckDB) over the lake's views: observations, quarantine, "
        "price_history, changes, provider_prices, spreads, trends_<name>, catalog, unmatched_models, alerts. "
        'List them with "show tables", their columns with "describe spreads".',
    )
    query.add_argument("sql", help='e.g. "select * from spreads order by snapshot_date desc limit 5"')
    query.add_argument("--format", choices=FORMATS, default="table", help="table (default), csv or json")
    query.add_argument("--lake", help=LAKE_HELP)
    query.set_defaults(handler=run_query)

    history = commands.add_parser(
        "history",
        help="a model's price per provider over time (from provider_prices): a table and a PNG chart",
    )
    history.add_argument("model", help="as you would write it, e.g. Llama-3.1-70B or meta-llama/llama-3.1-70b-instruct")
    history.add_argument("--provider", action="append", dest="providers", metavar="P", help="only this provider "
                         "(repeatable)")  # fmt: skip
    history.add_argument("--since", type=iso_day, help="from this day on (YYYY-MM-DD)")
    history.add_argument("--out", type=Path, help="where to write the chart (default ./history-<model>.png)")
    history.add_argument("--lake", help=LAKE_HELP)
    history.set_defaults(handler=run_history)

    report = commands.add_parser(
        "report", help="write the month's report as one self-contained HTML file (charts and tables inline)"
    )
    report.add_argument("--month", type=iso_month, required=True, help="YYYY-MM")
    report.add_argument("--out", type=Path, help="where to write it (default ./report-YYYY-MM.html)")
    report.add_argument("--lake", help=LAKE_HELP)
    report.set_defaults(handler=run_report)


def open_lake(lake: str | None):
    """A read-only connection to the lake the user named, or a UsageError saying how to get one."""
    from llmprices.lake.query import connect
    from llmprices.lake.store import Lake, lake_uri_from_env

    uri = lake or lake_uri_from_env()
    store = Lake(uri)
    if store.fs.get_file_info(store.root).type.name == "NotFound":
        raise UsageError(
            f"no lake at {uri}: pass --lake (or set PRICE_LAKE_URI); "
            "`llmprices demo` builds one in ./demo-lake from the sample captures"
        )
    return connect(uri)


# -- query ------------------------------------------------------------------------------------------------
def run_query(args: argparse.Namespace) -> int:
    import duckdb

    from llmprices.lake.query import RefusedStatement

    con = open_lake(args.lake)
    try:
        result = con.sql(args.sql)
        columns, rows = result.columns, result.fetchall()
    except RefusedStatement as exc:
        raise UsageError(str(exc)) from None
    except duckdb.Error as exc:  # the SQL's mistake, as DuckDB words it (its first line names it)
        raise UsageError(str(exc).strip().splitlines()[0]) from None
    {"table": _print_table, "csv": _print_csv, "json": _print_json}[args.format](columns, rows)
    return 0


def _print_table(columns: list[str], rows: list[tuple]) -> None:
    from tabulate import tabulate

    numeric = [all(isinstance(row[i], int | float | Decimal) for row in rows if row[i] is not None) and
               any(row[i] is not None for row in rows) for i in range(len(columns))]  # fmt: skip
    cells = [[_cell(value) for value in row] for row in rows]
    align = ["right" if is_number else "left" for is_number in numeric]
    print(tabulate(cells, headers=columns, tablefmt="simple", disable_numparse=True, colalign=align or None))
    print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


def _cell(value) -> str:
    """A value as the table shows it: NULL, numbers to 10 significant digits, dates as ISO."""
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return format(value, ".10g")
    if isinstance(value, date | datetime):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _print_csv(columns: list[str], rows: list[tuple]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([["" if v is None else _json_value(v) for v in row] for row in rows])


def _print_json(columns: list[str], rows: list[tuple]) -> None:
    """A JSON array of objects, one per row: dates as ISO strings, NaN and infinities as null."""
    records = [{c: _json_value(v) for c, v in zip(columns, row, strict=True)} for row in rows]
    json.dump(records, sys.stdout, indent=1, default=str)
    print()


def _json_value(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


# -- history ----------------------------------------------------------------------------------------------
def run_history(args: argparse.Namespace) -> int:
    from llmprices.report.history import history_chart, price_stretches, provider_history, resolve_model

    con = open_lake(args.lake)
    try:
        model = resolve_model(con, args.model)
    except LookupError as exc:
        raise UsageError(str(exc)) from None
    history = provider_history(con, model, args.providers, args.since)
    if history.empty:
        only = f" from {', '.join(args.providers)}" if args.providers else ""
        raise UsageError(f"no prices for {model}{only}" + (f" since {args.since}" if args.since else ""))
    named = "" if model == args.model else f" ({args.model!r})"
    first, last = history["snapshot_date"].min(), history["snapshot_date"].max()
    print(f"{model}{named}: {history['provider'].nunique()} providers, {_day(first)} .. {_day(last)}, "
          "USD per million tokens, one price per provider a day (provider_prices)\n")  # fmt: skip
    stretches = price_stretches(history)
    _print_table(list(stretches.columns), list(stretches.itertuples(index=False, name=None)))
    today = history[history["snapshot_date"] == last].sort_values("blended")
    cheapest, priciest = today.iloc[0], today.iloc[-1]
    spread = f" ({priciest['blended'] / cheapest['blended']:.1f}x)" if cheapest["blended"] > 0 else ""
    print(f"\n{_day(last)}: cheapest {cheapest['provider']} {cheapest['blended']:g}, priciest {priciest['provider']} "
          f"{priciest['blended']:g}{spread}, {len(today)} providers")  # fmt: skip
    out = args.out or Path(f"history-{model.replace('/', '_')}.png")
    out.write_bytes(history_chart(history, model))
    print(f"chart: {out}")
    return 0


def _day(value) -> str:
    return str(value)[:10]


# -- report -----------------------------------------------------------------------------------------------
def run_report(args: argparse.Namespace) -> int:
    from llmprices.report.monthly import NoPricesThatMonth, monthly_report

    con = open_lake(args.lake)
    try:
        html = monthly_report(con, args.month)
    except NoPricesThatMonth as exc:
        raise UsageError(str(exc)) from None
    out = args.out or Path(f"report-{args.month}.html")
    out.write_text(html, encoding="utf-8")
    print(f"{out} ({len(html.encode()) // 1024} KB): the {args.month} report, self-contained (open it in a browser)")
    return 0
