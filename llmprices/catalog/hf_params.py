"""Parameter counts from the Hugging Face Hub, for models the curated table has no count for.

Two sources, in order of trust: the `safetensors` summary of the Hub's model info (exact, but absent on
some repos and several-fold too low on packed quantized repos, where one int32/uint8 element holds
2-8 weights), then a count computed from `config.json`. Only the config knows which parameters a
token actually uses, so the active count of a mixture-of-experts model always comes from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from llmprices.http import HttpClient, HttpError, PayloadTooLarge

DEFAULT_API_BASE = "https://huggingface.co/api"
API_BASE_ENV = "HF_HUB_API_BASE"
DEFAULT_FILES_BASE = "https://huggingface.co"
FILES_BASE_ENV = "HF_HUB_FILES_BASE"
#: dtypes in which one stored element packs several weights (GPTQ/AWQ int4 in I32, FP4/MXFP4 in U8)
PACKED_DTYPES = frozenset({"I32", "U32", "I16", "U16", "U8"})
#: packed elements above this share of the total mean the summary counts storage, not weights
MAX_PACKED_SHARE = 0.01


@dataclass(frozen=True)
class ParamCount:
    total: int
    active: int
    is_moe: bool


@dataclass(frozen=True)
class HubParams:
    """What the Hub says about one repo; counts in billions, None when it could not tell."""

    repo: str
    params_total_b: float | None
    params_active_b: float | None
    is_moe: bool | None
    params_source: str | None  # "hub safetensors" or "computed from config"
    license: str | None
    created: str | None  # the repo's creation date, YYYY-MM-DD
    notes: tuple[str, ...] = ()


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


def _text_config(config: dict) -> dict:
    """Vision-language configs nest the language model under `text_config`; top-level keys fill gaps."""
    return {**config, **(config.get("text_config") or {})}


def _attention_params(c: dict) -> int:
    hidden, heads = c["hidden_size"], c["num_attention_heads"]
    if c.get("kv_lora_rank"):  # DeepSeek multi-head latent attention: low-rank q and kv projections
        nope, rope, v_dim = c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"]
        q_rank, kv_rank = c.get("q_lora_rank"), c["kv_lora_rank"]
        q = hidden * q_rank + q_rank + q_rank * heads * (nope + rope) if q_rank else hidden * heads * (nope + rope)
        kv = hidden * (kv_rank + rope) + kv_rank + kv_rank * heads * (nope + v_dim)
        return q + kv + heads * v_dim * hidden
    head_dim = c.get("head_dim") or hidden // heads
    kv_heads = c.get("num_key_value_heads") or heads
    return 2 * hidden * heads * head_dim + 2 * hidden * kv_heads * head_dim


def count_params(config: dict) -> ParamCount:
    """Total and active parameters of a decoder from its config.json (gated MLPs; biases ignored).

    Covers the MoE spellings of Mixtral (`num_local_experts`), DeepSeek (`n_routed_experts`,
    `n_shared_experts`, `first_k_dense_replace`, `moe_layer_freq`) and Qwen-MoE (`num_experts`,
    `shared_expert_intermediate_size`, `decoder_sparse_step`, `mlp_only_layers`). DeepSeek's
    multi-token-prediction layers are left out, as the published counts do.
    """
    c = _text_config(config)
    hidden, layers, vocab = c["hidden_size"], c["num_hidden_layers"], c["vocab_size"]
    embeddings = vocab * hidden * (1 if c.get("tie_word_embeddings", False) else 2)
    per_layer_fixed = _attention_params(c) + 2 * hidden  # attention and its two norms
    dense_mlp = 3 * hidden * c["intermediate_size"]
    experts = c.get("num_local_experts") or c.get("n_routed_experts") or c.get("num_experts") or 0
    total = active = embeddings + hidden + layers * per_layer_fixed  # + the final norm
    if not experts:
        total += layers * dense_mlp
        return ParamCount(total, total, False)
    expert = 3 * hidden * (c.get("moe_intermediate_size") or c["intermediate_size"])
    shared = (c.get("n_shared_experts") or 0) * expert
    if c.get("shared_expert_intermediate_size"):
        shared += 3 * hidden * c["shared_expert_intermediate_size"] + hidden  # and its sigmoid gate
    router = hidden * experts
    first_dense, freq = c.get("first_k_dense_replace") or 0, c.get("moe_layer_freq") or 1
    step, mlp_only = c.get("decoder_sparse_step") or 1, set(c.get("mlp_only_layers") or ())
    moe_layers = sum(
        1 for i in range(layers) if i >= first_dense and i % freq == 0 and (i + 1) % step == 0 and i not in mlp_only
    )
    total += (layers - moe_layers) * dense_mlp + moe_layers * (experts * expert + shared + router)
    active += (layers - moe_layers) * dense_mlp + moe_layers * (c["num_experts_per_tok"] * expert + shared + router)
    return ParamCount(total, active, True)


def hub_params(repo: str, info: dict, config: dict | None, notes: tuple[str, ...] = ()) -> HubParams:
    """Combine a model-info document and a config.json (None if unavailable) into one HubParams."""
    total, refusal = safetensors_total(info)
    notes += (refusal,) if refusal else ()
    computed = count_params(config) if config else None
    source = "hub safetensors" if total else None
    if total is None and computed:
        total, source = computed.total, "computed from config"
    active = (computed.active if computed.is_moe else total) if computed else None
    card = info.get("cardData") or {}
    license_ = card.get("license") if isinstance(card.get("license"), str) else None
    created = info.get("createdAt")
    return HubParams(
        repo=repo,
        params_total_b=round(total / 1e9, 2) if total else None,
        params_active_b=round(active / 1e9, 2) if active else None,
        is_moe=computed.is_moe if computed else None,
        params_source=source,
        license=license_,
        created=created[:10] if isinstance(created, str) else None,
        notes=notes,
    )


def _get_json(http: HttpClient, url: str) -> tuple[dict | None, str | None]:
    try:
        document = json.loads(http.get(url).body)
    except (HttpError, PayloadTooLarge, ValueError) as exc:
        return None, f"GET {url} failed: {exc}"
    return (document, None) if isinstance(document, dict) else (None, f"GET {url}: not a JSON object")


def fetch_hub_params(
    http: HttpClient, repo: str, *, api_base: str = DEFAULT_API_BASE, files_base: str = DEFAULT_FILES_BASE
) -> HubParams:
    """Model info (`{api_base}/models/{repo}`) and config.json (`{files_base}/{repo}/resolve/main/config.json`).

    Failures (gated repos answer 401 for config.json, removed repos 404) become notes, not errors, so
    one bad repo does not stop a catalog refresh.
    """
    info, info_error = _get_json(http, f"{api_base.rstrip('/')}/models/{repo}")
    config, config_error = _get_json(http, f"{files_base.rstrip('/')}/{repo}/resolve/main/config.json")
    notes = tuple(error for error in (info_error, config_error) if error)
    return hub_params(repo, info or {}, config, notes)
