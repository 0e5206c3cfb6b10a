"""The daily minimum blended price of one model over every day in the lake, through the query layer.

Builds a lake of every shared OpenRouter day with `llmprices backfill` (or reuses --lake, compacting it in
place), compacts every month (into its year's file), then times the query warm (median of --repeat) three
ways: through `pipeline.query.connect` (compacted months), on ONE parquet file holding all observations
(written like a compacted file), and through the query layer on the daily files only. The first two are
timed alternately, so the noise of a shared machine hits both alike. Targets: the query layer under
100 ms, and within 2x of the single file.

    python -m benchmarks.bench_query [--lake DIR] [--shared ../shared/data] [--repeat 50] [--model ID] [--save]
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow.fs as pafs

from benchmarks.bench_backfill import Transcript, shared_argument_parser
from llmprices.lake.compaction import compact_months, compacted_table, daily_files, write_parquet
from llmprices.lake.query import connect
from llmprices.lake.store import Lake

DEFAULT_MODEL = "meta-llama/llama-3.1-70b-instruct"
QUERY = """
    select snapshot_date, min(blended_usd_per_mtok) as min_blended
    from {table} where model = $model group by snapshot_date order by snapshot_date
"""
TARGET_MS, TARGET_RATIO = 100.0, 2.0
COMPACTED, SINGLE, DAILY = "query layer (compacted)", "single parquet file", "query layer, daily files only"


def backfill(lake_dir: Path, shared: Path) -> None:
    """Every shared OpenRouter day into `lake_dir`, with the CLI as a user would (its own Dagster home)."""
    env = {**os.environ, "DAGSTER_HOME": str(lake_dir.parent / "dagster_home")}
    command = [sys.executable, "-m", "pipeline.cli", "backfill", "--source", "openrouter"]
    command += ["--from-dir", str(shared / "openrouter-models"), "--lake", str(lake_dir)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)  # quiet: no progress bars
    if done.returncode:
        raise SystemExit(f"backfill failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def seconds(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> int:
    parser = shared_argument_parser(__doc__)
    parser.set_defaults(repeat=50)
    parser.add_argument("--lake", type=Path, help="a lake with observations (default: backfill one in a temp dir)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="default: %(default)s, else the model with most days")
    args = parser.parse_args()
    transcript = Transcript("bench_query", args.save)
    say = transcript.say

    with tempfile.TemporaryDirectory() as scratch:
        lake_dir = args.lake or Path(scratch) / "lake"
        if args.lake is None:
            start = time.perf_counter()
            backfill(lake_dir, args.shared)
            say(f"backfill of {args.shared / 'openrouter-models'}: {time.perf_counter() - start:.1f} s")
        lake = Lake(str(lake_dir))

        start = time.perf_counter()
        years = compact_months(lake, daily_files(lake))
        say(f"compacted {sum(len(y.months) for y in years)} months into {len(years)} yearly files "
              f"in {time.perf_counter() - start:.2f} s")  # fmt: skip
        con, daily = connect(lake.root_uri), connect(lake.root_uri, use_compacted=False)
        [(rows, days)] = con.execute("select count(*), count(distinct snapshot_date) from observations").fetchall()
        model = args.model
        if not con.execute("select 1 from observations where model = ? limit 1", [model]).fetchall():
            [(model,)] = con.execute(
                "select model from observations group by all order by count(distinct snapshot_date) desc, model limit 1"
            ).fetchall()
        single = f"{scratch}/single.parquet"
        write_parquet(pafs.LocalFileSystem(), single, compacted_table(con.sql("from observations").to_arrow_table()))

        # the one file is read by a plain DuckDB connection set up alike (the lake's reads only the lake's folder)
        plain = duckdb.connect()
        plain.execute("set parquet_metadata_cache = true")
        ways = {COMPACTED: (con, "observations"), SINGLE: (plain, f"read_parquet('{single}')")}
        ways[DAILY] = (daily, "observations")

        def answer(way: str) -> list[tuple]:
            connection, table = ways[way]
            return connection.execute(QUERY.format(table=table), {"model": model}).fetchall()

        answers = {way: answer(way) for way in ways}  # the warm-up; and all ways must agree
        assert answers[COMPACTED] == answers[SINGLE] == answers[DAILY], "the ways disagree"
        times: dict[str, list[float]] = {way: [] for way in ways}
        for _ in range(args.repeat):  # the two compared ways alternate: shared-machine noise hits both alike
            for way in (COMPACTED, SINGLE):
                times[way].append(seconds(lambda w=way: answer(w)))
        times[DAILY] = [seconds(lambda: answer(DAILY)) for _ in range(max(5, args.repeat // 5))]  # 10-50x slower
        connects = [seconds(lambda: connect(lake.root_uri)) for _ in range(5)]

    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    ratio = medians[COMPACTED] / medians[SINGLE]
    say(f"{rows} observations over {days} days; model {model} ({len(answers[SINGLE])} days)")
    for name, median in medians.items():
        say(f"  {name:<32} {median:8.2f} ms  (median of {len(times[name])}, warm)")
    say(f"  ratio query layer / single file  {ratio:8.2f}x")
    say(f"  connect() (plan + views)         {statistics.median(connects) * 1000:8.2f} ms  (median of 5)")
    met = medians[COMPACTED] < TARGET_MS and ratio <= TARGET_RATIO
    say(f"target (< {TARGET_MS:.0f} ms and <= {TARGET_RATIO:.0f}x single file): {'met' if met else 'MISSED'}")
    transcript.close()
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
