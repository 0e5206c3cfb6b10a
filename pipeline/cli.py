"""`llmprices`: run the pipeline from a shell, through real Dagster runs the UI can show."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings
from datetime import UTC, date, datetime
from pathlib import Path

from pipeline import read_commands
from pipeline.cli_errors import (
    Parser,
    UsageError,
    debug_anywhere,
    existing_file,
    existing_folder,
    iso_day,
    run_reporting_errors,
    source_name,
)
from pipeline.homes import HomeMismatch
from pipeline.webserver import WebserverError

DEMO_DATA = Path(__file__).resolve().parent / "demo_data"
LAKE_HELP = "lake root URI (default $PRICE_LAKE_URI or ./lake)"


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="llmprices", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error (anywhere on the line)")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="fetch and process one day of the chosen sources (a real Dagster run)")
    run.add_argument("--date", type=iso_day, default=datetime.now(UTC).date(), help="YYYY-MM-DD (default today, UTC)")
    run.add_argument(
        "--source",
        action="append",
        dest="sources",
        metavar="NAME",
        type=source_name,
        help="repeatable; default every live source",
    )
    run.add_argument("--lake", help=LAKE_HELP)

    demo = commands.add_parser("demo", help="run the whole pipeline offline on the sample captures the project ships")
    demo.add_argument("--lake", default="demo-lake", help="lake root URI for the demo (default ./demo-lake)")

    imp = commands.add_parser(
        "import-csv", help="land a CSV of prices (snapshot_date,provider,model,input_usd_per_mtok,output_usd_per_mtok)"
    )
    imp.add_argument("file", type=existing_file)
    imp.add_argument("--lake", help=LAKE_HELP)

    back = commands.add_parser(
        "backfill",
        help="land a history of captures as one run: a folder of dated captures (<dir>/<YYYY-MM-DD>.json[.gz]), "
        "a git repository's history of one file, or the Wayback Machine's captures of a URL",
    )
    back.add_argument(
        "--source", required=True, type=source_name, help="the source the captures are of, e.g. openrouter"
    )
    history = back.add_mutually_exclusive_group(required=True)
    history.add_argument("--from-dir", type=existing_folder, dest="folder", help="a folder of dated captures")
    history.add_argument(
        "--git",
        metavar="PATH_OR_URL",
        help="a git repository (local path or URL) whose history of --path holds the captures: "
        "the file as of the last commit of each UTC day",
    )
    history.add_argument(
        "--wayback",
        metavar="URL",
        help="the URL whose Wayback Machine captures to land: the last of each UTC day ($WAYBACK_API_BASE)",
    )
    back.add_argument("--path", help="with --git: the file in the repository, e.g. data/output.json")
    back.add_argument("--start", type=iso_day, help="first day to land (default: the first captured)")
    back.add_argument("--end", type=iso_day, help="last day to land (default: the last captured)")
    back.add_argument("--force", action="store_true", help="re-land days already in the lake")
    back.add_argument(
        "--downstream",
        action="store_true",
        help="then compute over the landed days, one run each: price_history, daily_spreads, price_changes (no alerts)",
    )
    back.add_argument("--lake", help=LAKE_HELP)

    acc = commands.add_parser(
        "accept", help="publish a day of a source that a failed blocking check held back (look at it first)"
    )
    acc.add_argument("source", type=source_name, help="e.g. openrouter")
    acc.add_argument("day", type=iso_day, help="YYYY-MM-DD")
    acc.add_argument("--lake", help=LAKE_HELP)

    cov = commands.add_parser(
        "coverage",
        help="share of open-weight text-model rows of OpenRouter captures with a curated model, and with a size",
    )
    cov.add_argument(
        "openrouter_dir",
        type=existing_folder,
        help="folder of OpenRouter /models captures, e.g. ../shared/data/openrouter-models",
    )
    cov.add_argument(
        "--rules-alone",
        action="store_true",
        help="reduce the curated table to the models whose name gives no size (or another one), as if the rules "
        "had to size the rest",
    )
    cov.add_argument("--lake", help="use the Hub's answers kept in this lake (its hub_params/ table)")
    cov.add_argument(
        "--ask-hub",
        action="store_true",
        help="ask the Hub ($HF_HUB_API_BASE, $HF_HUB_FILES_BASE) about the open-weight repos it has no answer for",
    )

    read_commands.register(commands)

    ui = commands.add_parser(
        "ui", help="the Dagster UI (dagster dev) on the lake's own Dagster home, where the CLI's runs are"
    )
    ui.add_argument("--lake", help=LAKE_HELP)
    ui.add_argument("--port", type=int, default=3000, help="default 3000")
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")

    args = parser.parse_args(debug_anywhere(sys.argv[1:] if argv is None else argv))
    if args.command == "backfill" and bool(args.git) != bool(args.path):
        back.error("--path goes with --git (and --git needs --path)")
    warnings.filterwarnings("ignore", message=r".*currently in (beta|preview)")  # Dagster's API-status notices
    handlers = {
        "run": _run,
        "demo": _demo,
        "import-csv": _import_csv,
        "coverage": _coverage,
        "backfill": _backfill,
        "accept": _accept,
        "ui": _ui,
    }
    handler = handlers.get(args.command) or args.handler  # read commands bring their own
    return run_reporting_errors(_home_errors_said_as_usage(handler), args, args.debug)


def _home_errors_said_as_usage(handler):
    """A home that holds another lake, or a UI that cannot take the runs, is the user's choice to change."""

    def run(args) -> int:
        try:
            return handler(args)
        except (HomeMismatch, WebserverError) as exc:
            raise UsageError(str(exc)) from None

    return run


def _lake(lake_uri: str | None) -> str:
    """The lake as runs in other processes see it: --lake, else $PRICE_LAKE_URI, else ./lake; local paths made
    absolute."""
    from llmprices.lake.store import lake_uri_from_env
    from pipeline.homes import lake_identity

    return lake_identity(lake_uri or lake_uri_from_env())


def _runs_for(lake: str):
    """Runs of the code location's jobs for the lake, kept in the lake's own Dagster home: through the UI running
    for it, else through a webserver started for this command (a context manager)."""
    from pipeline.homes import home_for_lake
    from pipeline.runner import code_location_runs

    return code_location_runs(home_for_lake(lake), lake)


def _run(args) -> int:
    from llmprices.sources import ALL_SOURCES
    from pipeline.run_summary import landed
    from pipeline.runner import IngestRequest, ingest_launch

    sources = args.sources or [spec.name for spec in ALL_SOURCES if spec.live]
    lake = _lake(args.lake)
    launch = ingest_launch(IngestRequest(sources, args.date, args.date, lake_uri=lake))  # checked before any start
    with _runs_for(lake) as runs:
        status = _print_run(runs.execute(launch), runs.instance)
    print("\n".join(landed(lake, sources, [args.date]).lines))
    return status


def _import_csv(args) -> int:
    from llmprices.sources.csv_import import split_csv_by_day
    from pipeline.run_summary import landed
    from pipeline.runner import IngestRequest, run_ingest

    try:
        by_day = split_csv_by_day(args.file.read_bytes())
    except ValueError as exc:
        raise UsageError(f"{args.file}: {exc}") from None
    if not by_day:
        raise UsageError(f"{args.file} has no rows")
    lake = _lake(args.lake)
    with tempfile.TemporaryDirectory() as folder, _runs_for(lake) as runs:
        for day, body in by_day.items():
            (Path(folder) / f"{day.isoformat()}.csv").write_bytes(body)
        days = sorted(by_day)
        print(f"importing {len(days)} day(s), {days[0]} .. {days[-1]}, from {args.file}")
        status = 0
        for first, last in _contiguous_ranges(days):  # a run covers a range; gaps have no rows to land
            request = IngestRequest(["csv"], first, last, lake_uri=lake, archive_dirs={"csv": folder})
            status = max(status, _print_run(run_ingest(request, runs), runs.instance))
        summary = landed(lake, ["csv"], days)
        print("\n".join(summary.lines))
        if summary.rows == 0:  # every row quarantined: the runs succeeded, the import did not
            print(f"\nno row of {args.file} landed: {summary.quarantined} quarantined (why above)", file=sys.stderr)
            return 1
        return status


def _demo(args) -> int:
    from llmprices.lake.store import Lake
    from pipeline import report
    from pipeline.jobs import (
        CATALOG_REFRESH,
        DAILY_ANALYTICS,
        DAILY_HISTORY,
        MONTHLY_COMPACTION,
        MONTHLY_TRENDS,
        PRICE_ALERTS,
    )
    from pipeline.runner import IngestRequest, job_launch, run_ingest

    archives = {folder.name: str(folder) for folder in sorted(DEMO_DATA.iterdir()) if folder.is_dir()}
    days = sorted({p.name.split(".")[0] for folder in DEMO_DATA.iterdir() if folder.is_dir() for p in folder.iterdir()})
    first, last, month = days[0], days[-1], days[0][:8] + "01"
    print(f"Demo: {len(archives)} sources x {len(days)} days ({first} .. {last}) from {DEMO_DATA}, into {args.lake}/")
    lake = _lake(args.lake)
    with _runs_for(lake) as runs:
        request = IngestRequest(list(archives), date.fromisoformat(first), date.fromisoformat(last), lake, archives)
        status = _print_run(run_ingest(request, runs), runs.instance)
        the_days = {"first": first, "last": last, "lake_uri": lake}
        alerts = {"alerts": {"rules_file": _demo_alert_rules(lake)}}
        offline_catalog = {"model_catalog": {"config": {"enrich_from_hub": False}}}
        offline_new_models = {"new_models": {"config": {"ask_hub": False}}}
        results = runs.execute_all(  # each reads only what the ingest landed: side by side
            [
                job_launch(CATALOG_REFRESH, lake_uri=lake, ops_config=offline_catalog),
                job_launch(DAILY_HISTORY, **the_days),
                job_launch(DAILY_ANALYTICS, **the_days),
                job_launch(PRICE_ALERTS, **the_days, resource_config=alerts, ops_config=offline_new_models),
                job_launch(MONTHLY_COMPACTION, first=month, lake_uri=lake),
            ]
        )
        results += runs.execute_all([job_launch(MONTHLY_TRENDS, first=month, lake_uri=lake)])  # the catalog and prices
    for result in results:
        print(f"{result.job:<24} {'succeeded' if result.success else 'FAILED'}")
        status = max(status, 0 if result.success else 1)

    lake = Lake(lake)
    _section("Rows per source and day", report.rows_per_source(lake))
    _section("Why rows were quarantined", report.quarantine_reasons(lake))
    _section(
        f"Price spreads on {last} (USD per million tokens, 3:1 blend; daily_spreads)", report.spreads_on(lake, last)
    )
    _section(f"Price changes on {last} (price_changes)", report.changes_on(lake, last))
    _section(f"Minimum-price trend, {first[:7]} (cost_trends)", report.min_price_trend(lake, first[:7]))
    print(f'\nQuery the lake:      llmprices query --lake {args.lake} "select * from spreads limit 5"')
    print(f"Read the month:      llmprices report --month {first[:7]} --lake {args.lake}")
    print(f"Alerts delivered to: {_demo_alerts_file(lake.root_uri)}")
    print(f"Open the UI:         llmprices ui --lake {args.lake}")
    return status


def _demo_alerts_file(lake: str) -> Path:
    return Path(f"{lake}-alerts.jsonl")


def _demo_alert_rules(lake: str) -> str:
    """A rules file beside the demo lake: every change, to a JSONL file beside it. Alerts expire long after the
    demo's days (January 2025); the default, 3 days, would record them expired, unsent."""
    rules = Path(f"{lake}-alert-rules.yaml")
    rules.write_text(
        "expire_after_days: 100000\n"
        f"sinks:\n  demo-file:\n    type: jsonl\n    path: {json.dumps(str(_demo_alerts_file(lake)))}\n"
        "rules:\n  - name: every-change\n    sinks: [demo-file]\n"
    )
    return str(rules)


def _backfill(args) -> int:
    from llmprices.lake.store import Lake, lake_uri_from_env

    lake_uri = args.lake or lake_uri_from_env()
    lake = Lake(lake_uri)
    if args.folder:
        from pipeline.backfill import plan_backfill

        plan = plan_backfill(lake, args.source, args.folder, args.start, args.end, args.force)
        _print_plan(args.source, plan)
        return _run_backfill(plan, args.folder, lake_uri, args.downstream) if plan.todo else 0
    return _backfill_from_history(args, lake, lake_uri)


def _backfill_from_history(args, lake, lake_uri: str) -> int:
    """Stage the days to do from a git history or the Wayback Machine into a temp folder, then run."""
    from llmprices.http import HttpError
    from llmprices.sources.importers.git_history import GitHistoryError
    from llmprices.sources.importers.wayback import WaybackError

    with tempfile.TemporaryDirectory(prefix="llmprices-staging-") as folder:
        try:
            history = _open_history(args, folder)
            with history:
                return _stage_and_run(args, history, lake, lake_uri, Path(folder))
        except (GitHistoryError, WaybackError, HttpError, ValueError) as exc:
            print(f"backfill: {exc}", file=sys.stderr)
            return 2


def _stage_and_run(args, history, lake, lake_uri: str, folder: Path) -> int:
    from tqdm import tqdm

    from pipeline.backfill import stage_import

    bar = None

    def planned(plan) -> None:
        nonlocal bar
        _print_plan(args.source, plan)
        if plan.todo:
            bar = tqdm(total=len(plan.todo), unit="day", desc="fetching")

    def staged(done: int) -> None:
        bar.update(done - bar.n)

    try:
        plan, report = stage_import(
            history, lake, args.source, folder, args.start, args.end, args.force, planned, staged
        )
    finally:
        if bar is not None:
            bar.close()
    if not plan.captured:
        where = f"{args.git} history of {args.path}" if args.git else f"the Wayback Machine for {args.wayback}"
        print(f"backfill: no captures found in {where} (within --start/--end)", file=sys.stderr)
        return 1
    for day, why in sorted(report.failed.items()):
        print(f"{day}: capture not fetched, left for the next run: {why}", file=sys.stderr)
    status = _run_backfill(plan, folder, lake_uri, args.downstream) if plan.todo else 0
    return max(status, 1 if report.failed else 0)


def _open_history(args, workdir: str):
    if args.git:
        from llmprices.sources.importers.git_history import GitHistory

        return GitHistory(args.git, args.path, workdir=workdir)
    from llmprices.sources.importers.wayback import WaybackHistory

    return WaybackHistory(args.wayback, start=args.start, end=args.end)


def _print_plan(source: str, plan) -> None:
    print(
        f"{source}: {len(plan.captured)} captured day(s), {len(plan.captured) - len(plan.todo)} already "
        f"in the lake, {len(plan.todo)} to land in {len(plan.spans)} run(s)"
    )


def _run_backfill(plan, folder: Path, lake_uri: str, downstream: bool) -> int:
    from tqdm import tqdm

    from pipeline.backfill import run_backfill, run_downstream

    lake = _lake(lake_uri)
    with (
        _runs_for(lake) as runs,
        tqdm(total=len(plan.todo), unit="day", desc="raw", position=0) as raw_bar,
        tqdm(total=len(plan.todo), unit="day", desc="landed", position=1) as bar,
    ):

        def progress(done: int) -> None:
            bar.update(done - bar.n)

        def archived(done: int) -> None:
            raw_bar.update(done - raw_bar.n)

        results = run_backfill(plan, folder, lake, runs, progress, archived)
        downstream_results = run_downstream(plan, lake, runs) if downstream else []
    status = max(_print_run(result, runs.instance) for result in results)
    if downstream:
        print(f"\nDownstream of {plan.source}, {min(plan.todo)} .. {max(plan.todo)}:")
        for result in downstream_results:
            outcome = "succeeded" if result.success else "FAILED: " + "; ".join(_step_failures(result))
            print(f"{result.job:<24} {outcome}")
            status = max(status, 0 if result.success else 1)
    return status


def _ui(args) -> int:
    """`dagster dev` on the lake's home, in place of this process (Ctrl-C reaches it): the runs the CLI launched
    for this lake are on their jobs' pages, and the CLI launches its next runs through it while it runs."""
    from pipeline.homes import home_for_lake
    from pipeline.webserver import Webserver, default_sigint, record_ui

    lake = _lake(args.lake)
    home = home_for_lake(lake)
    server = Webserver(home, lake, port=args.port, host=args.host, dev=True)
    local = server.url if args.host not in ("0.0.0.0", "::") else f"http://127.0.0.1:{args.port}"
    record_ui(home, local)
    print(f"Dagster UI for lake {lake} (Dagster home {home}): {server.url}", flush=True)
    command = server.command()
    default_sigint()  # Ctrl-C and `kill` stop it, even when started in the background
    os.execve(command[0], command, server.env())



def _accept(args) -> int:
    """Publish a held-back day as it is, and tell Dagster (a materialization that says who published it)."""
    from llmprices.lake.store import Lake
    from llmprices.observations.write import accept_held, held_reason
    from pipeline.homes import home_for_lake
    from pipeline.runner import home_instance, record_accepted

    lake_uri = _lake(args.lake)
    lake = Lake(lake_uri)
    hold = held_reason(lake, args.source, args.day)
    if hold is None:
        raise UsageError(f"no day {args.day} of {args.source} is held back in {lake.root_uri}")
    rows = accept_held(lake, args.source, args.day)
    with home_instance(home_for_lake(lake_uri)) as instance:
        record_accepted(instance, args.source, args.day, rows, hold)
    print(f"{args.source} {args.day}: published {rows} rows held back by {hold.check}: {hold.reason}")
    return 0


def _coverage(args) -> int:
    from llmprices.catalog import hf_params
    from llmprices.catalog.coverage import (
        Curation,
        ask_hub_about,
        describe,
        open_weight_text_rows,
        sized_rows,
        summarize,
    )
    from llmprices.catalog.hub_cache import HubAnswers, read_hub_answers
    from llmprices.http import HttpClient
    from llmprices.lake.store import Lake

    curation = Curation.shipped()
    if args.rules_alone:
        shipped, curation = curation, curation.rules_alone()
        print(f"rules alone: models.csv reduced to the {len(curation.curated)} of {len(shipped.curated)} models "
              "whose name gives no size (or another one)")  # fmt: skip
    rows = open_weight_text_rows(args.openrouter_dir)
    answers = read_hub_answers(Lake(args.lake)) if args.lake else HubAnswers()
    if args.ask_hub:
        api_base = os.environ.get(hf_params.API_BASE_ENV) or hf_params.DEFAULT_API_BASE
        files_base = os.environ.get(hf_params.FILES_BASE_ENV) or hf_params.DEFAULT_FILES_BASE
        http = HttpClient()
        try:
            got = ask_hub_about(
                rows, curation, answers, http, datetime.now(UTC), api_base=api_base, files_base=files_base
            )
        finally:
            http.close()
        print(f"asked the Hub at {api_base}: {len(got)} repos answered")
    print(describe(summarize(sized_rows(rows, curation, answers.params))))
    return 0


def _print_run(result, instance) -> int:
    """The run's outcome, its checks, each failed step in one line and what its steps warned about."""
    from pipeline.run_summary import step_warnings

    print(f"\nDagster run {result.run_id[:8]}: {'succeeded' if result.success else 'FAILED'}")
    evaluations = result.get_asset_check_evaluations()
    if evaluations:
        print(f"{'asset':<34} {'check':<24} result")
        for ev in sorted(evaluations, key=lambda e: (e.asset_key.to_user_string(), e.check_name)):
            verdict = "passed" if ev.passed else f"FAILED ({ev.severity.value})"
            print(f"{ev.asset_key.to_user_string():<34} {ev.check_name:<24} {verdict}")
    for failure in _step_failures(result):
        print(f"step {failure}")
    for step, message in step_warnings(instance, result.run_id):
        print(f"{step}: {message}")
    return 0 if result.success else 1


def _step_failures(result) -> list[str]:
    """Each failed step of a run and, in one line, what went wrong."""
    from pipeline.run_summary import step_failures

    return [f"{step} failed: {what}" for step, what in step_failures(result.all_events)]


def _section(title: str, frame) -> None:
    print(f"\n{title}:")
    print(frame.to_string(index=False) if len(frame) else "  (none)")


def _contiguous_ranges(days: list[date]) -> list[tuple[date, date]]:
    ranges: list[tuple[date, date]] = []
    for day in days:
        if ranges and (day - ranges[-1][1]).days == 1:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def entry_point() -> None:
    """The `llmprices` command."""
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
