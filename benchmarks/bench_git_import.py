"""`llmprices backfill --git` against `--from-dir` on the same 428 OpenRouter days, measured in one run.

Builds, in a temp folder, a repository shaped like the public history the shared files come from
(jvrck/openrouterlist: `data/output.json` captured every 12 hours): one commit per capture with its
GIT_AUTHOR_DATE / GIT_COMMITTER_DATE, the last commit of each day holding that day's shared payload and
the earlier ones of the day a slightly different capture, ~1,100 commits in all (`--commits`). It is
written with `git fast-import` (one process), then packed as a clone would be.

Reports, as medians over --repeat runs, each into a fresh lake and Dagster home:
- the git importer alone (git log + one `git cat-file --batch` into the staging folder), in-process;
- the whole CLI backfill from git, and from the folder of the same days; the ratio (target <= 1.5x);
- per snapshot, against ~25 s for 1,100 snapshots taken by single-purpose ledger scripts here.

    python -m benchmarks.bench_git_import [--shared ../shared/data] [--repeat 3] [--commits 1100] [--save]
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.bench_backfill import (
    Transcript,
    cli_env,
    folder_of,
    llmprices,
    median,
    openrouter_captures,
    run_measured,
    shared_argument_parser,
)

FILE = "data/output.json"
LEDGER_SCRIPTS_S, LEDGER_SNAPSHOTS = 25.0, 1100


def build_history(repo: Path, files: list[Path], commits: int) -> int:
    """A repository whose history of FILE holds the shared payloads, `commits` commits in all."""
    subprocess.run(["git", "init", "-q", "--bare", str(repo)], check=True)
    per_day = [commits // len(files) + (1 if i < commits % len(files) else 0) for i in range(len(files))]
    importer = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"], cwd=repo, stdin=subprocess.PIPE, env=_quiet_env()
    )
    out, made, previous = importer.stdin, 0, None
    for path, count in zip(files, per_day, strict=True):
        day = datetime.fromisoformat(path.name[:10]).replace(tzinfo=UTC)
        body = gzip.decompress(path.read_bytes())
        for i in range(max(count, 1)):
            last = i == max(count, 1) - 1
            # the earlier captures of a day: the previous capture, re-served (a byte differs)
            content = body if last or previous is None else previous + b"\n" * (i + 1)
            at = day + timedelta(hours=23, minutes=30) if last else day + timedelta(hours=12 * i // max(count - 1, 1))
            stamp = f"{int(at.timestamp())} +0000"
            message = f"capture {at.isoformat()}\n".encode()
            out.write(f"commit refs/heads/main\nauthor bench <bench@example.org> {stamp}\n".encode())
            out.write(f"committer bench <bench@example.org> {stamp}\n".encode())
            out.write(b"data %d\n" % len(message) + message)
            out.write(f"M 100644 inline {FILE}\n".encode())
            out.write(b"data %d\n" % len(content) + content + b"\n")
            made += 1
        previous = body
    out.write(b"done\n")
    out.close()
    if importer.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "symbolic-ref", "HEAD", "refs/heads/main"], cwd=repo, check=True)
    subprocess.run(["git", "repack", "-adq", "--window=10", "--depth=50"], cwd=repo, check=True)  # as a clone is
    return made


def _quiet_env() -> dict[str, str]:
    return {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}


def stage_seconds(repo: Path, work: Path) -> tuple[float, int]:
    from llmprices.sources.importers.git_history import GitHistory

    with tempfile.TemporaryDirectory(dir=work) as staging:
        start = time.perf_counter()
        with GitHistory(repo, FILE) as history:
            report = history.stage(history.captures(), Path(staging))
        return time.perf_counter() - start, len(report.staged)


def backfill(work: Path, *source: str):
    with tempfile.TemporaryDirectory(dir=work) as run:
        run = Path(run)
        done = run_measured(llmprices(*source, "--lake", str(run / "lake")), cli_env(run / "home"), run)
        if done.returncode != 0:
            raise SystemExit(f"backfill {' '.join(source)} failed ({done.returncode}):\n{done.output[-3000:]}")
        return done


def main() -> None:
    parser = shared_argument_parser(__doc__)
    parser.add_argument("--commits", type=int, default=LEDGER_SNAPSHOTS, help="commits in the built history")
    args = parser.parse_args()
    files = openrouter_captures(args.shared)
    transcript = Transcript("bench_git_import", args.save)
    say = transcript.say

    with tempfile.TemporaryDirectory(prefix="bench-git-") as work:
        work = Path(work)
        repo = work / "openrouterlist.git"
        start = time.perf_counter()
        commits = build_history(repo, files, args.commits)
        size = sum(p.stat().st_size for p in (repo / "objects").rglob("*") if p.is_file()) / 1e6
        say(f"bench_git_import: history of {FILE} with {commits} commits over {len(files)} days "
            f"({size:.0f} MB packed), built in {time.perf_counter() - start:.1f} s; repeat {args.repeat}")  # fmt: skip
        folder = folder_of(files, work / "captures")

        stages, gits, folders = [], [], []
        for i in range(args.repeat):
            stages.append(stage_seconds(repo, work))
            gits.append(backfill(work, "--git", str(repo), "--path", FILE))
            folders.append(backfill(work, "--from-dir", str(folder)))
            say(f"  round {i + 1}: git import {stages[-1][0]:.2f} s ({stages[-1][1]} snapshots), "
                f"backfill --git {gits[-1].wall:.2f} s, --from-dir {folders[-1].wall:.2f} s")  # fmt: skip
        stage, snapshots = median(s[0] for s in stages), stages[0][1]
        git_wall, folder_wall = median(m.wall for m in gits), median(m.wall for m in folders)
        say()
        say(f"git importer alone (git log + cat-file --batch -> staging): {stage:6.2f} s for {snapshots} snapshots "
            f"of {commits} commits ({stage / snapshots * 1000:.1f} ms/snapshot)")  # fmt: skip
        git_rss, folder_rss = max(m.peak_rss_mib for m in gits), max(m.peak_rss_mib for m in folders)
        say(f"llmprices backfill --git ... (CLI wall):      {git_wall:6.2f} s, peak RSS {git_rss:.0f} MiB")
        say(f"llmprices backfill --from-dir ... (CLI wall): {folder_wall:6.2f} s, peak RSS {folder_rss:.0f} MiB")
        say(f"git / folder: {git_wall / folder_wall:.2f}x (target <= 1.5x)")
        reference = LEDGER_SCRIPTS_S / LEDGER_SNAPSHOTS * 1000
        say(f"per snapshot: whole git backfill {git_wall / snapshots * 1000:.1f} ms, per commit of the history "
            f"{git_wall / commits * 1000:.1f} ms; single-purpose ledger scripts ~{reference:.1f} ms "
            f"({LEDGER_SCRIPTS_S:.0f} s / {LEDGER_SNAPSHOTS} snapshots)")  # fmt: skip
        say(
            f"the whole {commits}-commit history: {git_wall:.1f} s here, "
            f"vs ~{LEDGER_SCRIPTS_S:.0f} s for the ledger scripts"
        )

    transcript.close()


if __name__ == "__main__":
    sys.exit(main())
