"""`llmprices backfill` of the shared OpenRouter history (428 days) into an empty lake, as a user runs it.

Reports, as medians over --repeat runs measured in this one process (the machines are shared and noisy,
so every figure is set against a floor measured alongside it):

- floor: gunzip + `json.loads` of the same files in this process;
- start-up: the same command on zero days (a folder without captures: imports, argument parsing, the
  plan; the fixed cost every invocation pays);
- the backfill: wall time, wall time beyond start-up as a multiple of the floor (target: at most 3x),
  peak RSS of the whole process tree (the CLI and its parser processes, summed, sampled from /proc);
- where the run's time went, from its own Dagster event log: set-up, and per step its compute and the
  storing of its per-day materializations; and what importing Great Expectations costs a fresh process;
- the naive way for contrast: one `llmprices backfill --start D --end D` (one Dagster run) per day, for
  a sample of consecutive days from the middle of the history, extrapolated to every day (labeled so);
- scaling: the first 50, 100, 200 and all days: time, peak memory and the cost per day beyond start-up.

    python -m benchmarks.bench_backfill [--shared ../shared/data] [--repeat 3] [--naive-days 10] [--save]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

REPO = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Measured:
    wall: float
    peak_rss_mib: float
    returncode: int
    output: str
    #: where the run's time went, from its Dagster event log (backfills only)
    stages: dict[str, float] = field(default_factory=dict)


def _children_by_parent() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def tree_rss_bytes(root: int) -> int:
    """Resident memory of `root` and all its descendants, summed (from /proc; no psutil needed)."""
    tree, total, todo = _children_by_parent(), 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm", "rb") as statm:
                total += int(statm.read().split()[1]) * PAGE
        except OSError:
            continue
    return total


def run_measured(command: list[str], env: dict[str, str], cwd: Path, interval: float = 0.05) -> Measured:
    """Run a command; wall time and the peak of its process tree's summed RSS, sampled every `interval`."""
    peak = 0
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()), daemon=True)
    reader.start()
    while proc.poll() is None:
        peak = max(peak, tree_rss_bytes(proc.pid))
        time.sleep(interval)
    wall = time.perf_counter() - start
    reader.join()
    return Measured(wall, peak / 2**20, proc.returncode, b"".join(chunks).decode(errors="replace"))


def cli_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PRICE_LAKE_URI",)}
    env.update({"DAGSTER_HOME": str(home), "TQDM_DISABLE": "1", "PYTHONPATH": str(REPO)})
    return env


def llmprices(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", "backfill", "--source", "openrouter", *args]


def floor_seconds(files: list[Path]) -> float:
    start = time.perf_counter()
    for path in files:
        json.loads(gzip.decompress(path.read_bytes()))
    return time.perf_counter() - start


GX_IMPORT = (
    "import time, pipeline.definitions\n"
    "start = time.perf_counter()\n"
    "import great_expectations\n"
    "print(time.perf_counter() - start)\n"
)


def gx_import_seconds() -> float:
    """Importing Great Expectations in a fresh process that already has Dagster and the definitions: a cost
    every run that validates pays once, whatever its number of days."""
    done = subprocess.run([sys.executable, "-c", GX_IMPORT], cwd=REPO, capture_output=True, text=True, check=True)
    return float(done.stdout.split()[-1])


def model_rows(files: list[Path]) -> list[int]:
    """Models listed in each capture (from 175 a day in 2024-09 to over 400): the work grows per row."""
    return [len(json.loads(gzip.decompress(path.read_bytes()))["data"]) for path in files]


def folder_of(files: list[Path], root: Path) -> Path:
    """A folder of symlinks to `files` (so a backfill of the first N days reads the same bytes)."""
    root.mkdir(parents=True, exist_ok=True)
    for path in files:
        (root / path.name).symlink_to(path.resolve())
    return root


def backfill_once(work: Path, folder: Path, *extra: str, env: dict[str, str] | None = None) -> Measured:
    """One CLI backfill of `folder` into a fresh lake and a fresh Dagster home."""
    with tempfile.TemporaryDirectory(dir=work) as run:
        run = Path(run)
        done = run_measured(
            llmprices("--from-dir", str(folder), "--lake", str(run / "lake"), *extra),
            {**cli_env(run / "home"), **(env or {})},
            run,
        )
        if done.returncode != 0:
            raise SystemExit(f"backfill failed ({done.returncode}):\n{done.output[-3000:]}")
        done.stages = run_stages(run / "home")
        return done


def run_stages(home: Path) -> dict[str, float]:
    """Where the home's one run spent its time, read from its event log: the set-up before the first step and,
    per step, its compute (start to output) and its bookkeeping (output to success: storing the per-day
    materializations). Empty if the home has no run (zero days)."""
    if not (home / "dagster.yaml").exists():
        return {}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            return {}
        events = [e for e in instance.all_logs(runs[0].run_id) if e.dagster_event]
    first = {}
    for event in events:
        first.setdefault((event.step_key, event.dagster_event.event_type_value), event.timestamp)
    stages = {"run set-up": min(t for (step, kind), t in first.items() if kind == "STEP_START") - events[0].timestamp}
    for step in sorted({step for step, kind in first if kind == "STEP_START"}, key=lambda s: first[(s, "STEP_START")]):
        started, output = first[(step, "STEP_START")], first[(step, "STEP_OUTPUT")]
        stages[f"{step}: compute"] = output - started
        stages[f"{step}: events"] = first[(step, "STEP_SUCCESS")] - output
    stages["whole run"] = events[-1].timestamp - events[0].timestamp
    return stages


class Transcript:
    """Prints the benchmark's lines as they come and, with --save, keeps them in benchmarks/results/."""

    def __init__(self, name: str, save: bool):
        self.name, self.save, self.lines = name, save, []

    def say(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)

    def close(self) -> None:
        if self.save:
            out = REPO / "benchmarks" / "results"
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{self.name}.txt").write_text("\n".join(self.lines) + "\n")


def shared_argument_parser(doc: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument(
        "--shared", type=Path, default=Path(os.environ.get("LLMPRICES_SHARED_DATA", REPO.parent / "shared" / "data"))
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--save", action="store_true", help="also write the lines to benchmarks/results/")
    return parser


def openrouter_captures(shared: Path) -> list[Path]:
    files = sorted((shared / "openrouter-models").glob("*.json.gz"))
    if not files:
        raise SystemExit(f"no OpenRouter captures under {shared}")
    return files


def median(values) -> float:
    return statistics.median(values)


def main() -> None:
    parser = shared_argument_parser(__doc__)
    parser.add_argument("--naive-days", type=int, default=10, help="days of the naive one-run-per-day sample (0: skip)")
    parser.add_argument("--scaling", default="50,100,200", help="day counts besides all of them (empty: skip)")
    args = parser.parse_args()
    files = openrouter_captures(args.shared)
    transcript = Transcript("bench_backfill", args.save)
    say = transcript.say

    size = sum(p.stat().st_size for p in files) / 1e6
    say(f"bench_backfill: {len(files)} OpenRouter days ({files[0].name[:10]} .. {files[-1].name[:10]}), "
        f"{size:.1f} MB gzip, {os.cpu_count()} cores, repeat {args.repeat}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-backfill-") as work:
        work = Path(work)
        everything = folder_of(files, work / "all")
        empty = folder_of([], work / "none")
        floors, startups, fulls = [], [], []
        for i in range(args.repeat):
            floors.append(floor_seconds(files))
            startups.append(backfill_once(work, empty))
            fulls.append(backfill_once(work, everything))
            say(f"  round {i + 1}: floor {floors[-1]:.2f} s, start-up {startups[-1].wall:.2f} s, "
                f"backfill {fulls[-1].wall:.2f} s, peak RSS {fulls[-1].peak_rss_mib:.0f} MiB")  # fmt: skip
        floor, startup = median(floors), median(m.wall for m in startups)
        wall, peak = median(m.wall for m in fulls), max(m.peak_rss_mib for m in fulls)
        beyond = wall - startup
        say()
        say(f"floor (gunzip + json.loads of {len(files)} files, one process): {floor:6.2f} s")
        say(f"start-up (the same command on zero days):                {startup:6.2f} s")
        say(f"backfill of {len(files)} days into an empty lake (CLI wall):      {wall:6.2f} s")
        say(f"  beyond start-up: {beyond:.2f} s = {beyond / floor:.1f}x floor (target <= 3x)")
        say(f"  peak RSS, process tree summed: {peak:.0f} MiB (target < 1536 MiB)")
        say("  where the run's time went (its event log; median s):")
        for stage in fulls[0].stages:
            say(f"    {stage:<45} {median(m.stages[stage] for m in fulls):6.2f}")
        gx_import = median(gx_import_seconds() for _ in range(args.repeat))
        label = "of the observations' compute: importing GX"
        say(f"    {label:<45} {gx_import:6.2f} (in a fresh process)")

        if args.naive_days:
            # consecutive days from the middle, in order, as a day-by-day backfill would land them (spread-out
            # days would trip the row-count check against a partition months older)
            middle = len(files) // 2
            sample = files[middle : middle + args.naive_days]
            per_day = []
            with tempfile.TemporaryDirectory(dir=work) as run:
                run = Path(run)
                for path in sample:
                    day = path.name[:10]
                    command = llmprices(
                        "--from-dir", str(everything), "--lake", str(run / "lake"), "--start", day, "--end", day
                    )
                    done = run_measured(command, cli_env(run / "home"), run)
                    if done.returncode != 0:
                        raise SystemExit(f"naive run of {day} failed:\n{done.output[-3000:]}")
                    per_day.append(done.wall)
            each = median(per_day)
            say(f"naive (one `llmprices backfill --start D --end D` per day), {len(sample)} sampled days: "
                f"median {each:.2f} s/day -> EXTRAPOLATED to {len(files)} days: {each * len(files):.0f} s "
                f"({each * len(files) / wall:.0f}x the single-run backfill)")  # fmt: skip

        counts = [int(n) for n in args.scaling.split(",") if n.strip() and int(n) < len(files)]
        if counts:
            say()
            rows_per_day = model_rows(files)
            say(f"scaling (first N days; median of {args.repeat}; days later in the history list more models):")
            say(
                f"{'days':>6} {'model rows':>11} {'wall s':>8} {'beyond start-up s':>18} {'ms/day':>8} "
                f"{'us/row':>7} {'peak RSS MiB':>13}"
            )
            rows = []
            for n in counts:
                subset = folder_of(files[:n], work / f"first-{n}")
                runs = [backfill_once(work, subset) for _ in range(args.repeat)]
                rows.append((n, median(m.wall for m in runs), max(m.peak_rss_mib for m in runs)))
            rows.append((len(files), wall, peak))
            for n, seconds, rss in rows:
                beyond, models = seconds - startup, sum(rows_per_day[:n])
                say(
                    f"{n:>6} {models:>11} {seconds:>8.2f} {beyond:>18.2f} {beyond / n * 1000:>8.1f} "
                    f"{beyond / models * 1e6:>7.1f} {rss:>13.0f}"
                )
            (n0, w0, _), (n1, w1, _) = rows[0], rows[-1]
            slope = (w1 - w0) / (n1 - n0)
            row_slope = (w1 - w0) / (sum(rows_per_day[:n1]) - sum(rows_per_day[:n0]))
            say(f"marginal cost per model row {n0}->{n1} days: {row_slope * 1e6:.1f} us")
            say(f"marginal cost {rows[0][0]}->{rows[-1][0]} days: {slope * 1000:.1f} ms/day; "
                f"fixed cost of a run (intercept): {w0 - slope * n0:.2f} s")  # fmt: skip

    transcript.close()


if __name__ == "__main__":
    main()
