"""Column contracts of the lake tables users query: change them only with the README."""

import pyarrow as pa

#: Columns that identify one listing on one day; unique per (snapshot_date, source).
LISTING_KEY = ["provider", "provider_model_id", "variant"]

#: Price observations, one row per listing. `snapshot_date` and `source` live in the hive path
#: (observations/snapshot_date=D/source=S/), not in the files, as hive readers expect.
OBSERVATION_SCHEMA = pa.schema(
    [
        pa.field("observed_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("provider", pa.string(), nullable=False),
        pa.field("provider_model_id", pa.string(), nullable=False),
        pa.field("variant", pa.string(), nullable=False),
        pa.field("model", pa.string(), nullable=False),
        pa.field("model_variant", pa.string()),
        pa.field("model_matched", pa.bool_(), nullable=False),
        pa.field("input_usd_per_mtok", pa.float64(), nullable=False),
        pa.field("output_usd_per_mtok", pa.float64(), nullable=False),
        pa.field("blended_usd_per_mtok", pa.float64(), nullable=False),
        pa.field("context_length", pa.int64()),
        pa.field("quantization", pa.string()),
        pa.field("is_free", pa.bool_(), nullable=False),
        pa.field("price_is_tiered", pa.bool_(), nullable=False),
        pa.field("cache_read_usd_per_mtok", pa.float64()),
        pa.field("latency_ms", pa.float64()),
        pa.field("throughput_tps", pa.float64()),
        pa.field("uptime_pct", pa.float64()),
        pa.field("raw_sha256", pa.string(), nullable=False),
    ]
)

#: Rows that did not make it into observations, with the original record and why.
QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("observed_at", pa.timestamp("us", tz="UTC")),
        pa.field("provider", pa.string()),
        pa.field("provider_model_id", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("failed_check", pa.string(), nullable=False),
        pa.field("record", pa.string(), nullable=False),
        pa.field("raw_sha256", pa.string()),
    ]
)

OBSERVATION_COLUMNS = OBSERVATION_SCHEMA.names
QUARANTINE_COLUMNS = QUARANTINE_SCHEMA.names

#: USD per million tokens above which a price is treated as an error, not a listing.
MAX_PLAUSIBLE_USD_PER_MTOK = 1000.0


def blended_usd_per_mtok(input_price: float, output_price: float) -> float:
    """The seed's 3:1 input:output blend per million tokens."""
    return (3 * input_price + output_price) / 4
