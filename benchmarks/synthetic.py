"""Synthetic but realistic OpenRouter days at `scale` times today's load, for `benchmarks/bench_scale.py`.

Everything is derived from the shared captures (`openrouter-models/`), with a fixed seed:

- **models**: every record of the newest capture, cloned `scale` times. Clone 0 is the record itself; clone J
  is `author-sJ/slug-sJ`, so the authors (the model providers of OpenRouter's `/models`) grow with the models.
  A clone's prices are the original's times a log-normal factor (sigma 0.25), at 3 significant digits per
  million tokens; free (`0`) and variable (`-1`) prices stay as they are, as do context lengths and the rest
  of the record (description, architecture, pricing keys...), so payloads weigh what real ones do.
- **serving providers** (`/models/{id}/endpoints`): the shared history has no endpoints, only one sample
  (`samples/openrouter_endpoints_kimi-k3.json`: 14 endpoints, a provider listed twice as `tag` and
  `tag/fast`, `fp4` and `unknown` quantizations). Each open-weight model (one with a `hugging_face_id`, as
  `openrouter_endpoints` fetches them) gets 1 + Poisson(2.5) endpoints (at most 14) among `SERVING_PROVIDERS`
  (the companies the sample and OpenRouter's provider list name), cloned per model clone like the authors;
  the first at the model's price, the others up to ~2x above it, as in the sample; 5% also list a `/fast` tier.
- **a year of days**: each day, as many models change price, appear and disappear as the shared history's
  daily rates say (`Rates.measure`: the mean over its last days); endpoints change price at the same rate.

`payloads` renders a day in the real formats (one `/models` page, one endpoints document per open-weight
model), for the ingest. `observations` writes a day straight as the lake's rows, as the parser and
normalizer would (the parser is what the ingest step measures; running it on 365 days at 100x would take
the benchmark an hour): one difference, clones are matched to clones of their original's catalog entry
(`catalog`: today's curated catalog, `scale` times), so spreads and trends at 100x have 100x the models to
fit, where the real matcher, knowing only today's catalog, leaves clones unmatched.
"""

from __future__ import annotations

import copy
import gzip
import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from llmprices.catalog.catalog import load_curated
from llmprices.catalog.matcher import resolve
from llmprices.lake.tables import OBSERVATIONS, blended_usd_per_mtok
from llmprices.payloads import RawPayload
from llmprices.sources.base import MARKETPLACE, RESALE

SEED = 20260101
#: OpenRouter slugs of serving companies (the kimi-k3 sample's and OpenRouter's provider list).
SERVING_PROVIDERS = (
    "fireworks", "alibaba", "morph", "together", "deepinfra", "novita", "groq", "cerebras", "sambanova",
    "hyperbolic", "nebius", "lambda", "parasail", "baseten", "chutes", "siliconflow", "atlas-cloud", "gmicloud",
    "nscale", "friendli", "mistral", "google-vertex", "aws-bedrock", "azure", "cloudflare", "crusoe", "inference-net",
    "ncompass", "phala", "targon",
)  # fmt: skip
QUANTIZATIONS = ("unknown", "fp8", "bf16", "fp16", "fp4", "int4")
QUANTIZATION_SHARES = (0.45, 0.25, 0.15, 0.05, 0.05, 0.05)
MAX_ENDPOINTS = 14
SOURCES = ("openrouter", "openrouter_endpoints")


@dataclass(frozen=True)
class Rates:
    """Per day, as a share of the models listed: price changes, new models, models gone."""

    changed: float
    new: float
    gone: float

    @classmethod
    def measure(cls, captures: list[Path]) -> Rates:
        """The mean daily rates over consecutive `captures` (sorted `openrouter-models/` files)."""
        changed, new, gone, previous = [], [], [], None
        for path in captures:
            current = {m["id"]: _price_key(m) for m in _records(path)}
            if previous:
                both = current.keys() & previous.keys()
                changed.append(sum(current[k] != previous[k] for k in both) / len(both))
                new.append(len(current.keys() - previous.keys()) / len(previous))
                gone.append(len(previous.keys() - current.keys()) / len(previous))
            previous = current
        return cls(float(np.mean(changed)), float(np.mean(new)), float(np.mean(gone)))


def _price_key(record: dict) -> tuple:
    pricing = record.get("pricing") or {}
    return pricing.get("prompt"), pricing.get("completion")


def _records(path: Path) -> list[dict]:
    return json.loads(gzip.decompress(path.read_bytes()))["data"]


@dataclass
class Market:
    """OpenRouter on one day at some scale: its models and the endpoints of its open-weight models."""

    templates: list[dict]  # the newest capture's records, what every model is rendered from
    models: pd.DataFrame  # id, template, clone, author, hf, canonical, model_variant, matched, input, output
    endpoints: pd.DataFrame  # model_id, provider, tag, input, output, quantization, uptime, latency, throughput
    scale: int
    next_new: int = 0  # counter of the ids of models that appear


def newest_capture(shared: Path) -> Path:
    return sorted((shared / "openrouter-models").glob("*.json.gz"))[-1]


def market(shared: Path, scale: int, seed: int = SEED) -> Market:
    """The newest capture's models and their endpoints, `scale` times."""
    templates = _records(newest_capture(shared))
    rng = np.random.default_rng(seed)
    rows = []
    for clone in range(scale):
        for index, record in enumerate(templates):
            author, _, slug = record["id"].partition("/")
            model_id = record["id"] if clone == 0 else f"{author}-s{clone}/{slug}-s{clone}"
            rows.append((model_id, index, clone, author if clone == 0 else f"{author}-s{clone}"))
    models = pd.DataFrame(rows, columns=["id", "template", "clone", "author"])
    originals = [_original(record) for record in templates]
    for column in ("hf", "canonical", "model_variant", "matched", "input", "output", "context"):
        models[column] = [originals[t][column] for t in models["template"]]
    suffix = np.where(models["clone"] > 0, "-s" + models["clone"].astype(str), "")
    unmatched = np.where(models["clone"] > 0, models["id"], models["canonical"])  # the normalized id stands in
    models["canonical"] = np.where(models["matched"], models["canonical"] + suffix, unmatched)
    factor = np.where(models["clone"] > 0, rng.lognormal(0.0, 0.25, len(models)), 1.0)
    for side in ("input", "output"):
        models[side] = _rounded(models[side].to_numpy() * factor, keep=models[side].to_numpy())
    return Market(templates, models, _endpoints(models, rng), scale)


def _original(record: dict) -> dict:
    match = resolve(record["id"], provider="openrouter", hint=record.get("hugging_face_id") or None)
    pricing = record.get("pricing") or {}
    return {
        "hf": record.get("hugging_face_id") or None,
        "canonical": match.model or match.normalized,
        "model_variant": match.model_variant,
        "matched": match.model is not None,
        "input": _per_mtok(pricing.get("prompt")),
        "output": _per_mtok(pricing.get("completion")),
        "context": record.get("context_length") if isinstance(record.get("context_length"), int) else None,
    }


def _per_mtok(value: object) -> float:
    """USD per million tokens of a per-token price string; NaN for a variable (`-1`) or missing one."""
    try:
        price = Decimal(str(value)) * 10**6
    except ArithmeticError:
        return math.nan
    return math.nan if price < 0 else float(price)


def _rounded(prices: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """3 significant digits, as providers price; 0 and NaN (variable) kept."""
    out = prices.copy()
    priced = np.isfinite(prices) & (prices > 0)
    digits = 2 - np.floor(np.log10(prices[priced]))
    out[priced] = np.round(prices[priced] * 10**digits) / 10**digits
    out[~priced] = keep[~priced]
    return out


def _endpoints(models: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    served = models[models["hf"].notna() & models["input"].notna() & models["output"].notna()]
    counts = np.minimum(1 + rng.poisson(2.5, len(served)), MAX_ENDPOINTS)
    model_ids = np.repeat(served["id"].to_numpy(), counts)
    clones = np.repeat(served["clone"].to_numpy(), counts)
    first = np.zeros(len(model_ids), dtype=bool)
    first[np.cumsum(counts) - counts] = True
    shuffled = np.argsort(rng.random((len(served), len(SERVING_PROVIDERS))), axis=1)  # per row, providers shuffled
    picks = shuffled[np.arange(len(SERVING_PROVIDERS)) < counts[:, None]]  # the first `count` of each row
    slugs = np.asarray(SERVING_PROVIDERS)[picks]
    slugs = np.where(clones > 0, np.char.add(np.char.add(slugs.astype(str), "-s"), clones.astype(str)), slugs)
    markup = np.where(first, 1.0, np.exp(np.abs(rng.normal(0.0, 0.35, len(model_ids)))))
    frame = pd.DataFrame({"model_id": model_ids, "provider": slugs, "tag": slugs})
    for side in ("input", "output"):
        base = np.repeat(served[side].to_numpy(), counts)
        frame[side] = _rounded(base * markup, keep=base)
    frame["quantization"] = rng.choice(QUANTIZATIONS, len(frame), p=QUANTIZATION_SHARES)
    frame["uptime"] = np.round(100 - rng.exponential(1.5, len(frame)).clip(0, 40), 3)
    frame["latency"] = np.round(rng.lognormal(7.0, 0.8, len(frame)))
    frame["throughput"] = np.round(rng.lognormal(3.7, 0.6, len(frame)))
    fast = frame[rng.random(len(frame)) < 0.05].copy()
    fast["tag"] = fast["provider"] + "/fast"
    for side in ("input", "output"):
        fast[side] = _rounded(fast[side].to_numpy() * 1.5, keep=fast[side].to_numpy())
    return pd.concat([frame, fast], ignore_index=True).sort_values(["model_id", "tag"], ignore_index=True)


def next_day(previous: Market, rates: Rates, rng: np.random.Generator) -> Market:
    """The day after: some prices move (mostly down), some models appear (clones of random originals, with their
    endpoints), some disappear (with theirs)."""
    models, endpoints = previous.models.copy(), previous.endpoints.copy()
    for frame in (models, endpoints):
        moved = rng.random(len(frame)) < rates.changed
        factor = rng.lognormal(-0.1, 0.3, moved.sum())
        for side in ("input", "output"):
            before = frame.loc[moved, side].to_numpy()
            frame.loc[moved, side] = _rounded(before * factor, keep=before)
    gone = rng.random(len(models)) < rates.gone
    endpoints = endpoints[~endpoints["model_id"].isin(models.loc[gone, "id"])]
    models = models[~gone]
    born = models.sample(n=min(rng.poisson(rates.new * len(models)), len(models)), random_state=rng).copy()
    counter = previous.next_new + np.arange(len(born))
    born["id"] = born["author"] + "/" + born["id"].str.split("/").str[1] + "-n" + counter.astype(str)
    born["canonical"], born["matched"] = born["id"], False  # new models are unknown to the catalog at first
    models = pd.concat([models, born], ignore_index=True)
    endpoints = pd.concat([endpoints, _endpoints(born, rng)], ignore_index=True)
    return Market(previous.templates, models, endpoints, previous.scale, previous.next_new + len(born))


def catalog(scale: int) -> pd.DataFrame:
    """The curated catalog and, per clone J, a copy of each entry named `model-sJ` (the same sizes)."""
    curated = load_curated()
    clones = [curated.assign(model=curated["model"] + f"-s{clone}") for clone in range(1, scale)]
    return pd.concat([curated, *clones], ignore_index=True)


# -- the day as payloads -------------------------------------------------------------------------------------
@cache
def _per_token(per_mtok: float) -> str:
    """USD per million tokens back to OpenRouter's per-token string (`0.15` -> `0.00000015`); NaN is `-1`."""
    if math.isnan(per_mtok):
        return "-1"
    return format((Decimal(repr(per_mtok)) / 10**6).normalize(), "f")


def payloads(day_market: Market, day: date) -> dict[str, list[RawPayload]]:
    """The day as OpenRouter serves it: `/models` (source `openrouter`), and it plus an endpoints document per
    open-weight model (source `openrouter_endpoints`)."""
    fetched_at = datetime.combine(day, time(12), UTC)
    records = []
    for row, hint in zip(day_market.models.itertuples(index=False), _hints(day_market.models), strict=True):
        record = copy.copy(day_market.templates[row.template])
        record["id"], record["canonical_slug"] = row.id, f"{row.id}-{day:%Y%m%d}"
        record["name"] = f"{record.get('name', row.id)} {row.clone}" if row.clone else record.get("name", row.id)
        record["hugging_face_id"] = hint
        record["pricing"] = dict(record.get("pricing") or {}) | {
            "prompt": _per_token(row.input), "completion": _per_token(row.output)
        }
        records.append(record)
    base = "https://openrouter.ai/api/v1"
    models = RawPayload("models.json", f"{base}/models", 200, fetched_at, json.dumps({"data": records}).encode())
    documents, contexts = [], dict(zip(day_market.models["id"], day_market.models["context"], strict=True))
    for model_id, group in day_market.endpoints.groupby("model_id", sort=True):
        context = contexts[model_id]
        endpoints = [
            {
                "name": f"{row.provider} | {model_id}", "model_id": model_id, "model_name": model_id,
                "context_length": None if pd.isna(context) else int(context), "provider_name": row.provider,
                "tag": row.tag,
                "pricing": {"prompt": _per_token(row.input), "completion": _per_token(row.output), "discount": 0},
                "quantization": row.quantization, "status": 0, "uptime_last_30m": row.uptime,
                "latency_last_30m": {"p50": row.latency}, "throughput_last_30m": {"p50": row.throughput},
            }
            for row in group.itertuples(index=False)
        ]  # fmt: skip
        body = json.dumps({"data": {"id": model_id, "name": model_id, "endpoints": endpoints}}).encode()
        documents.append(RawPayload(f"endpoints/{model_id}.json", f"{base}/models/{model_id}/endpoints", 200,
                                    fetched_at, body))  # fmt: skip
    return {"openrouter": [models], "openrouter_endpoints": [models, *documents]}


# -- the day as lake rows ------------------------------------------------------------------------------------
def observations(day_market: Market, day: date) -> dict[str, pa.Table]:
    """The day's `observations/` rows per source, as the parser and normalizer make them (see the docstring)."""
    observed_at = datetime.combine(day, time(12), UTC)
    sha = f"synthetic-{day}"
    models = day_market.models[day_market.models["input"].notna() & day_market.models["output"].notna()]
    listed = pd.DataFrame(
        {
            "provider": "openrouter", "provider_model_id": models["id"], "variant": "", "model": models["canonical"],
            "model_variant": models["model_variant"], "model_matched": models["matched"].astype(bool),
            "input_usd_per_mtok": models["input"], "output_usd_per_mtok": models["output"],
            "context_length": models["context"],
            "quantization": None, "is_free": models["id"].str.endswith(":free") | ((models["input"] == 0)
                                                                                   & (models["output"] == 0)),
            "latency_ms": np.nan, "throughput_tps": np.nan, "uptime_pct": np.nan,
        }
    )  # fmt: skip
    ends = day_market.endpoints.merge(
        day_market.models[["id", "canonical", "model_variant", "matched", "context"]], left_on="model_id",
        right_on="id",
    )
    served = pd.DataFrame(
        {
            "provider": ends["provider"], "provider_model_id": ends["model_id"],
            "variant": ends["tag"].str.partition("/")[2], "model": ends["canonical"],
            "model_variant": ends["model_variant"], "model_matched": ends["matched"].astype(bool),
            "input_usd_per_mtok": ends["input"], "output_usd_per_mtok": ends["output"],
            "context_length": ends["context"],
            "quantization": ends["quantization"].where(ends["quantization"] != "unknown", None),
            "is_free": (ends["input"] == 0) & (ends["output"] == 0), "latency_ms": ends["latency"],
            "throughput_tps": ends["throughput"], "uptime_pct": ends["uptime"],
        }
    )  # fmt: skip
    hints = dict(zip(day_market.models["id"], _hints(day_market.models), strict=True))
    listed["model_hint"] = listed["provider_model_id"].map(hints)
    served["model_hint"] = served["provider_model_id"].map(hints)
    offers = (RESALE, MARKETPLACE)  # OpenRouter's own list is a router's resale; its endpoints are listings
    return {
        source: _table(frame.assign(offer_kind=offer), observed_at, sha)
        for source, frame, offer in zip(SOURCES, (listed, served), offers, strict=True)
    }


def _hints(models: pd.DataFrame) -> list[str | None]:
    """Each model's `hugging_face_id` as its payload names it (a clone's with the clone's suffix)."""
    return [
        (f"{hf}-s{clone}" if clone else hf) if isinstance(hf, str) else None
        for hf, clone in zip(models["hf"], models["clone"], strict=True)
    ]


def _table(frame: pd.DataFrame, observed_at: datetime, sha: str) -> pa.Table:
    frame = frame.assign(
        observed_at=observed_at, price_is_tiered=False, cache_read_usd_per_mtok=np.nan, raw_sha256=sha,
        blended_usd_per_mtok=blended_usd_per_mtok(frame["input_usd_per_mtok"], frame["output_usd_per_mtok"]),
    )  # fmt: skip
    for column in ("model_variant", "model_hint"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    for column in set(OBSERVATIONS.schema.names) - set(frame.columns):  # what a capture does not state: null
        frame[column] = None
    return pa.Table.from_pandas(frame[OBSERVATIONS.schema.names], schema=OBSERVATIONS.schema, preserve_index=False)
