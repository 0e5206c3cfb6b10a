"""The two assets every source gets: `raw/<source>` (payloads as fetched) and
`observations/<source>` (parsed, validated, with bad rows quarantined).

Each source is its own pair of assets, so a failing source fails alone: its siblings still land.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import dagster as dg

from assets.keys import (
    OBSERVATIONS_GROUP,
    SOURCES_GROUP,
    observations_asset_key,
    raw_asset_key,
    source_resource_key,
)
from assets.partitions import DAILY_PARTITIONS, partition_days
from assets.sources.day_metadata import add_day_metadata, add_raw_day_metadata
from assets.sources.landing import LandedRange, parse_and_validate
from expectations.checks import evaluate_observation_checks, holds, observation_check_specs
from llmprices.http import HttpError, PayloadTooLarge
from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS, RAW
from llmprices.observations.write import WrittenDays, previous_row_count
from llmprices.payloads import RawPayload
from llmprices.sources.archive import ArchiveMissing, read_archive_day
from llmprices.sources.base import SourceNotConfigured, SourceSpec

#: Days of a ranged run read from captures and archived in raw/ at once.
RAW_ARCHIVE_THREADS = 4


class RawFetchConfig(dg.Config):
    """Run config of a raw asset: fetch live, or read the days from a folder of dated captures."""

    archive_dir: str | None = None


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
        required_resource_keys={"lake", "http", source_resource_key(spec.name)},
        retry_policy=dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL),
    )
    def raw(context: dg.AssetExecutionContext, config: RawFetchConfig):
        lake = context.resources.lake.lake()
        source = getattr(context.resources, source_resource_key(spec.name))
        landed, skipped, no_capture = [], [], []

        def archive(day: date) -> tuple[str, object]:
            try:
                payloads = _payloads_for(spec, source, context, config, day)
            except SourceNotConfigured as exc:
                return "skipped", f"{day}: {exc}"
            except ArchiveMissing as exc:  # captures have gaps; the days that exist still land
                return "no_capture", (day, str(exc))
            return "landed", lake.write_raw(spec.name, day, payloads)

        days = partition_days(context)
        if config.archive_dir and len(days) > 1:  # a backfill: gunzip, hashing and file I/O release the GIL
            with ThreadPoolExecutor(max_workers=RAW_ARCHIVE_THREADS) as pool:
                outcomes = list(pool.map(archive, days))
        else:
            outcomes = [archive(day) for day in days]
        for kind, value in outcomes:
            {"landed": landed, "skipped": skipped, "no_capture": no_capture}[kind].append(value)
        if no_capture and not landed:
            raise dg.Failure(f"{spec.name}: no capture for any day of the run: {no_capture[0][1]}", allow_retries=False)
        if no_capture:
            context.log.warning(f"{spec.name}: {len(no_capture)} day(s) have no capture: {no_capture[0][1]}")
        if skipped:
            context.log.warning(f"{spec.name} is not configured; skipped: " + "; ".join(skipped))
            yield dg.AssetObservation(
                asset_key=raw_asset_key(spec.name),
                metadata={"status": "not configured", "reason": skipped[0]},
            )
        if landed:
            add_raw_day_metadata(context, landed, no_capture)
            yield dg.MaterializeResult(
                metadata={
                    "run_days": len(landed),
                    "run_days_without_capture": len(no_capture),
                    "path": lake.path(RAW, (("source", spec.name),)),
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
    try:
        return source.fetch(context.resources.http.fetch_client())
    except (HttpError, PayloadTooLarge) as exc:
        # One line with the host and the reason. Not retried: the client already retried what could help,
        # within the source's deadline, and refused credentials stay refused.
        raise dg.Failure(f"{spec.name}: {exc}", allow_retries=False) from None


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
        days = partition_days(context)
        previous = previous_row_count(lake, spec.name, days[0])
        landed = parse_and_validate(lake, spec.name, days)
        if landed.day_counts.empty:
            raise dg.Failure(
                f"{spec.name}: nothing to parse: " + "; ".join(landed.missing_days[:5]), allow_retries=False
            )
        checks = evaluate_observation_checks(key, landed.observations, landed.day_counts, previous)
        written = landed.write(lake, holds(checks))  # a day a blocking check failed on is held back, unpublished
        yield from checks
        if written.published:
            add_day_metadata(context, landed, checks, previous, written.held)  # each day its own counts and checks
            yield dg.MaterializeResult(metadata=_run_metadata(lake, spec.name, landed, written))
        problems = _problems(spec.name, landed, written)
        if problems:
            raise dg.Failure(
                "; ".join(problems),
                metadata={"errors": dg.MetadataValue.md("\n".join(f"- {e}" for e in landed.payload_errors[:20]))},
            )

    return observations


def _problems(source: str, landed: LandedRange, written: WrittenDays) -> list[str]:
    """What makes the step fail though good days were published: days not landed, payloads not read."""
    problems = []
    if written.without_rows:
        days = ", ".join(d.isoformat() for d in written.without_rows[:10])
        problems.append(f"{source}: {len(written.without_rows)} day(s) without a valid row, not landed ({days})")
    if written.held and not written.published:
        problems.append(f"{source}: every day held back by a blocking check (`llmprices accept` publishes one)")
    if landed.payload_errors:
        problems.append(
            f"{source}: {len(landed.payload_errors)} payload(s) could not be read (kept in raw/ and quarantine/)"
        )
    return problems


def _run_metadata(lake: Lake, source: str, landed: LandedRange, written: WrittenDays) -> dict:
    """What the run as a whole did (shown on each of its days, beside the day's own counts)."""
    metadata = {
        "run_days": len(landed.day_counts),
        "run_payloads": landed.payloads,
        "run_published_rows": int(landed.day_counts[written.published].sum()),  # not the held-back days' rows
        "lake_path": lake.path(OBSERVATIONS) + f"/snapshot_date=*/source={source}/",
    }
    if written.held:
        metadata["run_held_back_days"] = dg.MetadataValue.md("\n".join(f"- {d}" for d in written.held[:50]))
    if written.without_rows:
        metadata["run_days_without_rows"] = dg.MetadataValue.md("\n".join(f"- {d}" for d in written.without_rows[:50]))
    if landed.missing_days:
        metadata["run_days_without_raw"] = dg.MetadataValue.md("\n".join(f"- {d}" for d in landed.missing_days[:50]))
    return metadata
