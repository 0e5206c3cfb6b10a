"""100x today's load: each daily step of the pipeline at 1x, 10x and 100x the models and providers of the newest
shared OpenRouter day, over a year of synthetic days (`benchmarks/synthetic.py`).

Per scale, a lake holding a year of days (both OpenRouter formats: `/models` and the per-model endpoints) is
written once (`--work` keeps and reuses it), with its `provider_prices` and earlier months' `trends/model_prices`,
and the next day's raw payloads. Then every step runs in a fresh process of its own, as a daily run's step
does, and reports its wall time (from the process itself, imports excluded) and its peak RSS (`ru_maxrss`: the
whole process, interpreter and libraries included; the RSS after imports is printed beside it):

- ingest: the next day's raw payloads of both sources read from the lake, parsed, normalized (the matcher
  included) and written as `observations/` and `quarantine/` (fetch and GX validation excluded:
  `bench_ingest_day` times those);
- spreads: the day's provider prices as the asset computes them (the trust rules with the facts of the whole
  year's history, gathered a month at a time, then reconciliation: `provider_prices`), and `spreads/`;
- changes: each source's day against its previous day with data (`changes/`);
- history: `price_history` over the year (`history/`), as the asset builds it (`source_history`); at the
  scales in `--before`, also the one-pass build it replaced (every observation in one frame), for contrast;
- trends: the last month's refit (`refit_month`: every `trends/` table), on the catalog scaled alike;
- compact: every month compacted into its year's file (`compact_months`), which the query layer then reads;
- query: one model's daily minimum price over the year through `llmprices.lake.query.connect` (DuckDB), warm,
  median of --query-repeat runs (target at 100x: under 1 s).

    python -m benchmarks.bench_scale [--scales 1,10,100] [--days 365] [--repeat 3] [--work DIR] [--steps S,..]
                                     [--save]
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks import synthetic
from llmprices.analysis.monthly import MonthInputs, refit_month
from llmprices.analysis.proxy import ROUTER_LIST_COLUMNS, ROUTER_SOURCE, router_list_prices
from llmprices.analysis.spreads import provider_price_rows, spread_prices, spread_summary
from llmprices.lake.compaction import compact_months, daily_files
from llmprices.lake.query import connect
from llmprices.lake.read import read_observations
from llmprices.lake.store import Lake
from llmprices.lake.tables import (
    CHANGES,
    COMPACTED_OBSERVATIONS,
    HISTORY,
    OBSERVATIONS,
    PROVIDER_PRICES,
    QUARANTINE,
    SPREADS,
    TREND_TABLES,
)
from llmprices.observations.normalize import observations_table
from llmprices.observations.parse import parse_day
from llmprices.sources import SOURCES_BY_NAME
from llmprices.trust.config import TrustConfig
from llmprices.trust.flags import flag_observations
from llmprices.trust.months import judged_months
from llmprices.trust.reconcile import reconcile
from llmprices.warehouse.changes import changes_between, changes_table, previous_day_with_data
from llmprices.warehouse.history import history_intervals, history_table, source_history

REPO = Path(__file__).resolve().parent.parent
FIRST_DAY = date(2025, 1, 1)
STEPS = ("ingest", "spreads", "changes", "history", "history_one_pass", "trends", "compact", "query")
#: Steps over the whole year: from --once-from on, run once (minutes each at 100x).
YEAR_STEPS = ("history", "history_one_pass", "trends", "compact")
QUERY = """
    select snapshot_date, min(blended_usd_per_mtok) as min_blended
    from observations where model = $model group by snapshot_date order by snapshot_date
"""
QUERY_TARGET_S = 1.0
RATE_DAYS = 120  # the shared days the daily rates are measured on: the last ones


# -- the year's lake -----------------------------------------------------------------------------------------
def build_year(shared: Path, lake_dir: Path, scale: int, days: int, rate_days: int = RATE_DAYS) -> dict:
    """Write `days` synthetic days at `scale` into `lake_dir`, and the raw payloads of the day after; returns
    (and keeps beside the lake) what was built."""

    started = time.perf_counter()
    lake = Lake(str(lake_dir))
    rates = synthetic.Rates.measure(sorted((shared / "openrouter-models").glob("*.json.gz"))[-rate_days:])
    rng = np.random.default_rng(synthetic.SEED + scale)
    market = synthetic.market(shared, scale)
    month_prices, month_router, rows, first_models = [], [], 0, None
    for n in range(days):
        day = FIRST_DAY + timedelta(days=n)
        market = synthetic.next_day(market, rates, rng) if n else market
        tables = synthetic.observations(market, day)
        for source, table in tables.items():
            lake.write_partition(OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=day, source=source), table)
            rows += table.num_rows
        frame = synthetic_frame(tables, day)
        prices = reconciled_prices(frame, scale)
        month_router.append(router_list_prices(frame))
        lake.write_partition(PROVIDER_PRICES, PROVIDER_PRICES.partition(snapshot_date=day),
                             PROVIDER_PRICES.from_frame(prices))  # fmt: skip
        month_prices.append(prices)
        first_models = set(prices["model"]) if first_models is None else first_models
        month_ends = (day + timedelta(days=1)).month != day.month
        if month_ends and n < days - 1:  # the last month is the trends step's to fit
            table = TREND_TABLES["model_prices"]
            inputs = MonthInputs(synthetic_concat(month_prices), synthetic_concat(month_router), earlier_months(lake))
            model_prices = refit_month(f"{day:%Y-%m}", inputs, synthetic.catalog(scale)).tables["model_prices"]
            lake.write_partition(table, table.partition(month=f"{day:%Y-%m}"), table.from_frame(model_prices))
            month_prices, month_router = [], []
    last_day = FIRST_DAY + timedelta(days=days - 1)
    # the query's model: the most served matched model of the last day that was there on the first
    served = prices[prices["model"].isin(first_models)].groupby("model").size()
    query_model = served.sort_values(ascending=False, kind="stable").index[0]
    following = synthetic.next_day(market, rates, rng)
    ingest_day = last_day + timedelta(days=1)
    raw = synthetic.payloads(following, ingest_day)
    for source, payloads in raw.items():
        lake.write_raw(source, ingest_day, payloads)
    meta = {
        "scale": scale, "days": days, "first_day": FIRST_DAY.isoformat(), "last_day": last_day.isoformat(),
        "ingest_day": ingest_day.isoformat(), "observation_rows": rows, "rates": rates.__dict__,
        "models_last_day": len(market.models), "endpoints_last_day": len(market.endpoints),
        "authors_last_day": int(market.models["author"].nunique()),
        "serving_providers_last_day": int(market.endpoints["provider"].nunique()),
        "rows_last_day": {source: table.num_rows for source, table in tables.items()},
        "raw_bytes_ingest_day": sum(len(p.body) for payloads in raw.values() for p in payloads),
        "query_model": query_model, "lake_bytes": folder_bytes(lake_dir), "build_seconds": 0.0,
    }  # fmt: skip
    meta["build_seconds"] = round(time.perf_counter() - started, 1)
    (lake_dir.parent / "meta.json").write_text(json.dumps(meta, indent=1))
    return meta


def synthetic_frame(tables: dict, day: date):
    """The day's observation tables as one frame with `snapshot_date` and `source`, as the lake reads it."""
    frames = [table.to_pandas().assign(snapshot_date=day, source=source) for source, table in tables.items()]
    return pd.concat(frames, ignore_index=True)


def synthetic_concat(frames: list):
    return pd.concat(frames, ignore_index=True)


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


# -- the steps, each run in a process of its own -------------------------------------------------------------
def step_ingest(lake, meta: dict) -> dict:

    day, rows = date.fromisoformat(meta["ingest_day"]), {}
    for source in synthetic.SOURCES:
        _, payloads = lake.read_raw(source, day)
        parsed, _ = parse_day(SOURCES_BY_NAME[source], payloads, day)
        del payloads
        observations, rejected = observations_table(parsed)
        partition = OBSERVATIONS.partition(snapshot_date=day, source=source)
        lake.write_partition(OBSERVATIONS, partition, observations)
        lake.write_partition(QUARANTINE, partition, rejected)
        rows[source] = observations.num_rows
    return {"rows": rows}


def reconciled_prices(observations: pd.DataFrame, scale: int) -> pd.DataFrame:
    """The year's provider prices as the build writes them, a day at a time: the trust rules over the day's
    observations alone, then reconciliation (the spreads step times the asset's own way)."""
    trust = TrustConfig()
    flagged = flag_observations(observations, synthetic.catalog(scale), trust)
    return provider_price_rows(reconcile(flagged, config=trust))


def step_spreads(lake, meta: dict) -> dict:
    """The last day's provider prices as the asset computes them (`judged_months`: the facts of the whole year's
    history gathered a month at a time, then the day and its lead-in judged), and its spreads."""
    day = date.fromisoformat(meta["last_day"])
    [month] = judged_months(lake, [day], synthetic.catalog(meta["scale"]), TrustConfig())
    prices = provider_price_rows(month.reconciled)
    lake.write_partition(PROVIDER_PRICES, PROVIDER_PRICES.partition(snapshot_date=day),
                         PROVIDER_PRICES.from_frame(prices))  # fmt: skip
    spreads = spread_summary(spread_prices(prices))
    lake.write_partition(SPREADS, SPREADS.partition(snapshot_date=day), SPREADS.from_frame(spreads))
    return {"observations": len(month.flagged), "provider_prices": len(prices), "models": len(spreads)}


def step_changes(lake, meta: dict) -> dict:

    day, counts = date.fromisoformat(meta["last_day"]), {}
    for source in synthetic.SOURCES:
        current = lake.read_partition(OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=day, source=source))
        previous_date = previous_day_with_data(lake, source, day)
        previous = lake.read_partition(OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=previous_date, source=source))
        changes = changes_between(current.to_pandas(), previous.to_pandas(), day, previous_date, source=source)
        lake.write_partition(CHANGES, CHANGES.partition(snapshot_date=day, source=source), changes_table(changes))
        counts[source] = changes["kind"].value_counts().to_dict()
    return {"changes": counts}


def step_history(lake, meta: dict) -> dict:

    intervals = 0
    for source in lake.sources_with_partitions(OBSERVATIONS):
        rows = source_history(lake, source)
        lake.write_partition(HISTORY, HISTORY.partition(source=source), history_table(rows))
        intervals += len(rows)
    return {"intervals": intervals}


def step_history_one_pass(lake, meta: dict) -> dict:
    """The build `source_history` replaced: every observation of the lake in one frame (for contrast)."""

    history = history_intervals(read_observations(lake))
    for source, rows in history.groupby("source", sort=True):
        lake.write_partition(HISTORY, HISTORY.partition(source=source), history_table(rows))
    return {"intervals": len(history)}


def step_trends(lake, meta: dict) -> dict:

    month = meta["last_day"][:7]
    frames = [
        lake.read_partition(PROVIDER_PRICES, PROVIDER_PRICES.partition(snapshot_date=value))
        .to_pandas().assign(snapshot_date=date.fromisoformat(value))
        for value in lake.partition_values(PROVIDER_PRICES) if value.startswith(month)
    ]  # fmt: skip
    first = date.fromisoformat(f"{month}-01")
    router = router_list_prices(read_observations(lake, first, date.fromisoformat(meta["last_day"]),
                                                  sources=[ROUTER_SOURCE], columns=ROUTER_LIST_COLUMNS))  # fmt: skip
    inputs = MonthInputs(pd.concat(frames, ignore_index=True), router, earlier_months(lake, month))
    fit = refit_month(month, inputs, synthetic.catalog(meta["scale"]))
    for name, frame in fit.tables.items():
        lake.write_partition(TREND_TABLES[name], TREND_TABLES[name].partition(month=month),
                             TREND_TABLES[name].from_frame(frame))  # fmt: skip
    return {"days": fit.days, "rows": {name: len(frame) for name, frame in fit.tables.items()},
            "models_fitted": fit.fit.n_models}  # fmt: skip


def earlier_months(lake, before: str | None = None) -> pd.DataFrame:
    """The `trends/model_prices` rows of the months before `before` (all when None), with `month`."""
    table = TREND_TABLES["model_prices"]
    frames = [
        lake.read_partition(table, table.partition(month=value)).to_pandas().assign(month=pd.Timestamp(f"{value}-01"))
        for value in lake.partition_values(table) if before is None or value < before
    ]  # fmt: skip
    return pd.concat(frames, ignore_index=True) if frames else table.schema.empty_table().to_pandas()


def step_compact(lake, meta: dict) -> dict:
    """Every month compacted into its year's file, as a ranged run of `compacted_observations` does (from
    scratch: an earlier run's files are removed first)."""
    lake.fs.delete_dir_contents(lake.path(COMPACTED_OBSERVATIONS), missing_dir_ok=True)
    done = compact_months(lake, daily_files(lake))
    return {"years": {c.year: {"months": len(c.months), "rows": c.rows} for c in done}}


def step_query(lake, meta: dict, repeat: int = 20) -> dict:

    started = time.perf_counter()
    con = connect(lake.root_uri)
    connected = time.perf_counter() - started
    answer = con.execute(QUERY, {"model": meta["query_model"]}).fetchall()  # the warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        again = con.execute(QUERY, {"model": meta["query_model"]}).fetchall()
        times.append(time.perf_counter() - started)
        assert again == answer
    return {"median_s": statistics.median(times), "runs": repeat, "connect_s": connected, "days": len(answer),
            "model": meta["query_model"]}  # fmt: skip


def run_step(step: str, lake_dir: Path, query_repeat: int) -> None:
    """In the child process: run one step, print what it measured as one JSON line."""

    meta = json.loads((lake_dir.parent / "meta.json").read_text())
    after_imports = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    lake, function = Lake(str(lake_dir)), globals()[f"step_{step}"]
    detail = function(lake, meta, query_repeat) if step == "query" else function(lake, meta)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "after_imports_mib": after_imports, "detail": detail},
                     default=str))  # fmt: skip


# what a step loads, imported before the RSS baseline is read (so it says what the step adds): this module's
# imports, and scipy.stats for the trends (which import it when first fitting)
CHILD = (
    "import sys\n"
    "if sys.argv[1] == 'trends': import scipy.stats\n"
    "from benchmarks.bench_scale import run_step\n"
    "from pathlib import Path\n"
    "run_step(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))\n"
)


def measure(step: str, lake_dir: Path, query_repeat: int = 20) -> dict:
    """One step in a fresh process: what it printed, and its exit status checked."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", CHILD, step, str(lake_dir), str(query_repeat)], cwd=REPO, env=env,
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode:
        raise SystemExit(f"step {step} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the report ------------------------------------------------------------------------------------------------
def lake_of(work: Path, shared: Path, scale: int, days: int, say) -> tuple[Path, dict]:
    lake_dir = work / f"x{scale}" / "lake"
    meta_file = lake_dir.parent / "meta.json"
    if meta_file.exists() and json.loads(meta_file.read_text())["days"] == days:
        meta = json.loads(meta_file.read_text())
        say(f"  x{scale}: reusing the year in {lake_dir}")
    else:
        meta = build_year(shared, lake_dir, scale, days)
        say(f"  x{scale}: wrote {days} days in {meta['build_seconds']:.0f} s")
    say(f"  x{scale}: {meta['models_last_day']} models ({meta['authors_last_day']} authors), "
        f"{meta['endpoints_last_day']} endpoints ({meta['serving_providers_last_day']} serving providers) on the "
        f"last day; {meta['observation_rows']:,} observation rows, lake {meta['lake_bytes'] / 2**20:.0f} MiB; "
        f"ingest day's raw payloads {meta['raw_bytes_ingest_day'] / 2**20:.1f} MiB")  # fmt: skip
    return lake_dir, meta


def main() -> None:
    from benchmarks.bench_backfill import Transcript, shared_argument_parser  # imports Dagster: not in the steps

    parser = shared_argument_parser(__doc__)
    parser.add_argument("--scales", default="1,10,100")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--before", default="1,10", help="scales at which the one-pass history also runs")
    parser.add_argument("--once-from", type=int, default=100, help="from this scale, history and trends run once")
    parser.add_argument("--query-repeat", type=int, default=20)
    parser.add_argument("--work", type=Path, help="where the lakes are kept (and reused); default: a temp folder")
    parser.add_argument("--steps", default=",".join(STEPS), help="the steps to run, comma-separated")
    args = parser.parse_args()
    steps = [step for step in STEPS if step in args.steps.split(",")]
    scales = [int(s) for s in args.scales.split(",")]
    before = {int(s) for s in args.before.split(",") if s}
    transcript = Transcript("bench_scale", args.save)
    say = transcript.say
    say(f"bench_scale: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB RAM, Python "
        f"{platform.python_version()}; {args.days} days a scale; repeat {args.repeat}")  # fmt: skip
    results: dict[tuple[str, int], list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as scratch:
        work = args.work or Path(scratch)
        for scale in scales:
            lake_dir, meta = lake_of(work, args.shared, scale, args.days, say)
            for step in steps:
                if step == "history_one_pass" and scale not in before:
                    continue
                once = step in YEAR_STEPS and scale >= args.once_from
                runs = 1 if once else args.repeat
                results[step, scale] = [measure(step, lake_dir, args.query_repeat) for _ in range(runs)]
                say(f"    {step:<17} x{scale:<4} {line(results[step, scale])}")
    say()
    table(results, scales, say)
    transcript.close()


def line(runs: list[dict]) -> str:
    seconds = statistics.median(run["seconds"] for run in runs)
    text = f"{seconds:8.2f} s (median of {len(runs)})  peak RSS {max(r['peak_mib'] for r in runs):6.0f} MiB "
    text += f"(after imports {runs[0]['after_imports_mib']:.0f})  {json.dumps(runs[0]['detail'], default=str)[:300]}"
    return text


def table(results: dict, scales: list[int], say) -> None:
    """The README's table: time and peak RSS per step and scale, and how each grows from the first scale."""
    header = "| step | " + " | ".join(f"{s}x time | {s}x peak RSS" for s in scales)
    header += f" | growth {scales[0]}x->{scales[-1]}x (time; peak RSS) |" if len(scales) > 1 else " |"
    say(header)
    say("|" + "---|" * (header.count("|") - 1))
    for step in [step for step in STEPS if any((step, scale) in results for scale in scales)]:
        cells, first, last = [], None, None
        for scale in scales:
            runs = results.get((step, scale))
            if not runs:
                cells.append("not run | not run")
                continue
            seconds = statistics.median(r["detail"]["median_s"] if step == "query" else r["seconds"] for r in runs)
            peak = max(r["peak_mib"] for r in runs)
            cells.append(f"{_duration(seconds)} | {peak:.0f} MiB")
            first = first or (scale, seconds, peak)
            last = (scale, seconds, peak)
        growth = ""
        if len(scales) > 1 and first and last[0] == scales[-1] and first[0] == scales[0]:
            growth = f" | {last[1] / first[1]:.0f}x; {last[2] / first[2]:.1f}x"
        elif len(scales) > 1:
            growth = " | -"
        label = "query (warm, median)" if step == "query" else step
        say(f"| {label} | " + " | ".join(cells) + growth + " |")


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


if __name__ == "__main__":
    main()
