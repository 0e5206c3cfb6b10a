"""One day of `openrouter` + `genai_prices` (the largest shared payloads) from fetch to lake.

Reports, as medians over --repeat runs: the floor (gunzip + JSON parse of the same payloads, in this
process), each stage of the ingest path (fetch over HTTP on 127.0.0.1, raw archive, parse, normalize,
GX validation + quarantine, parquet writes), and a whole real Dagster run in a fresh subprocess with its
wall time and peak RSS. Ratios are against the floor measured in the same run, since these machines are
shared and noisy.

    python -m benchmarks.bench_ingest_day [--shared ../shared/data] [--repeat 5]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SOURCES = {"openrouter": "openrouter-models", "genai_prices": "genai-prices"}


def largest_payloads(shared: Path) -> dict[str, Path]:
    return {
        name: max((shared / folder).glob("*.json.gz"), key=lambda p: p.stat().st_size)
        for name, folder in SOURCES.items()
    }


def serve(bodies: dict[str, bytes]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = bodies.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class StageClock:
    """Adds the wall time of `with clock("stage"):` blocks up per stage."""

    def __init__(self):
        self.totals: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, stage: str):
        start = time.perf_counter()
        yield
        self.totals[stage] = self.totals.get(stage, 0.0) + time.perf_counter() - start


def floor_seconds(files: dict[str, Path]) -> float:
    start = time.perf_counter()
    for path in files.values():
        json.loads(gzip.decompress(path.read_bytes()))
    return time.perf_counter() - start


def stage_seconds(base_url: str, lake_root: str) -> dict[str, float]:
    """The ingest path of both sources, stage by stage, exactly as the assets run it."""
    import pandas as pd

    from expectations.quarantine import split_valid_rows
    from llmprices.http import HttpClient
    from llmprices.lake.store import Lake
    from llmprices.lake.tables import OBSERVATIONS, QUARANTINE
    from llmprices.observations.normalize import observations_frame
    from llmprices.observations.parse import parse_day
    from llmprices.observations.write import to_table
    from llmprices.sources import SOURCES_BY_NAME, genai_prices, openrouter

    fetchers = {
        "openrouter": lambda http: openrouter.fetch(http, f"{base_url}/api/v1"),
        "genai_prices": lambda http: genai_prices.fetch(http, f"{base_url}/data.json"),
    }
    lake, http, day = Lake(lake_root), HttpClient(), datetime.now(UTC).date()
    clock = StageClock()
    for name in SOURCES:
        spec = SOURCES_BY_NAME[name]
        with clock("fetch"):
            payloads = fetchers[name](http)
        with clock("raw_archive"):
            lake.write_raw(name, day, payloads)
        with clock("parse"):
            parsed, _ = parse_day(spec, payloads, day)
        with clock("normalize"):
            frame, rejected = observations_frame(parsed)
        with clock("validate"):
            valid, failed = split_valid_rows(frame)
        with clock("write"):
            partition = OBSERVATIONS.partition(snapshot_date=day, source=name)
            quarantined = pd.concat([rejected, failed[rejected.columns]], ignore_index=True)
            lake.write_partition(OBSERVATIONS, partition, to_table(valid, OBSERVATIONS.schema))
            lake.write_partition(QUARANTINE, partition, to_table(quarantined, QUARANTINE.schema))
    return clock.totals


def dagster_run_in_subprocess(base_url: str, lake_root: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one real Dagster run of both sources, in a fresh process."""
    config = {
        "openrouter_source": {"api_base": f"{base_url}/api/v1"},
        "genai_prices_source": {"url": f"{base_url}/data.json"},
    }
    code = (
        "import sys, dagster as dg; from datetime import UTC, datetime;"
        "from pipeline.runner import InProcessRuns, IngestRequest, run_ingest;"
        "day = datetime.now(UTC).date();"
        f"request = IngestRequest({list(SOURCES)!r}, day, day, lake_uri={lake_root!r}, resource_config={config!r});"
        "sys.exit(0 if run_ingest(request, InProcessRuns(dg.DagsterInstance.ephemeral())).success else 1)"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("LLMPRICES_SHARED_DATA", "../shared/data")))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    files = largest_payloads(args.shared)
    bodies = {
        "/api/v1/models": gzip.decompress(files["openrouter"].read_bytes()),
        "/data.json": gzip.decompress(files["genai_prices"].read_bytes()),
    }
    server, base_url = serve(bodies)
    print(
        "payloads: "
        + ", ".join(
            f"{n} {p.name} ({len(b) / 1e6:.2f} MB)" for (n, p), b in zip(files.items(), bodies.values(), strict=True)
        )
    )

    floors, stages, runs = [], [], []
    stage_seconds(base_url, tempfile.mkdtemp())  # warm-up: imports, GX context
    for _ in range(args.repeat):
        floors.append(floor_seconds(files))
        with tempfile.TemporaryDirectory() as lake_root:
            stages.append(stage_seconds(base_url, lake_root))
    for _ in range(max(1, args.repeat // 2)):
        with tempfile.TemporaryDirectory() as lake_root:
            runs.append(dagster_run_in_subprocess(base_url, lake_root))
    server.shutdown()

    floor = statistics.median(floors)
    print(f"\nfloor (gunzip + json.loads, both payloads): {floor * 1000:8.1f} ms")
    per_stage = {k: statistics.median(s[k] for s in stages) for k in stages[0]}
    for name, seconds in per_stage.items():
        print(f"  {name:<12} {seconds * 1000:8.1f} ms")
    total = sum(per_stage.values())
    print(f"ingest path, warm (sum of stage medians): {total * 1000:8.1f} ms = {total / floor:.1f}x floor")
    wall = statistics.median(r[0] for r in runs)
    print(
        f"whole Dagster run in a fresh process (imports, GX context, run): {wall:.2f} s, "
        f"peak RSS {max(r[1] for r in runs):.0f} MiB   [median of {len(runs)}]"
    )


if __name__ == "__main__":
    main()
