"""The 428-day OpenRouter backfill (`llmprices backfill`) on the production instance's storage
(`deploy/dagster.yaml` on a throw-away PostgreSQL on 127.0.0.1 with PostgreSQL's default durability; the run
started by the CLI itself, as no daemon runs here) against the sqlite home the CLI makes, in this one run.

Each round, interleaved: per instance a fresh lake, a fresh home (on PostgreSQL a fresh database whose
schema is created beforehand, as on a running deployment: `dagster instance migrate`, timed apart), the
same command on zero days (start-up) and on every day. Reports medians, the ratio PostgreSQL / sqlite, and
what the instance holds afterwards: materializations, partitions, and on PostgreSQL the write transactions
that stored the materializations. Both instances run with `DAGSTER_EVENT_BATCH_SIZE=200` in the environment,
as the compose file sets it: dagster-postgres then stores a step's per-day materializations in one statement.
`--unbatched` adds both with it at 0 (Dagster's default: every event stored on its own).

    python -m benchmarks.bench_backfill_postgres [--shared ../shared/data] [--repeat 3] [--unbatched] [--save]

Needs the `deploy` extra (dagster-postgres) and PostgreSQL's server binaries (apt-get install postgresql).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.bench_backfill import (
    REPO,
    Transcript,
    cli_env,
    folder_of,
    llmprices,
    median,
    openrouter_captures,
    run_measured,
    shared_argument_parser,
)

sys.path.insert(0, str(REPO / "tests"))
from servers import PgCluster, postgres_missing, starting_runs_at_once  # noqa: E402  (the tests' throw-away servers)

#: materializations, their partitions, and the write transactions that stored them (rows inserted by one
#: transaction share its `xmin`); `pg_stat_database`'s commit count would not do: dagster-postgres runs in
#: autocommit, so every read counts as a transaction there too
MATERIALIZATIONS = (
    "select count(*), count(distinct partition), count(distinct xmin::text) from event_logs "
    "where dagster_event_type = 'ASSET_MATERIALIZATION'"
)


@dataclass
class Instance:
    """One way to keep Dagster's records: a name, and how to make a fresh home of it."""

    name: str
    cluster: PgCluster | None
    batch_size: str  # DAGSTER_EVENT_BATCH_SIZE; "0" is Dagster's default, every event stored on its own

    def fresh_home(self, root: Path, tag: str) -> tuple[Path, dict[str, str], str | None]:
        home = root / f"home-{tag}"
        home.mkdir()
        env = {"DAGSTER_HOME": str(home), "DAGSTER_EVENT_BATCH_SIZE": self.batch_size}
        if self.cluster is None:
            return home, env, None
        database = self.cluster.create_database(f"bench_{tag}")
        (home / "dagster.yaml").write_text(starting_runs_at_once(REPO / "deploy" / "dagster.yaml"))
        env |= {**self.cluster.env(database), "DAGSTER_COMPUTE_LOG_DIR": str(home / "compute_logs")}
        return home, env, database


def migrate_seconds(env: dict[str, str]) -> float:
    """Create the instance's schema in an empty database (the first process to open it would)."""
    start = time.perf_counter()
    dagster = str(Path(sys.executable).parent / "dagster")
    subprocess.run([dagster, "instance", "migrate"], env={**os.environ, **env}, check=True, capture_output=True)
    return time.perf_counter() - start


def pg_counts(cluster: PgCluster, database: str) -> dict[str, int]:
    import psycopg2

    connection = psycopg2.connect(cluster.url(database))
    try:
        cursor = connection.cursor()
        cursor.execute(MATERIALIZATIONS)
        materializations, partitions, transactions = cursor.fetchone()
        return {"materializations": materializations, "partitions": partitions, "transactions": transactions}
    finally:
        connection.close()


def sqlite_counts(home: Path) -> dict[str, int]:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        [run] = instance.get_runs(limit=1)
        records = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION,
                                               limit=100_000).records  # fmt: skip
    return {"materializations": len(records), "partitions": len({r.partition_key for r in records})}


def load_average() -> str:
    return "/".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> None:
    parser = shared_argument_parser(__doc__)
    parser.add_argument("--unbatched", action="store_true", help="also both instances with DAGSTER_EVENT_BATCH_SIZE=0")
    args = parser.parse_args()
    why = postgres_missing()
    if why:
        raise SystemExit(why)
    files = openrouter_captures(args.shared)
    transcript = Transcript("bench_backfill_postgres", args.save)
    say = transcript.say
    say(f"bench_backfill_postgres: {len(files)} OpenRouter days ({files[0].name[:10]} .. {files[-1].name[:10]}), "
        f"{os.cpu_count()} cores, load average {load_average()}, repeat {args.repeat}")  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="bench-backfill-pg-") as work, PgCluster(durable=True) as cluster:
        work = Path(work)
        everything, empty = folder_of(files, work / "all"), folder_of([], work / "none")
        sizes = ["200", "0"] if args.unbatched else ["200"]
        instances = [Instance(f"{name}, batch {size}", pg, size) for size in sizes
                     for name, pg in (("sqlite home", None), ("PostgreSQL", cluster))]  # fmt: skip
        walls = {i.name: {"start-up": [], "backfill": []} for i in instances}
        migrations, counts = [], {}
        for round_ in range(args.repeat):
            for number, instance in enumerate(instances):
                for what, folder in (("start-up", empty), ("backfill", everything)):
                    tag = f"{round_}_{number}_{what[0]}"
                    home, env, database = instance.fresh_home(work, tag)
                    if database:
                        migrations.append(migrate_seconds(env))
                    command = llmprices("--from-dir", str(folder), "--lake", str(work / f"lake-{tag}"))
                    done = run_measured(command, {**cli_env(home), **env}, work)
                    if done.returncode != 0:
                        raise SystemExit(f"{instance.name} failed ({done.returncode}):\n{done.output[-3000:]}")
                    walls[instance.name][what].append(done.wall)
                    if what == "backfill" and instance.name not in counts:
                        counts[instance.name] = pg_counts(cluster, database) if database else sqlite_counts(home)
                    shutil.rmtree(work / f"lake-{tag}", ignore_errors=True)
                say(f"  round {round_ + 1} {instance.name:<26} start-up {walls[instance.name]['start-up'][-1]:6.2f} s"
                    f"  backfill {walls[instance.name]['backfill'][-1]:6.2f} s")  # fmt: skip

        say()
        say(f"medians of {args.repeat} rounds ({len(files)} days, OpenRouter, raw + observations):")
        say(f"{'instance':<28} {'start-up s':>10} {'backfill s':>10} {'beyond start-up s':>18}  recorded")
        for name, measured in walls.items():
            startup, backfill = median(measured["start-up"]), median(measured["backfill"])
            recorded = ", ".join(f"{value} {key}" for key, value in counts[name].items())
            say(f"{name:<28} {startup:>10.2f} {backfill:>10.2f} {backfill - startup:>18.2f}  {recorded}")
        sqlite, postgres = (median(walls[i.name]["backfill"]) for i in instances[:2])
        say(f"ratio PostgreSQL / sqlite home (backfill medians): {postgres / sqlite:.2f}")
        say(f"creating the schema in an empty database (`dagster instance migrate`, not in the figures above): "
            f"median {median(migrations):.2f} s")  # fmt: skip
        say(f"load average at the end: {load_average()} (the machine may be shared: compare within this run)")
    transcript.close()


if __name__ == "__main__":
    main()
