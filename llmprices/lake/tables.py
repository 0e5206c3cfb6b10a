"""Every table of the lake in one registry: its folder, its hive partitioning and the columns of its files.

These are the contracts users query: change one only with the README. Hive columns (`snapshot_date`,
`source`, `month`, ...) live in the path (`observations/snapshot_date=D/source=S/part-0.parquet`), not in
the files, as hive readers expect; `Table.full_schema` is what a reader sees with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

#: A partition as the lake's paths spell it: ((key, value), ...) in the table's key order.
Partition = tuple[tuple[str, str], ...]

#: The hive keys tables use, with the types readers give them.
HIVE_TYPES: dict[str, pa.DataType] = {
    "snapshot_date": pa.date32(),
    "source": pa.string(),
    "month": pa.string(),
    "year": pa.string(),
}


@dataclass(frozen=True)
class Table:
    """A lake table: where it lives under the root, how it is partitioned, what its files hold."""

    name: str
    partition_by: tuple[str, ...]
    #: columns inside the files; None for `raw/`, which keeps payloads as received
    schema: pa.Schema | None
    description: str
    #: the SQL view over it (`llmprices.lake.query`); default: the name, `/` as `_`
    view: str = ""

    def partition(self, **values: date | str) -> Partition:
        """The partition of these key values, in the table's key order (`date`s as YYYY-MM-DD)."""
        if set(values) != set(self.partition_by):
            raise ValueError(f"{self.name} is partitioned by {self.partition_by}, not {tuple(values)}")
        return tuple((key, _text(values[key])) for key in self.partition_by)

    @property
    def hive_schema(self) -> pa.Schema:
        return pa.schema([(key, HIVE_TYPES[key]) for key in self.partition_by])

    @property
    def full_schema(self) -> pa.Schema:
        """The file columns, then the hive ones: what a reader of the whole table gets."""
        return pa.schema([*self.schema, *self.hive_schema])

    @property
    def hive_partitioning(self) -> ds.Partitioning:
        return ds.partitioning(self.hive_schema, flavor="hive")

    def from_frame(self, frame: pd.DataFrame) -> pa.Table:
        """`frame`'s columns of the file schema, typed by it (date columns from any date-like values), so every
        partition of a table has the same schema, an empty one included; hive columns stay in the path."""
        frame = frame[self.schema.names].copy()
        for field in self.schema:
            if field.type == pa.date32():
                frame[field.name] = pd.to_datetime(frame[field.name]).dt.date
        return pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)

    @property
    def view_name(self) -> str:
        """The table's SQL view: `trends/model_prices` -> `trends_model_prices`."""
        return self.view or self.name.replace("/", "_")


def _text(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _prices(*names: str) -> list[pa.Field]:
    return [pa.field(name, pa.float64()) for name in names]


#: Columns that identify one listing on one day; unique per (snapshot_date, source).
LISTING_KEY = ["provider", "provider_model_id", "variant"]
#: USD per million tokens above which a price is treated as an error, not a listing.
MAX_PLAUSIBLE_USD_PER_MTOK = 1000.0

# -- ingest ------------------------------------------------------------------------------------------
RAW = Table(
    "raw",
    ("source", "snapshot_date"),
    None,
    "payloads exactly as received (any format) and a manifest.json with each one's url, status, sha256",
)

OBSERVATIONS = Table(
    "observations",
    ("snapshot_date", "source"),
    pa.schema(
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
            # -- the model's identity as the source states it (issue 12) --
            #: the Hugging Face repo the source names for the listing (OpenRouter `hugging_face_id`, the HF
            #: router's repo id); null when it names none, and in partitions written before the column existed
            pa.field("model_hint", pa.string()),
        ]
    ),
    "one row per listing (source, provider, provider_model_id, variant) and day, validated",
)

QUARANTINE = Table(
    "quarantine",
    ("snapshot_date", "source"),
    pa.schema(
        [
            pa.field("observed_at", pa.timestamp("us", tz="UTC")),
            pa.field("provider", pa.string()),
            pa.field("provider_model_id", pa.string()),
            pa.field("reason", pa.string(), nullable=False),
            pa.field("failed_check", pa.string(), nullable=False),
            pa.field("record", pa.string(), nullable=False),
            pa.field("raw_sha256", pa.string()),
        ]
    ),
    "records kept out of observations, with the reason, the check that failed and the original record",
)

#: A day of observations that failed a blocking check: kept whole, apart from `observations`, which readers never
#: see it in, until a person accepts it (`llmprices accept SOURCE DAY`) or the next good run of the day replaces it.
HELD_OBSERVATIONS = Table(
    "held/observations",
    ("snapshot_date", "source"),
    pa.schema(
        [
            *OBSERVATIONS.schema,
            pa.field("held_check", pa.string(), nullable=False),
            pa.field("held_reason", pa.string(), nullable=False),
        ]
    ),
    "days of observations held back by a failed blocking check (`held_check`, `held_reason`), not published",
    view="held_observations",
)

# -- catalog -----------------------------------------------------------------------------------------
#: A model's sizes in billions of parameters, as the Hub's answers and new models carry them.
SIZE_COLUMNS = ("params_total_b", "params_active_b", "params_vision_b", "params_effective_b")

CATALOG = Table(
    "catalog",
    (),
    pa.schema(
        [
            ("model", pa.large_string()),
            ("family", pa.large_string()),
            ("creator", pa.large_string()),
            ("params_total_b", pa.float64()),
            ("params_active_b", pa.float64()),
            ("is_moe", pa.bool_()),
            ("open_weights", pa.bool_()),
            ("license", pa.large_string()),
            ("release_date", pa.timestamp("us")),
            ("hf_repo", pa.large_string()),
            ("params_source", pa.large_string()),
            ("source_url", pa.large_string()),
            #: vision/audio towers inside params_total_b (0: text-only); never part of params_active_b
            ("params_vision_b", pa.float64()),
            #: Gemma 3n's "effective" size (`e4b`): the blocks without per-layer embeddings
            ("params_effective_b", pa.float64()),
            #: what the name says about size (`35b-a3b`, `8x7b`), kept whoever sized the model
            ("name_token", pa.large_string()),
            ("curated", pa.bool_()),
            #: first and last day any source listed the model; null for curated models never observed
            ("first_seen", pa.date32()),
            ("last_seen", pa.date32()),
            ("sources", pa.large_string()),
        ]
    ),
    "one row per model curated or observed: creator, parameter counts (total, active), MoE, openness, license",
)

#: The Hub's answers, kept so that offline runs reuse them and a refresh asks only for repos it has none for.
HUB_PARAMS = Table(
    "hub_params",
    (),
    pa.schema(
        [
            pa.field("repo", pa.string(), nullable=False),
            pa.field("asked_at", pa.timestamp("us", tz="UTC"), nullable=False),
            *[pa.field(name, pa.float64()) for name in SIZE_COLUMNS],
            ("is_moe", pa.bool_()),
            ("params_source", pa.string()),
            ("architecture", pa.string()),
            ("license", pa.string()),
            ("created", pa.string()),
            ("gated", pa.bool_()),
            #: what went wrong or was adjusted (a 404, a refused summary, MTP heads left out), one per line
            ("notes", pa.string()),
        ]
    ),
    "one row per Hugging Face repo asked: its sizes as the Hub gave them, and when it was asked",
)

NEW_MODELS = Table(
    "new_models",
    ("snapshot_date",),
    pa.schema(
        [
            ("model", pa.string()),
            ("hf_repo", pa.string()),
            ("open_weights", pa.bool_()),
            *[pa.field(name, pa.float64()) for name in SIZE_COLUMNS],
            ("is_moe", pa.bool_()),
            ("params_source", pa.string()),
            ("name_token", pa.string()),
            ("curated", pa.bool_()),
            #: whether the Hub had been asked for `hf_repo` when the row was written
            ("hub_asked", pa.bool_()),
            ("sources", pa.string()),
            ("providers", pa.string()),
            #: the day's first listing of the model (source order, then id) and its price
            ("source", pa.string()),
            ("provider", pa.string()),
            ("provider_model_id", pa.string()),
            *_prices("input_usd_per_mtok", "output_usd_per_mtok", "blended_usd_per_mtok"),
        ]
    ),
    "the models any source listed for the first time that day, with how they were sized",
)

UNMATCHED_MODELS = Table(
    "unmatched_models",
    (),
    pa.schema(
        [
            ("provider_model_id", pa.large_string()),
            ("normalized_model", pa.large_string()),
            ("sources", pa.large_string()),
            ("providers", pa.large_string()),
            ("rows", pa.int64()),
            ("first_seen", pa.date32()),
            ("last_seen", pa.date32()),
        ]
    ),
    "every provider_model_id without a canonical model, newest first",
)

# -- warehouse ---------------------------------------------------------------------------------------
HISTORY_PRICES = ["input_usd_per_mtok", "output_usd_per_mtok", "blended_usd_per_mtok"]

HISTORY = Table(
    "history",
    ("source",),
    pa.schema(
        [
            pa.field("provider", pa.string(), nullable=False),
            pa.field("provider_model_id", pa.string(), nullable=False),
            pa.field("variant", pa.string(), nullable=False),
            pa.field("model", pa.string(), nullable=False),
            *[pa.field(price, pa.float64(), nullable=False) for price in HISTORY_PRICES],
            pa.field("valid_from", pa.date32(), nullable=False),
            pa.field("valid_to", pa.date32()),
        ]
    ),
    "one row per listing and stretch of days at one price (SCD type 2); valid_to null while current",
    view="price_history",
)

CHANGES = Table(
    "changes",
    ("snapshot_date", "source"),
    pa.schema(
        [
            pa.field("previous_date", pa.date32(), nullable=False),
            pa.field("kind", pa.string(), nullable=False),
            pa.field("model", pa.string(), nullable=False),
            pa.field("provider", pa.string(), nullable=False),
            pa.field("provider_model_id", pa.string(), nullable=False),
            pa.field("variant", pa.string(), nullable=False),
            pa.field("previous_provider", pa.string()),
            *_prices(
                "old_input_usd_per_mtok",
                "new_input_usd_per_mtok",
                "old_output_usd_per_mtok",
                "new_output_usd_per_mtok",
                "old_blended_usd_per_mtok",
                "new_blended_usd_per_mtok",
            ),
            #: (new - old) / old of the blended price; +inf when a free listing gets a price; null if (de)listed
            pa.field("relative_change", pa.float64()),
            pa.field("change_id", pa.string(), nullable=False),
        ]
    ),
    "one row per change of a source against the previous day with its data",
)

#: Observations compacted a year per folder: `year=YYYY/<version>.parquet` and the `manifest.json` naming one.
COMPACTED_OBSERVATIONS = Table(
    "compacted/observations",
    ("year",),
    pa.schema([*OBSERVATIONS.schema, *OBSERVATIONS.hive_schema]),
    "observations, a file per year beside the daily files; read only through the query layer",
)

# -- analytics ---------------------------------------------------------------------------------------
PROVIDER_PRICES = Table(
    "provider_prices",
    ("snapshot_date",),
    pa.schema(
        [
            ("model", pa.string()),
            ("provider", pa.string()),
            ("source", pa.string()),
            *_prices("input", "output", "blended"),
            ("is_quantized", pa.bool_()),
            ("is_free", pa.bool_()),
        ]
    ),
    "one price per provider and canonical model a day, the source that speaks for it",
)

SPREADS = Table(
    "spreads",
    ("snapshot_date",),
    pa.schema(
        [
            ("model", pa.string()),
            ("n_providers", pa.int64()),
            *_prices("min", "p25", "median", "p75", "max", "max_over_min"),
            ("cheapest_provider", pa.string()),
            ("priciest_provider", pa.string()),
            *_prices(*[f"{side}_{stat}" for side in ("input", "output") for stat in ("min", "median", "max")]),
            ("providers", pa.string()),
        ]
    ),
    "per canonical model and day: how far providers' prices spread",
)

#: The columns of a fitted size -> price line (`TrendFit.as_row()`), in its order.
FIT_FIELDS = [
    ("n_models", pa.int64()),
    ("models", pa.string()),
    ("sufficient", pa.bool_()),
    *_prices("intercept", "slope", "r2", "quad_r2", "theil_slope", "theil_intercept"),
    *_prices("slope_ci_low", "slope_ci_high", "mean_providers"),
    ("reason", pa.string()),
    *_prices("quad_c0", "quad_c1", "quad_c2", "variable_cost_per_10b", "price_10t"),
]
_MODEL_MONTH_PRICE = [("model", pa.string()), ("price", pa.float64()), ("n_providers", pa.float64()),
                      ("n_days", pa.int64())]  # fmt: skip


def _trend(name: str, fields: list, description: str) -> Table:
    return Table(f"trends/{name}", ("month",), pa.schema(fields), description)


TREND_TABLES: dict[str, Table] = {
    table.name.removeprefix("trends/"): table
    for table in (
        _trend("model_prices", _MODEL_MONTH_PRICE, "a model's price in the month: median of its daily minimum"),
        _trend(
            "min_price_fit",
            [("min_providers", pa.int64()), *FIT_FIELDS],
            "the month's minimum-price trend over dense open-weight models",
        ),
        _trend("provider_fits", [("provider", pa.string()), *FIT_FIELDS], "each provider's own size -> price line"),
        _trend(
            "moe_placement",
            [*_MODEL_MONTH_PRICE, *_prices("params_total_b", "params_active_b", "dense_equiv_b", "position")],
            "where MoE models sit on the dense trend, between active (0) and total (1) parameters",
        ),
        _trend(
            "proprietary_implied",
            [*_MODEL_MONTH_PRICE,
             *_prices("implied_max_params_b", "assumed_params_b", "trend_price_at_assumed", "markup")],
            "the dense size a proprietary model's price implies, and its mark-up at an assumed size",
        ),  # fmt: skip
        _trend(
            "io_ratio",
            [("provider", pa.string()), ("n_models", pa.int64()), *_prices("median", "p10", "p90", "share_equal")],
            "output/input price ratio per provider",
        ),
        _trend(
            "fit_history",
            [("trend_month", pa.date32()), *FIT_FIELDS],
            "the minimum-price trend refitted on every month up to this one",
        ),
        _trend(
            "annual_decline",
            [
                ("model", pa.string()),
                ("n_months", pa.int64()),
                ("first_month", pa.date32()),
                ("last_month", pa.date32()),
                *_prices("slope_per_year", "factor", "factor_low", "factor_high"),
            ],
            "per model: how many times cheaper it gets a year",
        ),
    )
}

# -- alerts ------------------------------------------------------------------------------------------
ALERTS = Table(
    "alerts",
    ("snapshot_date",),
    pa.schema(
        [
            pa.field("alert_id", pa.string(), nullable=False),
            pa.field("status", pa.string(), nullable=False),
            #: 1, 2, ... for the rows of a send attempt (`pending` and its outcome); 0 for `queued` and `expired`
            pa.field("attempt", pa.int64(), nullable=False),
            pa.field("error", pa.string()),
            pa.field("recorded_at", pa.timestamp("us", tz="UTC"), nullable=False),
            pa.field("rule", pa.string(), nullable=False),
            pa.field("sink", pa.string(), nullable=False),
            pa.field("change_id", pa.string(), nullable=False),
            pa.field("source", pa.string(), nullable=False),
            pa.field("kind", pa.string(), nullable=False),
            pa.field("model", pa.string(), nullable=False),
            pa.field("provider", pa.string(), nullable=False),
            #: the alert itself (`Alert.to_json`), so a later run can retry it without recomputing its day
            pa.field("alert", pa.string(), nullable=False),
        ]
    ),
    "every delivery event of the alerts about a day's changes, in order; an alert's status is its last row",
)

# -- reports -----------------------------------------------------------------------------------------
#: The month's HTML report (`llmprices.report.monthly`), `reports/month=YYYY-MM/report.html`, written by
#: `cost_trends`: a page for people, not a table to query (so it is not in `TABLES`).
REPORTS = Table(
    "reports", ("month",), None, "the month's report: one self-contained HTML file (charts and tables inline)"
)
REPORT_FILE = "report.html"

#: Every table with files readers query, by name.
TABLES: Mapping[str, Table] = {
    table.name: table
    for table in (
        OBSERVATIONS,
        QUARANTINE,
        HELD_OBSERVATIONS,
        CATALOG,
        UNMATCHED_MODELS,
        HUB_PARAMS,
        NEW_MODELS,
        HISTORY,
        CHANGES,
        PROVIDER_PRICES,
        SPREADS,
        *TREND_TABLES.values(),
        ALERTS,
    )
}


def blended_usd_per_mtok(input_price, output_price):
    """The seed's 3:1 input:output blend per million tokens (scalars or arrays; NaN gives NaN), without float
    arithmetic's noise: 0.12 and 0.30 blend to 0.165, not 0.16499999999999998.

    The float blend is within a few units of the 16th significant digit of the exact decimal one; rounded to 15
    significant digits (what a quoted price carries, `llmprices.sources.prices`) it is the exact blend, which of
    quoted prices has fewer digits than that (tests check it against decimal arithmetic on real payloads).
    """
    blend = (3 * np.asarray(input_price, dtype=float) + np.asarray(output_price, dtype=float)) / 4
    rounded = round_significant(blend, 15)
    return float(rounded) if rounded.ndim == 0 else rounded


def round_significant(values, digits: int) -> np.ndarray:
    """`values` rounded to `digits` significant digits, vectorized: the integer of `digits` digits, divided by a
    power of ten (exact up to 10^22, so the quotient is the float nearest that decimal); 0 and NaN stay."""
    values = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = 10.0 ** (digits - 1 - np.floor(np.log10(np.abs(values))))
        rounded = np.rint(values * scale) / scale
    return np.where(np.isfinite(rounded), rounded, values)
