"""One price per provider, model, variant and day, with its provenance: what `provider_prices` holds.

Resale never takes part: a router's price is not a provider's price, whatever source carried it. The variant is
the model's (`model_variant`: `free`, `turbo`, `fp8`, ...) and the precision a source reports for the listing:
a build quantized below 16 bits (OpenRouter's endpoint for Together at `fp8`) is not the same product as one of
unreported precision (the Hugging Face router's Together listing), so they are reconciled apart.

1. A source's capture stands for the days until its next one, at most `TrustConfig.carry_days` (genai-prices
   was captured on 48 of 193 days: without this the chosen source would flip from one day to the next). Only
   days some per-provider source captured count: a day with nothing but a router's list has no provider prices.
2. Within one source, a provider's listings of one model and variant give one candidate: trusted before
   flagged, its direct listing before a marketplace's copy (genai-prices' `via-huggingface`), then the
   cheapest (Bedrock lists a model per region; the cheapest is what a buyer gets).
3. Across sources the chosen candidate is the first by this precedence:
   a. trusted before flagged (a unit slip or a stale listing never wins over a clean one);
   b. more first-hand: first_party (the provider's page or API) before marketplace (OpenRouter endpoints, the
      Hugging Face router) before curated (LiteLLM, genai-prices, ArtificialAnalysis, CSV imports);
   c. fresher: the listing whose price was set more recently (a list that re-priced it looked later);
   d. the newer capture (a same-day statement before one carried from an earlier day);
   e. `SOURCE_ORDER`, so the choice is deterministic.
   `chosen_because` names the first of these that separated the chosen from the runner-up.
4. Provenance: `sources` (every source pricing it), `agree` (those within `agree_rtol` or `agree_atol` of the
   chosen on input and output), `disagree` ("source:ratio", the chosen blended over theirs), `max_rel_diff`.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from llmprices.sources.base import CURATED, FIRST_PARTY, MARKETPLACE, RESALE
from llmprices.trust.config import TrustConfig
from llmprices.trust.frames import carried_forward, fmt

#: Reported `quantization` values below 16-bit weights (`bf16`, `fp16`, `fp32` and unknown are full precision).
LOW_PRECISION_QUANTIZATIONS = frozenset({"fp8", "fp6", "fp4", "int8", "int4", "awq", "gptq", "mxfp4", "nvfp4"})
KEY = ["snapshot_date", "provider", "model", "model_variant", "low_precision"]
KIND_RANK = {FIRST_PARTY: 0, MARKETPLACE: 1, CURATED: 2}
SOURCE_ORDER = ("html", "openrouter_endpoints", "huggingface", "csv", "artificialanalysis", "genai_prices", "litellm")
VIA_PREFIX = "via-"
#: What `reconcile` returns, in order.
RECONCILED_COLUMNS = [
    "snapshot_date", "model", "model_variant", "provider", "source", "provider_model_id", "variant",
    "input", "output", "blended", "quantization", "is_free", "offer_kind", "trusted", "trust_flags", "trust_reason",
    "price_since", "as_of", "n_sources", "sources", "agree", "disagree", "max_rel_diff", "chosen_because",
]  # fmt: skip


def candidates(
    flagged: pd.DataFrame, days: pd.DatetimeIndex | None = None, config: TrustConfig | None = None
) -> pd.DataFrame:
    """Steps 1 and 2: one candidate per (day, provider, model, variant, precision, source) of `flagged`
    (`flags.flag_observations`) on each of `days` a per-provider source captured (default: every such day),
    carried forward."""
    config = config or TrustConfig()
    rows = _independent(flagged)
    with_data = pd.DatetimeIndex(sorted(rows["snapshot_date"].unique()))
    days = with_data if days is None else with_data[with_data.isin(pd.DatetimeIndex(days).as_unit(with_data.unit))]
    return _one_per_source(carried_forward(rows, days, config.carry_days))


def same_day_candidates(flagged: pd.DataFrame) -> pd.DataFrame:
    """One candidate per (day, provider, model, variant, precision, source) as each source stated it that day."""
    rows = _independent(flagged)
    return _one_per_source(rows.assign(as_of=rows["snapshot_date"]))


def _independent(flagged: pd.DataFrame) -> pd.DataFrame:
    rows = flagged[flagged["offer_kind"].ne(RESALE) & flagged["model_matched"]]
    low_precision = rows["quantization"].astype("string").str.lower().isin(LOW_PRECISION_QUANTIZATIONS)
    return rows.assign(low_precision=low_precision.fillna(False))


def _one_per_source(rows: pd.DataFrame) -> pd.DataFrame:
    via = rows["variant"].str.startswith(VIA_PREFIX)
    ordered = rows.assign(_via=via).sort_values(
        ["trusted", "_via", "blended_usd_per_mtok"], ascending=[False, True, True]
    )
    return ordered.drop_duplicates([*KEY, "source"]).drop(columns="_via")


def reconcile(
    flagged: pd.DataFrame, days: pd.DatetimeIndex | None = None, config: TrustConfig | None = None
) -> pd.DataFrame:
    """Steps 1 to 4: `RECONCILED_COLUMNS`, one row per (snapshot_date, provider, model, model_variant, precision)."""
    config = config or TrustConfig()
    ranked = _ranked(candidates(flagged, days, config))
    chosen = ranked[ranked["_rank"].eq(0)].set_index(KEY)
    runner_up = ranked[ranked["_rank"].eq(1)].set_index(KEY)
    others = ranked[ranked["_rank"].gt(0)].join(
        chosen[["input_usd_per_mtok", "output_usd_per_mtok", "blended_usd_per_mtok"]].add_suffix("_chosen"), on=KEY
    )
    agrees = _agree(others, "", "_chosen", config)
    relative = np.maximum(
        np.abs(others["input_usd_per_mtok"] / others["input_usd_per_mtok_chosen"] - 1),
        np.abs(others["output_usd_per_mtok"] / others["output_usd_per_mtok_chosen"] - 1),
    ).replace(np.inf, np.nan)
    disagreeing = others[~agrees]
    ratios = (
        disagreeing["source"]
        + ":"
        + fmt(disagreeing["blended_usd_per_mtok_chosen"] / disagreeing["blended_usd_per_mtok"], "{:.3g}")
    )
    out = pd.DataFrame(
        {
            "source": chosen["source"],
            "provider_model_id": chosen["provider_model_id"],
            "variant": chosen["variant"],
            "input": chosen["input_usd_per_mtok"],
            "output": chosen["output_usd_per_mtok"],
            "blended": chosen["blended_usd_per_mtok"],
            "quantization": chosen["quantization"],
            "is_free": chosen["is_free"],
            "offer_kind": chosen["offer_kind"],
            "trusted": chosen["trusted"],
            "trust_flags": chosen["trust_flags"],
            "trust_reason": chosen["trust_reason"],
            "price_since": chosen["price_since"],
            "as_of": chosen["as_of"],
            "n_sources": chosen["_n_sources"],
            "sources": ranked.groupby(KEY)["source"].agg(",".join),
            "agree": others[agrees].groupby(KEY)["source"].agg(",".join),
            "disagree": ratios.groupby([disagreeing[k] for k in KEY]).agg(",".join),
            "max_rel_diff": relative.groupby([others[k] for k in KEY]).max(),
            "chosen_because": _chosen_because(chosen, runner_up),
        },
        index=chosen.index,
    )
    out[["agree", "disagree"]] = out[["agree", "disagree"]].fillna("")
    return out.reset_index()[RECONCILED_COLUMNS].sort_values(["snapshot_date", "provider", "model", "model_variant",
                                                             "quantization"], ignore_index=True)  # fmt: skip


def _ranked(candidates: pd.DataFrame) -> pd.DataFrame:
    """Candidates in precedence order within each key, with `_rank` (0 = chosen) and `_n_sources`."""
    ranked = candidates.assign(
        _kind=candidates["offer_kind"].map(KIND_RANK).fillna(len(KIND_RANK)),
        _fresh=candidates["price_since"],
        _as_of=candidates["as_of"],
        _order=candidates["source"].map({name: i for i, name in enumerate(SOURCE_ORDER)}).fillna(len(SOURCE_ORDER)),
    )
    ranked = ranked.sort_values(
        [*KEY, "trusted", "_kind", "_fresh", "_as_of", "_order", "source"],
        ascending=[*[True] * len(KEY), False, True, False, False, True, True],
    )
    groups = ranked.groupby(KEY, sort=False)
    return ranked.assign(_rank=groups.cumcount(), _n_sources=groups["source"].transform("size"))


def _agree(frame: pd.DataFrame, left: str, right: str, config: TrustConfig) -> np.ndarray:
    tolerance = {"rtol": config.agree_rtol, "atol": config.agree_atol}
    return np.isclose(
        frame[f"input_usd_per_mtok{left}"], frame[f"input_usd_per_mtok{right}"], **tolerance
    ) & np.isclose(frame[f"output_usd_per_mtok{left}"], frame[f"output_usd_per_mtok{right}"], **tolerance)


def _chosen_because(chosen: pd.DataFrame, runner_up: pd.DataFrame) -> pd.Series:
    """The first precedence rule that separates each chosen candidate from its runner-up."""
    why = pd.Series("only source", index=chosen.index, dtype=object)
    best, second = chosen.loc[chosen.index.isin(runner_up.index)], runner_up
    second = second.reindex(best.index)
    day = "%Y-%m-%d"
    why.loc[best.index] = np.select(
        [
            best["trusted"].ne(second["trusted"]),
            best["_kind"].ne(second["_kind"]),
            best["_fresh"].ne(second["_fresh"]),
            best["_as_of"].ne(second["_as_of"]),
        ],
        [
            "trusted over flagged (" + second["trust_flags"].astype(str) + ")",
            best["offer_kind"].astype(str) + " over " + second["offer_kind"].astype(str),
            "fresher: price set " + best["_fresh"].dt.strftime(day) + " vs " + second["_fresh"].dt.strftime(day),
            "newer capture: " + best["_as_of"].dt.strftime(day) + " vs " + second["_as_of"].dt.strftime(day),
        ],
        "source order: " + best["source"].astype(str) + " before " + second["source"].astype(str),
    )
    return why


def stated_pairs(flagged: pd.DataFrame, config: TrustConfig | None = None) -> pd.DataFrame:
    """Every (day, provider, model, variant, precision) key two sources both state that same day, one row per
    pair of sources: source_a, source_b, snapshot_date, disagree (beyond `agree_rtol`/`agree_atol` on input or
    output), abs_log10_ratio (of the blended prices). Pairs of consecutive months concatenate into a run's."""
    config = config or TrustConfig()
    columns = ["source_a", "source_b", "snapshot_date", "disagree", "abs_log10_ratio"]
    stated = same_day_candidates(flagged)[[*KEY, "source", "input_usd_per_mtok", "output_usd_per_mtok",
                                           "blended_usd_per_mtok"]]  # fmt: skip
    frames = []
    for source_a, source_b in combinations(sorted(stated["source"].unique()), 2):
        pairs = stated[stated["source"].eq(source_a)].merge(stated[stated["source"].eq(source_b)], on=KEY,
                                                            suffixes=("_a", "_b"))  # fmt: skip
        if pairs.empty:
            continue
        ratio = np.abs(np.log10(pairs["blended_usd_per_mtok_a"] / pairs["blended_usd_per_mtok_b"].replace(0, np.nan)))
        frames.append(
            pd.DataFrame(
                {
                    "source_a": source_a,
                    "source_b": source_b,
                    "snapshot_date": pairs["snapshot_date"],
                    "disagree": ~_agree(pairs, "_a", "_b", config),
                    "abs_log10_ratio": ratio,
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def disagreement_rates(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per pair of sources (`stated_pairs`): the keys both state, on how many days, the share on which they
    disagree. Columns: source_a, source_b, keys, days, disagree, disagreement_rate, median_abs_log10_ratio (of the
    blended prices, where they disagree)."""
    rows = []
    for (source_a, source_b), pair in pairs.groupby(["source_a", "source_b"], sort=True):
        disagree = pair["disagree"].astype(bool)
        median_ratio = float(pair.loc[disagree, "abs_log10_ratio"].median()) if disagree.any() else np.nan
        rows.append((source_a, source_b, len(pair), pair["snapshot_date"].nunique(), int(disagree.sum()),
                     float(disagree.mean()), median_ratio))  # fmt: skip
    columns = ["source_a", "source_b", "keys", "days", "disagree", "disagreement_rate", "median_abs_log10_ratio"]
    return pd.DataFrame(rows, columns=columns)
