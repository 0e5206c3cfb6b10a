"""The lake's writes under faults: concurrent writers of one raw day, a write that runs out of space, the
leftovers of killed writes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime

import pyarrow as pa

from llmprices.lake.store import LEFTOVER_GRACE, Lake
from llmprices.lake.tables import OBSERVATIONS
from llmprices.payloads import RawPayload

DAY = date(2025, 5, 1)


def payloads(writer: int, trial: int) -> list[RawPayload]:
    """Three payloads whose content says who wrote them (and differs in size, so writes interleave)."""
    names = ["models.json", "endpoints/a/b.json", "endpoints/c/d.json"]
    bodies = [f"{writer}:{trial}:{name}:".encode() * (2000 * (i + writer + 1)) for i, name in enumerate(names)]
    return [RawPayload(n, "http://127.0.0.1/x", 200, datetime.now(UTC), b) for n, b in zip(names, bodies, strict=True)]


def test_two_writers_of_one_raw_day_never_leave_a_manifest_that_disagrees_with_its_files(tmp_path):
    lake = Lake(str(tmp_path))
    mismatches = []
    for trial in range(60):
        barrier = threading.Barrier(2)

        def write(writer: int, trial=trial, barrier=barrier) -> None:
            barrier.wait()
            lake.write_raw("openrouter", DAY, payloads(writer, trial))

        threads = [threading.Thread(target=write, args=(w,)) for w in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        manifest, stored = lake.read_raw("openrouter", DAY)
        for entry, payload in zip(manifest.payloads, stored, strict=True):
            if hashlib.sha256(payload.body).hexdigest() != entry["sha256"]:
                mismatches.append((trial, entry["name"]))
        writers = {payload.body.split(b":", 1)[0] for payload in stored}
        assert len(writers) == 1, f"trial {trial}: one manifest names payloads of both writers"
    assert mismatches == []


FILL_THE_DISK = """
import os, resource, signal, sys
from datetime import UTC, date, datetime
from llmprices.lake.store import Lake
from llmprices.payloads import RawPayload
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit, write(2) fails with EFBIG, like a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
big = RawPayload("models.json", "http://127.0.0.1/models", 200, datetime.now(UTC), os.urandom(1_000_000))
try:
    Lake(sys.argv[1]).write_raw("openrouter", date(2025, 5, 1), [big])
except OSError as exc:
    print("write failed:", exc.errno)
"""


def test_a_write_that_runs_out_of_space_leaves_no_temp_file(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", FILL_THE_DISK, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "write failed: 27", done.stderr  # EFBIG
    left = [p.name for p in tmp_path.rglob("*") if p.is_file()]
    assert left == []
    assert Lake(str(tmp_path)).read_raw("openrouter", DAY) is None


def test_leftovers_of_killed_writes_are_swept_by_the_next_write_once_past_the_grace(tmp_path):
    lake = Lake(str(tmp_path))
    partition = OBSERVATIONS.partition(snapshot_date=DAY, source="openrouter")
    folder = tmp_path / "observations" / f"snapshot_date={DAY}" / "source=openrouter"
    folder.mkdir(parents=True)
    old, young = folder / ".tmp-0123abcd", folder / ".tmp-4567ef01"
    for leftover in (old, young):
        leftover.write_bytes(b"half a parquet file")
    past = time.time() - LEFTOVER_GRACE.total_seconds() - 60
    os.utime(old, (past, past))

    lake.write_partition(OBSERVATIONS, partition, pa.table({"x": [1, 2]}))
    assert sorted(p.name for p in folder.iterdir()) == [".tmp-4567ef01", "part-0.parquet"]  # a young one may be live


def test_a_quarantined_record_that_quotes_a_registered_key_is_stored_without_it(tmp_path):
    import duckdb
    import pandas as pd

    from llmprices.http import register_secret
    from llmprices.observations.write import write_days

    key = "sk-quarantine-test-0123456789"
    register_secret(key)
    day = date(2025, 6, 1)
    bad = pd.DataFrame(
        {
            "snapshot_date": [day],
            "observed_at": [datetime(2025, 6, 1, tzinfo=UTC)],
            "provider": ["acme"],
            "provider_model_id": ["m"],
            "reason": [f"price 'abc' is not a number (server said: invalid key {key})"],
            "failed_check": ["price"],
            "record": [f'{{"id": "m", "echo": "{key}"}}'],
            "raw_sha256": ["0" * 64],
        }
    )
    lake = Lake(str(tmp_path / "lake"))
    empty = pd.DataFrame(columns=[*(f.name for f in OBSERVATIONS.schema), "snapshot_date"])
    write_days(lake, "acme", [day], empty, bad)
    stored = duckdb.sql(
        f"select reason, record from read_parquet('{tmp_path}/lake/quarantine/**/*.parquet')"
    ).fetchall()
    assert stored == [
        ("price 'abc' is not a number (server said: invalid key ***)", '{"id": "m", "echo": "***"}')
    ]
