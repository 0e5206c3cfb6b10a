"""`price_changes`: exact on real OpenRouter days (checked against a diff written here from the JSON), gaps
between days, and the listed / delisted / cheapest-provider cases on small hand-built frames."""

from __future__ import annotations

import gzip
import json
import math
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from llmprices.lake.store import Lake
from llmprices.lake.tables import CHANGES, OBSERVATIONS
from llmprices.observations.normalize import observations_frame
from llmprices.sources.archive import read_archive_day
from llmprices.sources.openrouter import parse
from llmprices.warehouse.changes import (
    CHANGE_COLUMNS,
    NEW_MODEL_FACTS,
    changes_between,
    changes_table,
    new_model_changes,
    previous_day_with_data,
)

MILLION = Decimal(1_000_000)


# -- real data ---------------------------------------------------------------------------------
@cache
def observed(shared_data: Path, day: date) -> pd.DataFrame:
    """The day's observations exactly as the pipeline parses them."""
    payloads = read_archive_day(shared_data / "openrouter-models", day, "models.json")
    frame, _ = observations_frame(parse(payloads, day))
    return frame


def json_listings(shared_data: Path, day: date) -> dict[str, tuple[Decimal, Decimal]]:
    """id -> (input, output per million), read straight from the payload: the test's own parser.

    A listing needs a string id and prompt/completion prices that are finite numbers other than -1
    (OpenRouter's "dynamic price").
    """
    document = json.loads(gzip.decompress((shared_data / "openrouter-models" / f"{day}.json.gz").read_bytes()))
    listings = {}
    for record in document["data"]:
        pricing = record.get("pricing")
        if not isinstance(record.get("id"), str) or not isinstance(pricing, dict):
            continue
        try:
            prompt, completion = Decimal(str(pricing.get("prompt"))), Decimal(str(pricing.get("completion")))
        except InvalidOperation:
            continue
        if not (prompt.is_finite() and completion.is_finite()) or Decimal(-1) in (prompt, completion):
            continue
        listings[record["id"]] = (prompt * MILLION, completion * MILLION)
    return listings


def expected_diff(old: dict, new: dict, models: dict[str, str]) -> dict[tuple[str, str], dict]:
    """(kind, id) -> the change's prices and relative change of the 3:1 blend, in exact decimals.

    `model` is not price_changes' to decide (the catalog resolves it upstream): a change carries its
    listing's model as observed, on the new day if listed then, else on the previous day (`models`).
    """
    changes = {}
    for key in old.keys() | new.keys():
        before, after = old.get(key), new.get(key)
        if before and after and before == after:
            continue
        kind = "listed" if before is None else "delisted" if after is None else "price_changed"
        relative = None
        if kind == "price_changed":
            old_blend, new_blend = 3 * before[0] + before[1], 3 * after[0] + after[1]
            relative = math.inf if old_blend == 0 else float(new_blend / old_blend - 1)
        changes[(kind, key)] = {
            "model": models[key],
            "old_input_usd_per_mtok": float(before[0]) if before else None,
            "new_input_usd_per_mtok": float(after[0]) if after else None,
            "old_output_usd_per_mtok": float(before[1]) if before else None,
            "new_output_usd_per_mtok": float(after[1]) if after else None,
            "relative_change": relative,
        }
    return changes


def as_found(changes: pd.DataFrame) -> dict[tuple[str, str], dict]:
    found = {}
    for row in changes.to_dict("records"):
        found[(row["kind"], row["provider_model_id"])] = {
            "model": row["model"],
            **{
                column: None if pd.isna(row[column]) else row[column]
                for column in [
                    "old_input_usd_per_mtok",
                    "new_input_usd_per_mtok",
                    "old_output_usd_per_mtok",
                    "new_output_usd_per_mtok",
                    "relative_change",
                ]
            },
        }
    return found


def assert_matches_json_diff(changes: pd.DataFrame, shared_data: Path, before: date, after: date) -> None:
    models = {}
    for day in (before, after):  # the later day's model wins
        models |= observed(shared_data, day).set_index("provider_model_id")["model"].to_dict()
    expected = expected_diff(json_listings(shared_data, before), json_listings(shared_data, after), models)
    found = as_found(changes)
    assert found.keys() == expected.keys()
    for key, want in expected.items():
        got, want_relative = found[key], want.pop("relative_change")
        got_relative = got.pop("relative_change")
        if want_relative is None:
            assert got_relative is None, key
        else:
            assert got_relative == pytest.approx(want_relative, rel=1e-9, abs=1e-12), key
        assert got == want, key  # prices exactly equal
    assert set(changes["snapshot_date"]) <= {after} and set(changes["previous_date"]) <= {before}
    assert set(changes["source"]) <= {"openrouter"} and set(changes["provider"]) <= {"openrouter"}
    assert set(changes["variant"]) <= {""}
    assert changes["change_id"].is_unique


def consecutive_pairs(shared_data: Path) -> list[tuple[date, date]]:
    days = sorted(date.fromisoformat(p.name[:10]) for p in (shared_data / "openrouter-models").glob("*.json.gz"))
    return [(a, b) for a, b in zip(days, days[1:], strict=False) if b - a == timedelta(days=1)]


def test_real_consecutive_days_match_an_independent_diff_of_the_json(shared_data):
    pairs = consecutive_pairs(shared_data)
    assert len(pairs) > 300
    sample = pairs[::6] + [(date(2025, 9, 10), date(2025, 9, 11)), (date(2025, 9, 16), date(2025, 9, 17))]
    kinds = set()
    for before, after in sample:
        changes = changes_between(
            observed(shared_data, after), observed(shared_data, before), after, before, source="openrouter"
        )
        assert_matches_json_diff(changes, shared_data, before, after)
        kinds |= set(changes["kind"])
    assert kinds == {"price_changed", "listed", "delisted"}  # one provider: the cheapest never changes


def test_a_known_day_in_numbers(shared_data):
    before, after = date(2025, 9, 16), date(2025, 9, 17)
    changes = changes_between(
        observed(shared_data, after), observed(shared_data, before), after, before, source="openrouter"
    )
    assert changes["kind"].value_counts().to_dict() == {"price_changed": 33, "delisted": 3, "listed": 1}
    assert (changes["relative_change"].abs() >= 0.10).sum() == 8


def test_a_gap_compares_with_the_latest_earlier_day_with_rows(shared_data, tmp_path):
    """The shared history has no 2024-09-22/23; an empty partition (a broken day) does not count either."""
    first, last = date(2024, 9, 21), date(2024, 9, 24)
    lake = Lake(str(tmp_path / "lake"))
    for day, frame in [(first, observed(shared_data, first)), (last, observed(shared_data, last))]:
        lake.write_partition(
            OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=day, source="openrouter"), to_table(frame)
        )
    lake.write_partition(
        OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=date(2024, 9, 23), source="openrouter"), to_table(empty())
    )
    lake.write_partition(
        OBSERVATIONS,
        OBSERVATIONS.partition(snapshot_date=date(2024, 9, 23), source="litellm"),
        to_table(observed(shared_data, first)),
    )

    previous = previous_day_with_data(lake, "openrouter", last)
    assert previous == first
    assert previous_day_with_data(lake, "openrouter", first) is None
    assert previous_day_with_data(lake, "litellm", last) == date(2024, 9, 23)

    read = {
        day: lake.read_partition(
            OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=day, source="openrouter")
        ).to_pandas()
        for day in (first, last)
    }
    changes = changes_between(read[last], read[first], last, previous, source="openrouter")
    assert len(changes) > 0
    assert_matches_json_diff(changes, shared_data, first, last)


def to_table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame[OBSERVATIONS.schema.names], schema=OBSERVATIONS.schema, preserve_index=False)


def empty() -> pd.DataFrame:
    return OBSERVATIONS.schema.empty_table().to_pandas()


# -- hand-built frames ---------------------------------------------------------------------------
D1, D2 = date(2025, 1, 1), date(2025, 1, 2)


def frame(*rows: tuple) -> pd.DataFrame:
    """Listings (provider, provider_model_id, model, input, output[, variant])."""
    records = []
    for provider, provider_model_id, model, input_price, output_price, *variant in rows:
        records.append(
            {
                "provider": provider,
                "provider_model_id": provider_model_id,
                "variant": variant[0] if variant else "",
                "model": model,
                "input_usd_per_mtok": float(input_price),
                "output_usd_per_mtok": float(output_price),
                "blended_usd_per_mtok": (3 * input_price + output_price) / 4,
                "is_free": input_price == 0 and output_price == 0,
            }
        )
    return pd.DataFrame(records)


def by_kind(changes: pd.DataFrame) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for row in changes.to_dict("records"):
        grouped.setdefault(row["kind"], []).append(row)
    return grouped


def test_listed_delisted_and_price_changed_listings():
    old = frame(
        ("a", "x/one", "one", 1, 2),
        ("a", "x/gone", "gone", 1, 1),
        ("a", "x/same", "same", 5, 5),
        ("a", "x/one", "one", 2, 4, "fast"),
    )
    new = frame(
        ("a", "x/one", "one", 1.5, 2),
        ("a", "x/new", "new", 3, 6),
        ("a", "x/same", "same", 5, 5),
        ("a", "x/one", "one", 2, 4, "fast"),
    )
    changes = changes_between(new, old, D2, D1, source="s")
    kinds = by_kind(changes)
    assert sorted(kinds) == ["delisted", "listed", "price_changed"]

    (moved,) = kinds["price_changed"]
    assert (moved["provider_model_id"], moved["variant"]) == ("x/one", "")
    assert (moved["old_input_usd_per_mtok"], moved["new_input_usd_per_mtok"]) == (1.0, 1.5)
    assert (moved["old_output_usd_per_mtok"], moved["new_output_usd_per_mtok"]) == (2.0, 2.0)
    assert (moved["old_blended_usd_per_mtok"], moved["new_blended_usd_per_mtok"]) == (1.25, 1.625)
    assert moved["relative_change"] == pytest.approx(0.3)
    assert moved["previous_provider"] is None

    (listed,) = kinds["listed"]
    assert (listed["provider_model_id"], listed["model"]) == ("x/new", "new")
    assert math.isnan(listed["old_input_usd_per_mtok"]) and listed["new_output_usd_per_mtok"] == 6.0
    assert math.isnan(listed["relative_change"])

    (delisted,) = kinds["delisted"]
    assert (delisted["provider_model_id"], delisted["model"]) == ("x/gone", "gone")
    assert delisted["old_input_usd_per_mtok"] == 1.0 and math.isnan(delisted["new_input_usd_per_mtok"])
    assert math.isnan(delisted["relative_change"])

    assert list(changes.columns) == CHANGE_COLUMNS
    assert set(changes["previous_date"]) == {D1} and set(changes["snapshot_date"]) == {D2}


def test_a_free_listing_getting_a_price_is_an_infinite_relative_change():
    changes = changes_between(frame(("a", "m", "m", 1, 1)), frame(("a", "m", "m", 0, 0)), D2, D1, source="s")
    assert changes["relative_change"].tolist() == [math.inf]


def test_cheapest_provider_changed_names_the_new_and_the_old_cheapest():
    old = frame(("a", "a/llama", "llama", 1, 1), ("b", "b/llama", "llama", 2, 2), ("a", "a/qwen", "qwen", 1, 1))
    new = frame(("a", "a/llama", "llama", 3, 3), ("b", "b/llama", "llama", 2, 2), ("a", "a/qwen", "qwen", 2, 2))
    (cheapest,) = by_kind(changes_between(new, old, D2, D1, source="s"))["cheapest_provider_changed"]
    assert (cheapest["model"], cheapest["provider"], cheapest["provider_model_id"]) == ("llama", "b", "b/llama")
    assert cheapest["previous_provider"] == "a"
    assert (cheapest["old_input_usd_per_mtok"], cheapest["new_input_usd_per_mtok"]) == (1.0, 2.0)
    assert (cheapest["old_blended_usd_per_mtok"], cheapest["new_blended_usd_per_mtok"]) == (1.0, 2.0)
    assert cheapest["relative_change"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("old", "new", "fires"),
    [
        # a provider that starts tying with the cheapest one does not take its place
        ([("a", 1), ("b", 2)], [("a", 1), ("b", 1)], False),
        # the provider that stays of a tie is still cheapest
        ([("a", 1), ("b", 1)], [("a", 2), ("b", 1)], False),
        # a free tier is not "the cheapest provider"
        ([("a", 1), ("b", 2)], [("a", 1), ("b", 0)], False),
        # the only paid provider is replaced by another one
        ([("a", 1)], [("b", 3)], True),
        # a model only one of the days has
        ([("a", 1)], [], False),
    ],
)
def test_cheapest_provider_ties_free_tiers_and_new_models(old, new, fires):
    def listings(pairs):
        rows = [(p, f"{p}/m", "m", price, price) for p, price in pairs] + [("z", "z/other", "other", 1, 1)]
        return frame(*rows)

    changes = changes_between(listings(new), listings(old), D2, D1, source="s")
    assert ("cheapest_provider_changed" in set(changes["kind"])) is fires


def test_change_ids_are_stable_identities_not_prices():
    old = frame(("a", "x/one", "one", 1, 2), ("b", "y/one", "one", 2, 2))
    first = changes_between(frame(("a", "x/one", "one", 3, 2), ("b", "y/one", "one", 2, 2)), old, D2, D1, source="s")
    # the same day recomputed after a fix of the price, against another previous day
    again = changes_between(
        frame(("a", "x/one", "one", 4, 2), ("b", "y/one", "one", 2, 2)), old, D2, date(2024, 12, 30), source="s"
    )
    assert first["change_id"].tolist() == again["change_id"].tolist()
    assert first["change_id"].is_unique and len(first) == 2  # price_changed + cheapest_provider_changed
    other_source = changes_between(frame(("a", "x/one", "one", 3, 2)), old, D2, D1, source="t")
    assert not set(other_source["change_id"]) & set(first["change_id"])


def test_the_first_day_of_a_source_has_no_changes_and_the_table_round_trips(tmp_path):
    nothing = changes_between(frame(("a", "m", "m", 1, 1)), None, D1, None, source="s")
    assert nothing.empty and list(nothing.columns) == CHANGE_COLUMNS

    changes = changes_between(
        frame(("a", "m", "m", 2, 1), ("a", "n", "n", 1, 1)), frame(("a", "m", "m", 1, 1)), D2, D1, source="s"
    )
    lake = Lake(str(tmp_path / "lake"))
    for day_changes in (changes, nothing):
        lake.write_partition(CHANGES, CHANGES.partition(snapshot_date=D2, source="s"), changes_table(day_changes))
        read = lake.read_partition(CHANGES, CHANGES.partition(snapshot_date=D2, source="s"))
        assert read.schema.equals(CHANGES.schema) and read.num_rows == len(day_changes)


def test_repeated_listing_keys_are_refused():
    twice = frame(("a", "m", "m", 1, 1), ("a", "m", "m", 2, 2))
    with pytest.raises(ValueError, match="repeat listing keys"):
        changes_between(twice, frame(("a", "m", "m", 1, 1)), D2, D1, source="s")


def test_a_new_model_is_one_change_whichever_source_lists_it_first():
    """`new_models/` rows become `new_model` changes for the alert rules; the id hashes the model and the day."""
    row = {
        "snapshot_date": D2, "model": "qwen/qwen3.5-35b-a3b", "provider": "novita",
        "provider_model_id": "Qwen/Qwen3.5-35B-A3B", "input_usd_per_mtok": 0.22, "output_usd_per_mtok": 0.9,
        "blended_usd_per_mtok": 0.39, "hf_repo": "Qwen/Qwen3.5-35B-A3B", "open_weights": True,
        "params_total_b": 35.0, "params_active_b": 3.0, "params_source": "name", "sources": "huggingface,openrouter",
    }  # fmt: skip
    first = new_model_changes(pd.DataFrame([{**row, "source": "huggingface"}]))
    later = new_model_changes(pd.DataFrame([{**row, "source": "openrouter"}]))
    assert list(first.columns) == [*CHANGE_COLUMNS, *NEW_MODEL_FACTS]
    assert (
        first.loc[0, "change_id"]
        == later.loc[0, "change_id"]
        != new_model_changes(pd.DataFrame([{**row, "source": "openrouter", "snapshot_date": D1}])).loc[0, "change_id"]
    )
    assert (first.loc[0, "kind"], first.loc[0, "new_blended_usd_per_mtok"], first.loc[0, "variant"]) == (
        "new_model", 0.39, "",
    )  # fmt: skip
    assert math.isnan(first.loc[0, "old_blended_usd_per_mtok"]) and first.loc[0, "params_total_b"] == 35.0
