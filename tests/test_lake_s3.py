"""The lake on an S3-compatible server on 127.0.0.1 (moto), told where it is and who we are by the AWS_*
variables alone: what users query with DuckDB, what the query layer reads, what never lands in it (the
credentials), and what readers see while a partition is replaced. (`tests/test_lake.py` runs the lake's own
tests on it too.)"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime

import duckdb
import pyarrow as pa
import pytest

from llmprices.lake.compaction import compact_months
from llmprices.lake.query import connect
from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS
from llmprices.payloads import RawPayload


@pytest.fixture
def lake(s3_env) -> Lake:
    return Lake(f"s3://{s3_env.bucket}/lake-{uuid.uuid4().hex[:8]}")


def observations(prices: list[float], model: str = "meta-llama/llama-3.1-70b-instruct") -> pa.Table:
    """Rows of the `observations` file schema, one per price, each a provider of its own."""
    n = len(prices)
    columns = {
        "observed_at": [datetime(2025, 1, 1, 6, tzinfo=UTC)] * n,
        "provider": [f"provider-{i}" for i in range(n)],
        "provider_model_id": [model] * n,
        "variant": [""] * n,
        "model": [model] * n,
        "model_variant": [None] * n,
        "model_matched": [True] * n,
        "input_usd_per_mtok": prices,
        "output_usd_per_mtok": prices,
        "blended_usd_per_mtok": prices,
        "context_length": [131072] * n,
        "quantization": [None] * n,
        "is_free": [False] * n,
        "price_is_tiered": [False] * n,
        "cache_read_usd_per_mtok": [None] * n,
        "latency_ms": [None] * n,
        "throughput_tps": [None] * n,
        "uptime_pct": [None] * n,
        "raw_sha256": ["0" * 64] * n,
    }
    # columns added to the schema since (e.g. `model_hint`) are null here, as in partitions written before them
    columns |= {name: [None] * n for name in OBSERVATIONS.schema.names if name not in columns}
    return pa.table(columns, schema=OBSERVATIONS.schema)


def land(lake: Lake, day: date, prices: list[float], source: str = "openrouter") -> None:
    lake.write_partition(OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=day, source=source), observations(prices))


def test_the_lake_is_found_from_its_uri_and_the_environment_alone(s3_env, lake):
    land(lake, date(2025, 1, 1), [0.5, 0.7])
    again = Lake(lake.root_uri)  # a reader in another process would see the same
    assert again.days_with_partition(OBSERVATIONS, "openrouter") == {date(2025, 1, 1)}
    assert again.root.startswith(f"{s3_env.bucket}/lake-")
    assert s3_env.endpoint not in lake.root_uri and s3_env.secret_key not in lake.root_uri
    assert lake.uri(OBSERVATIONS) == f"{lake.root_uri}/observations/**/*.parquet"


def test_the_query_layer_reads_daily_and_compacted_observations_from_s3(lake):
    """DuckDB without its httpfs extension (the query layer loads none): it registers fsspec's s3fs."""
    land(lake, date(2025, 1, 30), [1.0, 3.0])
    land(lake, date(2025, 1, 31), [0.8, 2.0])
    land(lake, date(2025, 2, 1), [0.6])
    [january] = compact_months(lake, ["2025-01"])
    assert january.rows == 4 and january.path.startswith(lake.root)

    con = connect(lake.root_uri)
    rows = con.execute(
        "select snapshot_date, min(blended_usd_per_mtok), count(*) from observations group by 1 order by 1"
    ).fetchall()
    assert rows == [(date(2025, 1, 30), 1.0, 2), (date(2025, 1, 31), 0.8, 2), (date(2025, 2, 1), 0.6, 1)]


def test_duckdb_reads_the_lake_glob_users_are_given_through_a_registered_s3fs(lake):
    """The README's recipe for DuckDB: s3fs reads the same AWS_* variables."""
    import s3fs

    land(lake, date(2025, 3, 1), [2.0, 4.0], source="litellm")
    land(lake, date(2025, 3, 2), [1.0], source="litellm")
    con = duckdb.connect()
    con.register_filesystem(s3fs.S3FileSystem())
    rows = con.execute(
        f"select snapshot_date, source, sum(input_usd_per_mtok) from read_parquet('{lake.uri(OBSERVATIONS)}', "
        "hive_partitioning = true) group by all order by 1"
    ).fetchall()
    assert rows == [(date(2025, 3, 1), "litellm", 6.0), (date(2025, 3, 2), "litellm", 1.0)]


def test_no_credential_is_written_into_the_lake(s3_env, lake):
    land(lake, date(2025, 1, 3), [3.0])
    url = f"{s3_env.endpoint}/api/v1/models"
    lake.write_raw("openrouter", date(2025, 1, 3), [RawPayload("models.json", url, 200, datetime.now(UTC), b"{}")])
    prefix = lake.root.split("/", 1)[1]
    objects = s3_env.client.list_objects_v2(Bucket=s3_env.bucket, Prefix=prefix)["Contents"]
    assert len(objects) == 3  # the partition, the payload and its manifest: no folder markers
    for listed in objects:
        body = s3_env.client.get_object(Bucket=s3_env.bucket, Key=listed["Key"])["Body"].read()
        assert s3_env.secret_key.encode() not in body and s3_env.access_key.encode() not in body


def test_readers_see_the_old_partition_or_the_new_one_while_it_is_replaced(lake):
    """A writer replaces one partition 30 times, alternating 1,000 rows of version k and 3,000 of k+1, while
    two readers read it: each read is one GET, so every read returns one version whole."""
    day = date(2025, 1, 4)
    partition = OBSERVATIONS.partition(snapshot_date=day, source="openrouter")

    def version(k: int) -> pa.Table:
        return observations([float(k)] * (1000 if k % 2 == 0 else 3000))

    lake.write_partition(OBSERVATIONS, partition, version(0))
    stop, sizes, mixed, failures = threading.Event(), set(), [], []

    def read() -> None:
        reader = Lake(lake.root_uri)
        while not stop.is_set():
            try:
                table = reader.read_partition(OBSERVATIONS, partition)
            except Exception as exc:  # noqa: BLE001 (every failure is reported by the assertion below)
                failures.append(repr(exc))
                continue
            versions = set(table.column("input_usd_per_mtok").to_pylist())
            if len(versions) != 1 or table.num_rows != version(int(versions.pop())).num_rows:
                mixed.append(table.num_rows)
            sizes.add(table.num_rows)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in readers:
        thread.start()
    for k in range(1, 31):
        lake.write_partition(OBSERVATIONS, partition, version(k))
    stop.set()
    for thread in readers:
        thread.join()
    assert sizes == {1000, 3000}  # the readers did see the partition replaced
    assert mixed == [] and failures == []
