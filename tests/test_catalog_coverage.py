"""Coverage of the catalog: the issue's examples, and the share of real OpenRouter rows it can name."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from llmprices.catalog.catalog import load_curated
from llmprices.catalog.coverage import (
    Curation,
    ask_hub_about,
    coverage_by_source,
    name_agreement,
    open_weight_text_rows,
    openrouter_rows,
    sized_rows,
    summarize,
)
from llmprices.catalog.hub_cache import HubAnswers
from llmprices.catalog.listings import count_listings
from llmprices.catalog.matcher import resolve
from llmprices.http import HttpClient

LLAMA_70B = "meta-llama/llama-3.1-70b-instruct"
HUB_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "hub"


def _provider_name(provider_id: str) -> str:
    """genai-prices lists Hugging Face router providers as `huggingface_<provider>`: the same provider."""
    name = provider_id.removeprefix("huggingface_")
    return {"fireworks-ai": "fireworks"}.get(name, name)


def provider_counts(genai_prices_dir: Path, openrouter_dir: Path) -> pd.DataFrame:
    """Distinct providers per model over every genai-prices day plus OpenRouter (itself one provider), sorted
    by provider count, most first: how the catalog's priority list was drawn up."""
    providers: dict[tuple[str, bool], set[str]] = defaultdict(set)
    for path in sorted(Path(genai_prices_dir).glob("*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for provider in json.load(handle):
                name = _provider_name(provider["id"])
                for model in provider.get("models") or []:
                    match = resolve(model["id"], provider=provider["id"])
                    providers[(match.model or match.normalized, match.model is not None)].add(name)
    listed = openrouter_rows(openrouter_dir).drop_duplicates(["id", "hugging_face_id"])
    for model_id, hint in zip(listed["id"], listed["hugging_face_id"], strict=True):
        match = resolve(model_id, provider="openrouter", hint=hint)
        providers[(match.model or match.normalized, match.model is not None)].add("openrouter")
    counts = pd.DataFrame(
        [(model, matched, len(names), ",".join(sorted(names))) for (model, matched), names in providers.items()],
        columns=["model", "matched", "n_providers", "providers"],
    )
    open_weights = load_curated().set_index("model")["open_weights"]
    counts["open_weights"] = counts["model"].map(open_weights).astype("boolean")
    counts.loc[~counts["matched"], "open_weights"] = pd.NA
    return counts.sort_values(["n_providers", "model"], ascending=[False, True], ignore_index=True)


@pytest.mark.parametrize(
    ("provider_model_id", "provider"),
    [
        ("meta-llama/llama-3.1-70b-instruct", "openrouter"),
        ("meta-llama/Llama-3.1-70B-Instruct", "huggingface"),
        ("together_ai/meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo", "together_ai"),
        ("bedrock/meta.llama3-1-70b-instruct-v1:0", "bedrock"),
        ("meta.llama3-1-70b-instruct-v1:0", "aws"),
    ],
)
def test_the_five_spellings_of_llama_3_1_70b_are_one_model(provider_model_id, provider):
    assert resolve(provider_model_id, provider=provider).model == LLAMA_70B


@pytest.mark.parametrize(
    ("provider_model_id", "variant"),
    [
        ("together_ai/meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo", "turbo"),
        ("deepinfra/meta-llama/Meta-Llama-3.1-70B-Instruct-FP8", "fp8"),
        ("meta-llama/llama-3.1-70b-instruct:free", "free"),
        ("meta-llama/llama-3.1-70b-instruct", None),
    ],
)
def test_turbo_fp8_and_free_listings_keep_the_model_and_carry_the_variant(provider_model_id, variant):
    match = resolve(provider_model_id)
    assert (match.model, match.model_variant) == (LLAMA_70B, variant)


def test_coverage_by_source():
    observations = pd.DataFrame(
        {
            "source": ["openrouter"] * 3 + ["litellm"] * 2,
            "provider": ["p"] * 5,
            "provider_model_id": ["a", "b", "b", "c", "d"],
            "model": ["a", "b", "b", "c", "d"],
            "model_matched": [True, False, False, True, True],
            "snapshot_date": [date(2025, 6, 1), date(2025, 6, 1), date(2025, 6, 2), date(2025, 6, 1), date(2025, 6, 1)],
        }
    )
    result = coverage_by_source(count_listings(observations)).set_index("source")
    assert result.loc["openrouter", ["rows", "matched", "unmatched_ids"]].tolist() == [3, 1, 1]
    assert result.loc["openrouter", "share"] == pytest.approx(1 / 3)
    assert result.loc["litellm", "share"] == 1.0


def write_day(directory, day, models):
    with gzip.open(directory / f"{day}.json.gz", "wt") as handle:
        json.dump({"data": models}, handle)


def test_open_weight_text_rows_definition(tmp_path):
    """An id is open-weight if any day lists it with a repo; `:free` copies count; image output does not."""
    text = {"modality": "text->text"}
    write_day(
        tmp_path,
        "2024-10-01",
        [
            {"id": "meta-llama/llama-3.1-70b-instruct", "architecture": text},  # before hints existed
            {"id": "meta-llama/llama-3.1-70b-instruct:free", "architecture": text},
            {"id": "lab/secret-model", "architecture": text},
        ],
    )
    write_day(
        tmp_path,
        "2025-06-01",
        [
            {
                "id": "meta-llama/llama-3.1-70b-instruct",
                "hugging_face_id": "meta-llama/Meta-Llama-3.1-70B-Instruct",
                "architecture": {"modality": "text->text", "output_modalities": ["text"]},
            },
            {"id": "lab/new-open-9b", "hugging_face_id": "Lab/New-Open-9B", "architecture": text},
            {"id": "lab/secret-model", "hugging_face_id": "", "architecture": text},
            {
                "id": "lab/open-image-gen",
                "hugging_face_id": "Lab/Open-Image-Gen",
                "architecture": {"modality": "text->image", "output_modalities": ["image"]},
            },
        ],
    )
    assert len(openrouter_rows(tmp_path)) == 7
    result = summarize(sized_rows(open_weight_text_rows(tmp_path), Curation.shipped()))
    figures = ("days", "rows", "matched", "sized", "sized_by", "newest_day", "newest_rows", "newest_sized")
    assert {key: result[key] for key in figures} == {
        "days": 2,
        "rows": 4,
        "matched": 3,
        "sized": 4,
        "sized_by": {"curated": 3, "hub": 0, "name": 1},  # Lab/New-Open-9B says 9B
        "newest_day": "2025-06-01",
        "newest_rows": 2,
        "newest_sized": 2,
    }
    assert result["top_unmatched"] == [("lab/new-open-9b", 1)]


OPENROUTER_HISTORY_DAYS = 428


@pytest.fixture(scope="module")
def open_weight_rows(shared_data):
    return open_weight_text_rows(shared_data / "openrouter-models")


def test_the_matcher_names_every_open_weight_text_row_of_the_shared_history(open_weight_rows):
    result = summarize(sized_rows(open_weight_rows, Curation.shipped()))
    assert (result["days"], result["rows"]) == (OPENROUTER_HISTORY_DAYS, 65_340)
    assert result["matched"] == result["rows"], result["top_unmatched"]


def test_offline_every_day_has_90_percent_of_its_rows_sized_and_moe_models_get_both_counts(open_weight_rows):
    """The issue's target without the Hub: curated sizes, then what names say."""
    result = summarize(sized_rows(open_weight_rows, Curation.shipped()))
    assert (result["sized"], result["sized_by"]) == (64_760, {"curated": 59_783, "hub": 0, "name": 4_977})
    assert result["days_below_90"] == 0 and result["worst_day_share"] >= 0.9
    assert (result["newest_day"], result["newest_rows"], result["newest_sized"]) == ("2025-12-31", 199, 191)
    assert result["moe_both"] / result["moe_rows"] >= 0.95
    assert result["newest_moe_both"] / result["newest_moe_rows"] >= 0.9
    # what stays unsized on the newest day has no size in its name, and its curated row none either
    unsized = {model_id.split(":")[0] for model_id, _ in result["top_unsized"]}
    assert {"z-ai/glm-4.7", "minimax/minimax-m2.1", "ibm-granite/granite-4.0-h-micro"} <= unsized


def test_the_rules_alone_size_as_much_as_the_curated_sizes_they_can_reproduce(open_weight_rows):
    """`models.csv` reduced to the 104 models whose name cannot give their size: names size the rest."""
    alone = Curation.shipped().rules_alone()
    assert len(alone.curated) == 104
    assert "qwen/qwen3-30b-a3b" not in set(alone.curated["model"])  # its name says 30b-a3b
    assert "openai/gpt-oss-120b" in set(alone.curated["model"])  # a MoE whose name gives no active count
    result = summarize(sized_rows(open_weight_rows, alone))
    assert result["sized"] == 64_760 and result["sized_by"]["name"] == 50_230
    assert result["days_below_90"] == 0 and result["newest_sized"] == 191


def test_with_the_hub_fixture_98_percent_are_sized_on_every_day(open_weight_rows, hub_server):
    """The Hub is asked about every open-weight repo of the history (the local Hub answers for the fixture repos
    and 404s the rest): it sizes the rows the curated table and the names could not."""
    curation, answers = Curation.shipped(), HubAnswers()
    http = HttpClient(max_retries=0, read_timeout_s=5)
    try:
        asked = ask_hub_about(open_weight_rows, curation, answers, http, datetime.now(UTC),
                              api_base=f"{hub_server.base_url}/api", files_base=hub_server.base_url)  # fmt: skip
    finally:
        http.close()
    fixtures = {f"{info.parent.name}/{info.stem}" for info in (HUB_FIXTURES / "api" / "models").glob("*/*.json")}
    sized_by_the_hub = {params.repo for params in asked if params.params_total_b is not None}
    assert sized_by_the_hub == {params.repo for params in asked} & fixtures and len(sized_by_the_hub) == 21
    result = summarize(sized_rows(open_weight_rows, curation, answers.params))
    assert result["sized"] / result["rows"] >= 0.98 and result["worst_day_share"] >= 0.98
    assert result["newest_sized"] == result["newest_rows"] == 199
    assert result["sized_by"]["hub"] > 0 and result["newest_moe_both"] == result["newest_moe_rows"]


#: Names whose size disagrees with the curated one, with the reason (checked against the model cards).
NAME_DISAGREEMENTS = {
    ("id", "liquid/lfm-2.2-6b"),  # OpenRouter's id misplaces the dot of LiquidAI/LFM2-2.6B
    ("id", "bytedance/ui-tars-1.5-7b"), ("repo", "ByteDance-Seed/UI-TARS-1.5-7B"),  # 7B LM + the vision tower
    ("id", "qwen/qwen-2.5-vl-7b-instruct"), ("id", "qwen/qwen-2.5-vl-7b-instruct:free"),  # the same: 7.62 + 0.68
    ("repo", "Qwen/Qwen2.5-VL-7B-Instruct"),
    ("id", "google/gemma-7b-it"),  # 8.54B: the name leaves out the 0.79B 256k-vocabulary embedding
    ("id", "deepseek/deepseek-r1-distill-qwen-1.5b"),  # 1.78B: the distill unties Qwen2.5-1.5B's embeddings
    ("repo", "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"),
}  # fmt: skip


def test_names_agree_with_the_curated_sizes_on_every_model_both_know_but_the_listed_ones(shared_data):
    """Every id and `hugging_face_id` of the shared history whose name states a size, against the curated
    size of its model (within the rounding the name carries)."""
    frame = openrouter_rows(shared_data / "openrouter-models")
    listings = pd.DataFrame({"provider_model_id": frame["id"], "model_hint": frame["hugging_face_id"]})
    table = name_agreement(listings, Curation.shipped())
    compared = table.dropna(subset=["agrees"])
    disagreeing = compared[~compared["agrees"].astype(bool)]
    assert set(zip(disagreeing["kind"], disagreeing["name"], strict=True)) == NAME_DISAGREEMENTS
    counts = compared.groupby("kind")["agrees"].agg(["size", "sum"]).astype(int)
    assert counts.loc["id"].tolist() == [242, 236] and counts.loc["repo"].tolist() == [154, 151]
    assert len(table) == 329 + 193  # ids and repos with a size in their name


def test_the_most_provided_open_weight_models_are_all_curated(shared_data):
    """No model the catalog cannot name has more providers than the 60th most provided open-weight model."""
    counts = provider_counts(shared_data / "genai-prices", shared_data / "openrouter-models")
    open_weight = counts[counts["open_weights"].fillna(False)]
    assert len(open_weight) >= 60
    sixtieth = open_weight["n_providers"].iloc[59]
    outranking = counts[counts["n_providers"] > sixtieth]
    assert outranking["matched"].all(), outranking.loc[~outranking["matched"], "model"].tolist()
    top = counts.set_index("model").loc[LLAMA_70B]
    assert {"openrouter", "aws", "together", "fireworks"} <= set(top["providers"].split(","))
