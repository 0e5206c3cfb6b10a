"""`benchmarks/bench_scale.py` at a tiny scale, so the 100x benchmark cannot rot: its synthetic days parse to the
rows the year is written with, and a year builds and a step runs and reports in a process of its own."""

from __future__ import annotations

import gzip
import json
from datetime import date

import pandas as pd

from benchmarks import bench_scale, synthetic
from llmprices.lake.read import read_observations
from llmprices.lake.store import Lake
from llmprices.observations.normalize import observations_table
from llmprices.observations.parse import parse_day
from llmprices.sources import SOURCES_BY_NAME
from llmprices.warehouse.history import history_intervals

COMPARED = ["provider", "provider_model_id", "variant", "input_usd_per_mtok", "output_usd_per_mtok", "is_free",
            "quantization", "context_length", "model_hint"]  # fmt: skip


def test_a_synthetic_day_at_twice_the_load_parses_to_the_rows_the_year_is_written_with(shared_data):
    newest = json.loads(gzip.decompress(synthetic.newest_capture(shared_data).read_bytes()))["data"]
    market = synthetic.market(shared_data, 2)
    assert len(market.models) == 2 * len(newest)
    assert market.models["author"].nunique() == 2 * len({record["id"].split("/")[0] for record in newest})
    assert market.endpoints["provider"].nunique() == 2 * len(synthetic.SERVING_PROVIDERS)
    day = date(2026, 1, 1)
    rows = synthetic.observations(market, day)
    variable = int((market.models["input"].isna() | market.models["output"].isna()).sum())
    assert variable > 0  # routers and "latest" aliases price `-1`, as in the real capture
    for source, payloads in synthetic.payloads(market, day).items():
        parsed, errors = parse_day(SOURCES_BY_NAME[source], payloads, day)
        table, rejected = observations_table(parsed)
        assert errors == []
        assert rejected.num_rows == (variable if source == "openrouter" else 0)
        by_parser, written = (
            t.to_pandas()[COMPARED].sort_values(COMPARED[:3], ignore_index=True) for t in (table, rows[source])
        )
        pd.testing.assert_frame_equal(by_parser, written, check_dtype=False)


def test_a_year_builds_and_a_step_reports_its_time_and_memory_from_its_own_process(shared_data, tmp_path):
    lake_dir = tmp_path / "x1" / "lake"
    meta = bench_scale.build_year(shared_data, lake_dir, scale=1, days=4, rate_days=5)
    lake = Lake(str(lake_dir))
    assert meta["last_day"] == "2025-01-04" and meta["ingest_day"] == "2025-01-05"
    assert lake.read_raw("openrouter_endpoints", date(2025, 1, 5)) is not None
    observations = read_observations(lake)
    assert len(observations) == meta["observation_rows"] > 4 * 700

    measured = bench_scale.measure("history", lake_dir)
    assert measured["detail"]["intervals"] == len(history_intervals(observations))
    assert measured["seconds"] > 0 and measured["peak_mib"] >= measured["after_imports_mib"] > 50

    lines = []
    bench_scale.table({("history", 1): [measured]}, [1], lines.append)
    assert lines[2].startswith("| history | ") and lines[2].endswith(" MiB |")
