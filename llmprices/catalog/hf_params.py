"""Parameter counts of any open-weight repo from the Hugging Face Hub, with no curated row needed.

Two documents per repo, as the Hub serves them: the model API (`GET {api}/models/{repo}`: the
`safetensors` summary, `cardData.license`, `createdAt`, `gated`) and the raw `config.json`
(`GET {files}/{repo}/resolve/main/config.json`). The safetensors total is the truth about what the
checkpoint holds, but is absent on some repos and several-fold too low on packed quantized ones (one
int32/uint8 element holds 2-8 weights). Only the config (`config_count`) says which weights a token uses
and what the checkpoint holds besides the language model, so:

    total   = safetensors total - MTP heads (when the checkpoint holds them)
    active  = total - routed experts a token does not use - vision/audio towers
    vision  = the towers (`params_vision_b`), counted apart

and without a usable summary every figure comes from the config (`params_source = "computed from config"`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from llmprices.catalog.config_count import ConfigCount, count_config
from llmprices.http import HttpClient, HttpError, PayloadTooLarge

DEFAULT_API_BASE = "https://huggingface.co/api"
API_BASE_ENV = "HF_HUB_API_BASE"
DEFAULT_FILES_BASE = "https://huggingface.co"
FILES_BASE_ENV = "HF_HUB_FILES_BASE"
#: dtypes in which one stored element packs several weights (GPTQ/AWQ int4 in I32, FP4/MXFP4 in U8)
PACKED_DTYPES = frozenset({"I32", "U32", "I16", "U16", "U8"})
#: packed elements above this share of the total mean the summary counts storage, not weights
MAX_PACKED_SHARE = 0.01
#: a config count this far from the safetensors total gets a note: the config or its reading is off
DIFFERS_BEYOND = 0.05


@dataclass(frozen=True)
class HubParams:
    """What the Hub says about one repo; counts in billions, None where it could not tell."""

    repo: str
    params_total_b: float | None  # the whole checkpoint without MTP heads: language model + towers
    params_active_b: float | None  # per text token: the language model with the experts a token uses
    is_moe: bool | None
    params_source: str | None  # "hub safetensors" or "computed from config"
    license: str | None = None
    created: str | None = None  # the repo's creation date, YYYY-MM-DD
    params_vision_b: float | None = None  # vision/audio towers inside the total (0 for text-only models)
    params_effective_b: float | None = None  # Gemma 3n's effective size; None elsewhere
    architecture: str | None = None  # the counting rule of `config_count` used
    gated: bool | None = None
    notes: tuple[str, ...] = ()
    #: whether the Hub answered at all (an HTTP status, even a 404) for either document
    answered: bool = True


def safetensors_total(info: dict) -> tuple[int | None, str | None]:
    """(total, None), or (None, why) when the summary is missing or counts packed quantized storage."""
    block = info.get("safetensors")
    if not isinstance(block, dict) or not block.get("parameters"):
        return None, "no safetensors summary"
    by_dtype = {dtype.upper(): int(n) for dtype, n in block["parameters"].items()}
    total = int(block.get("total") or sum(by_dtype.values()))
    packed = sum(n for dtype, n in by_dtype.items() if dtype in PACKED_DTYPES)
    if total <= 0 or packed > MAX_PACKED_SHARE * total:
        return None, f"safetensors summary refused: packed quantized dtypes {sorted(set(by_dtype) & PACKED_DTYPES)}"
    return total, None


def _billions(n: int | None) -> float | None:
    return None if n is None else round(n / 1e9, 2)


def _split_stored(stored: int, counted: ConfigCount, config: dict) -> tuple[int, int, int, tuple[str, ...]]:
    """(total, active, towers, notes) of a checkpoint holding `stored` parameters, split by the config's count.

    The checkpoint may hold MTP heads the published counts leave out: the layout (none, the heads, the heads
    with their own embedding copies) that best explains `stored` is taken out. Towers no rule counts (Gemma
    3n's MobileNet and audio encoder) are what the stored total holds beyond the counted language model."""
    notes: tuple[str, ...] = ()
    layouts = [0, counted.mtp, *counted.mtp_alternatives] if counted.mtp else [0]
    mtp = min(layouts, key=lambda m: abs(stored - m - counted.total))
    total = stored - mtp
    if mtp:
        notes += (f"MTP heads ({_billions(mtp)}B) left out of the total",)
    towers = counted.vision
    has_towers = any(isinstance(config.get(key), dict) for key in ("vision_config", "audio_config"))
    if has_towers and not towers and total > counted.language_total:
        towers = total - counted.language_total
        notes += ("vision/audio towers = safetensors total minus the counted language model",)
    gap = (total - counted.language_total - towers) / total
    if abs(gap) > DIFFERS_BEYOND:
        notes += (f"config count {_billions(counted.total)}B differs from safetensors by {gap:+.1%}",)
    return total, total - counted.inactive_experts - towers, towers, notes


def hub_params(repo: str, info: dict, config: dict | None, notes: tuple[str, ...] = ()) -> HubParams:
    """Combine a model-info document and a config.json (None if unavailable) into one HubParams: the
    safetensors total split by the config's count, else every figure from the config."""
    stored, refusal = safetensors_total(info)
    notes += (refusal,) if refusal else ()
    counted = None
    if config:
        try:
            counted = count_config(config)
        except (KeyError, TypeError, ZeroDivisionError) as exc:
            notes += (f"config not counted: {type(exc).__name__} {exc}",)
    total = active = towers = source = None
    if stored:
        total, source = stored, "hub safetensors"
        if counted:
            total, active, towers, split_notes = _split_stored(stored, counted, config)
            notes += split_notes
    elif counted:
        total, active, towers, source = counted.total, counted.language_active, counted.vision, "computed from config"
    card = info.get("cardData") or {}
    created = info.get("createdAt")
    return HubParams(
        repo=repo,
        params_total_b=_billions(total),
        params_active_b=_billions(active),
        is_moe=counted.is_moe if counted else None,
        params_source=source,
        license=card.get("license") if isinstance(card.get("license"), str) else None,
        created=created[:10] if isinstance(created, str) else None,
        params_vision_b=_billions(towers),
        params_effective_b=_billions(counted.effective) if counted else None,
        architecture=counted.architecture if counted else None,
        gated=bool(info["gated"]) if "gated" in info else None,
        notes=notes,
    )


def _get_json(http: HttpClient, url: str) -> tuple[dict | None, str | None, bool]:
    """(document, None, True), or (None, why, whether the server answered at all)."""
    try:
        document = json.loads(http.get(url).body)
    except HttpError as exc:
        return None, f"GET {url} failed: {exc}", exc.status is not None
    except (PayloadTooLarge, ValueError) as exc:
        return None, f"GET {url} failed: {exc}", True
    return (document, None, True) if isinstance(document, dict) else (None, f"GET {url}: not a JSON object", True)


def fetch_hub_params(
    http: HttpClient, repo: str, *, api_base: str = DEFAULT_API_BASE, files_base: str = DEFAULT_FILES_BASE
) -> HubParams:
    """Model info (`{api_base}/models/{repo}`) and config.json (`{files_base}/{repo}/resolve/main/config.json`).

    Failures (gated repos answer 401 for config.json, removed repos 404) become notes, not errors, so
    one bad repo does not stop a catalog refresh.
    """
    info, info_error, info_answered = _get_json(http, f"{api_base.rstrip('/')}/models/{repo}")
    config, config_error, config_answered = _get_json(http, f"{files_base.rstrip('/')}/{repo}/resolve/main/config.json")
    notes = tuple(error for error in (info_error, config_error) if error)
    return replace(hub_params(repo, info or {}, config, notes), answered=info_answered or config_answered)
