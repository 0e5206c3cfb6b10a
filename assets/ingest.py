"""The two assets every source gets: `raw/<source>` (payloads as fetched) and
`observations/<source>` (parsed, validated, with bad rows quarantined).

Each source is its own pair of assets, so a failing source fails alone: its siblings still land.
"""

from datetime import UTC, date, datetime

import dagster as dg
import pandas as pd
import pyarrow as pa

from assets.archive import read_archive_day
from assets.normalize import observations_frame
from assets.partitions import DAILY_PARTITIONS, partition_days
from assets.schema import OBSERVATION_SCHEMA, QUARANTINE_SCHEMA
from assets.sources.base import ParsedPayload, PayloadError, RawPayload, Rejection, SourceNotConfigured, SourceSpec
from expectations.checks import evaluate_observation_checks, observation_check_specs
from expectations.quarantine import split_valid_rows
from pipeline.lake import OBSERVATIONS, QUARANTINE, RawManifest, observation_partition

SOURCES_GROUP = "sources"
OBSERVATIONS_GROUP = "observations"


class RawFetchConfig(dg.Config):
    """Run config of a raw asset: fetch live, or read the days from a folder of dated captures."""

    archive_dir: str | None = None


def raw_asset_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source])


def observations_asset_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["observations", source])


def build_source_assets(spec: SourceSpec) -> list[dg.AssetsDefinition]:
    return [_raw_asset(spec), _observations_asset(spec)]


def _raw_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    @dg.asset(
        key=raw_asset_key(spec.name),
        description=f"Payloads of `{spec.name}` exactly as received, with a manifest. {spec.description}",
        partitions_def=DAILY_PARTITIONS,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name=SOURCES_GROUP,
        kinds={"json", "parquet"},
        pool="http",
        output_required=False,
        required_resource_keys={"lake", "http", spec.resource_key},
        retry_policy=dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL),
    )
    def raw(context: dg.AssetExecutionContext, config: RawFetchConfig):
        lake = context.resources.lake.lake()
        source = getattr(context.resources, spec.resource_key)
        landed, skipped = [], []
        for day in partition_days(context):
            try:
                payloads = _payloads_for(spec, source, context, config, day)
            except SourceNotConfigured as exc:
                skipped.append(f"{day}: {exc}")
                continue
            manifest = lake.write_raw(RawManifest(spec.name, day, []), payloads)
            landed.append(manifest)
        if skipped:
            context.log.warning(f"{spec.name} is not configured; skipped: " + "; ".join(skipped))
            yield dg.AssetObservation(
                asset_key=raw_asset_key(spec.name),
                metadata={"status": "not configured", "reason": skipped[0]},
            )
        if landed:
            entries = [entry for m in landed for entry in m.payloads]
            yield dg.MaterializeResult(
                metadata={
                    "days": len(landed),
                    "payloads": len(entries),
                    "bytes": sum(e["bytes"] for e in entries),
                    "urls": dg.MetadataValue.md("\n".join(f"- `{e['url']}`" for e in entries[:10])),
                    "sha256": entries[0]["sha256"] if len(entries) == 1 else f"{len(entries)} payloads",
                    "path": lake.path("raw", (("source", spec.name),)),
                }
            )

    return raw


def _payloads_for(spec, source, context, config: RawFetchConfig, day: date) -> list[RawPayload]:
    if config.archive_dir:
        return read_archive_day(config.archive_dir, day, spec.archive_payload_name)
    today = datetime.now(UTC).date()
    if spec.live and day != today:
        raise dg.Failure(
            f"{spec.name} serves today's prices ({today}); fetching it for {day} would label today's "
            "prices with a past date. Land past days from captures instead (run config `archive_dir`).",
            allow_retries=False,
        )
    return source.fetch(context.resources.http.client(), day)


def _observations_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    key = observations_asset_key(spec.name)

    @dg.asset(
        key=key,
        description=(
            f"Price observations of `{spec.name}`, one row per listing, validated with Great Expectations; "
            "rows that fail go to `quarantine/` with the reason. Re-parses `raw/` offline."
        ),
        deps=[raw_asset_key(spec.name)],
        partitions_def=DAILY_PARTITIONS,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name=OBSERVATIONS_GROUP,
        kinds={"pandas", "parquet"},
        check_specs=observation_check_specs(key),
        required_resource_keys={"lake"},
    )
    def observations(context: dg.AssetExecutionContext):
        lake = context.resources.lake.lake()
        summaries, check_days, payload_errors = [], [], []
        days = partition_days(context)
        previous = _previous_row_count(lake, spec.name, days[0])
        for day in days:
            raw = lake.read_raw(spec.name, day)
            if raw is None:
                raise dg.Failure(
                    f"no raw payload of {spec.name} for {day}: materialize raw/{spec.name} first", allow_retries=False
                )
            manifest, payloads = raw
            parsed, errors = _parse_day(spec, payloads, day)
            frame, rejected = observations_frame(parsed)
            valid, failed = split_valid_rows(frame)
            quarantined = pd.concat([rejected, failed[rejected.columns]], ignore_index=True)
            partition = observation_partition(spec.name, day)
            lake.write_partition(OBSERVATIONS, partition, _to_table(valid, OBSERVATION_SCHEMA))
            lake.write_partition(QUARANTINE, partition, _to_table(quarantined, QUARANTINE_SCHEMA))
            check_days.append((day, valid, previous))
            summaries.append(_day_summary(day, manifest, valid, quarantined, previous))
            payload_errors += errors
            previous = len(valid)

        yield from _check_results(key, check_days)
        yield dg.MaterializeResult(metadata=_metadata(lake, spec.name, summaries))
        if payload_errors:
            raise dg.Failure(
                f"{spec.name}: {len(payload_errors)} payload(s) could not be read (kept in raw/ and quarantine/)",
                metadata={"errors": dg.MetadataValue.md("\n".join(f"- {e}" for e in payload_errors[:20]))},
            )

    return observations


def _parse_day(spec, payloads: list[RawPayload], day: date) -> tuple[list[ParsedPayload], list[str]]:
    """Parse the day's payloads together (some need each other: endpoints take their hints from
    models.json); if one is unreadable, parse them one by one so it alone is quarantined whole."""
    try:
        return list(spec.parse(payloads, day)), []
    except PayloadError:
        pass
    parsed, errors = [], []
    for payload in payloads:
        try:
            parsed.extend(spec.parse([payload], day))
        except PayloadError as exc:
            record = payload.body[:2000].decode("utf-8", errors="replace")
            parsed.append(ParsedPayload(payload, rejections=[Rejection(str(exc), record, failed_check="payload")]))
            errors.append(f"{day}: {payload.name}: {exc}")
    return parsed, errors


def _to_table(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)


def _previous_row_count(lake, source: str, day: date) -> int | None:
    """Rows of the source's latest partition before `day` (gaps happen), None if there is none."""
    earlier = [d for d in lake.partition_values(OBSERVATIONS) if d < day.isoformat()]
    for candidate in reversed(earlier):
        count = lake.row_count(OBSERVATIONS, observation_partition(source, date.fromisoformat(candidate)))
        if count is not None:
            return count
    return None


def _check_results(key: dg.AssetKey, check_days) -> list[dg.AssetCheckResult]:
    """One result per check: a ranged run passes a check only if every day passes it."""
    per_day = [(day, evaluate_observation_checks(key, frame, previous)) for day, frame, previous in check_days]
    if len(per_day) == 1:
        return per_day[0][1]
    merged = []
    for index, first in enumerate(per_day[0][1]):
        results = [(day, results[index]) for day, results in per_day]
        failing = [(day, r) for day, r in results if not r.passed]
        merged.append(
            dg.AssetCheckResult(
                asset_key=key,
                check_name=first.check_name,
                passed=not failing,
                severity=first.severity,
                description=(
                    f"{len(failing)} of {len(results)} days failed: "
                    + "; ".join(f"{day}: {r.description}" for day, r in failing[:5])
                    if failing
                    else f"all {len(results)} days passed"
                ),
                metadata={"days": len(results), "failing_days": len(failing)},
            )
        )
    return merged


def _day_summary(day, manifest, valid: pd.DataFrame, quarantined: pd.DataFrame, previous) -> dict:
    return {
        "day": day.isoformat(),
        "rows": len(valid),
        "quarantined": len(quarantined),
        "previous_rows": previous,
        "providers": valid["provider"].nunique(),
        "models": valid["model"].nunique(),
        "payloads": len(manifest.payloads),
        "reasons": quarantined["reason"].value_counts().head(5).to_dict(),
    }


def _metadata(lake, source: str, summaries: list[dict]) -> dict:
    last = summaries[-1]
    rows = sum(s["rows"] for s in summaries)
    reasons = pd.Series(dtype="int64")
    for s in summaries:
        reasons = reasons.add(pd.Series(s["reasons"], dtype="int64"), fill_value=0)
    reason_lines = [f"| {reason} | {int(n)} |" for reason, n in reasons.sort_values(ascending=False).head(8).items()]
    return {
        "dagster/row_count": rows,
        "days": len(summaries),
        "quarantined_rows": sum(s["quarantined"] for s in summaries),
        "providers": last["providers"],
        "models": last["models"],
        "previous_partition_rows": last["previous_rows"],
        "quarantine_reasons": dg.MetadataValue.md(
            "| reason | rows |\n|---|---|\n" + "\n".join(reason_lines) if reason_lines else "none"
        ),
        "lake_path": lake.path(OBSERVATIONS) + f"/snapshot_date=*/source={source}/",
    }
