"""Turn parsed listings into rows of the `observations` table and rejections into `quarantine` rows.

All sources share this step, so the blend, the free flag and the canonical model id (resolved by the
catalog's matcher; the normalized id stands in when it is unknown) are computed one way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import pandas as pd
import pyarrow as pa

from assets.catalog.matcher import resolve
from assets.schema import OBSERVATION_SCHEMA, QUARANTINE_SCHEMA, blended_usd_per_mtok
from assets.sources.base import ParsedPayload


def observations_frame(parsed: Iterable[ParsedPayload]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(observations, parse rejections) for one source and day, typed as the lake schema says."""
    rows, rejected = [], []
    for item in parsed:
        sha, observed_at = item.payload.sha256, item.payload.fetched_at
        for listing in item.listings:
            row = dict(vars(listing))  # not asdict(): its deep copy is most of the cost on 100k rows
            match = resolve(listing.provider_model_id, provider=listing.provider, hint=row.pop("model_hint"))
            row["model"] = match.model or match.normalized
            row["model_variant"] = match.model_variant
            row["model_matched"] = match.model is not None
            if row["is_free"] is None:
                row["is_free"] = listing.input_usd_per_mtok == 0 and listing.output_usd_per_mtok == 0
            row["observed_at"] = observed_at
            row["raw_sha256"] = sha
            rows.append(row)
        for rejection in item.rejections:
            rejected.append(
                {
                    "observed_at": observed_at,
                    "provider": rejection.provider,
                    "provider_model_id": rejection.provider_model_id,
                    "reason": rejection.reason,
                    "failed_check": rejection.failed_check,
                    "record": json.dumps(rejection.record, default=str, sort_keys=True),
                    "raw_sha256": sha,
                }
            )
    observations = pd.DataFrame(rows, columns=[c for c in OBSERVATION_SCHEMA.names if c != "blended_usd_per_mtok"])
    observations["blended_usd_per_mtok"] = blended_usd_per_mtok(
        observations["input_usd_per_mtok"], observations["output_usd_per_mtok"]
    )
    return _typed(observations, OBSERVATION_SCHEMA), _typed(pd.DataFrame(rejected), QUARANTINE_SCHEMA)


def _typed(frame: pd.DataFrame, schema) -> pd.DataFrame:
    """Give an (possibly empty) frame exactly the schema's columns and pandas dtypes."""
    for name in schema.names:
        if name not in frame.columns:
            frame[name] = None
    table = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
    return table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
