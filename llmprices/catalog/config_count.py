"""Parameter counts from a model's `config.json`: total, active per token, and what the checkpoint holds apart.

Only the config says which weights one token uses and how a checkpoint splits into the language model,
vision/audio towers and multi-token-prediction (MTP) heads, so the Hub's safetensors total (`hf_params`)
is split with these counts. `count_config` covers these families (model_type), layer by layer:

- llama, mistral, qwen2/3, gemma, ... (`generic`): GQA attention (head_dim, Qwen3's q/k norms), gated MLP;
  with Mixtral / Qwen-MoE / OLMoE / DeepSeek / GLM / MiniMax experts (routed, shared, `first_k_dense_replace`,
  `decoder_sparse_step`, `mlp_only_layers`, DeepSeek's MLA attention) and MTP heads counted apart;
- llama4: MoE every `interleave_moe_layer_step`-th layer (routed + shared expert), else a dense MLP;
- gpt_oss: attention with biases and sinks, experts with biases;
- nemotron_h (Nemotron Nano v2, Nemotron 3): one block per layer from `hybrid_override_pattern` or
  `layers_block_type` (Mamba-2, attention, relu2 MLP, or MoE with latent experts `moe_latent_size`);
- granitemoehybrid (Granite 4.0-H): Mamba-2 or attention (`layer_types`), a shared MLP, experts if any;
- jamba: attention every `attn_layer_period`-th layer else Mamba-1, experts every `expert_layer_period`-th;
- falcon_h1: attention and Mamba-2 in parallel in every layer;
- qwen3_next, qwen3_5: gated attention every `full_attention_interval`-th layer, else Gated DeltaNet;
- gemma3n: per-layer widths, per-layer embeddings (PLE), AltUp, LAuReL;
- vision-language configs (`text_config` / `llm_config` + `vision_config`): the language model as above,
  the ViT tower and its projector counted apart.

"Active" includes both embedding matrices, as Qwen, DeepSeek and Llama 4 publish it (`embedding_input` is
kept so that OpenAI's convention, without the input table, can be derived), and never the vision tower.
Biases and norms are counted where a family has them in quantity (gpt-oss, vision towers); small per-layer
vectors elsewhere are left out (< 0.01%).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class ConfigCount:
    """What config.json says, in parameters (not billions)."""

    architecture: str  # the counting rule used
    language_total: int  # the language model without MTP heads, embeddings included
    vision: int = 0  # vision and audio towers with their projectors
    mtp: int = 0  # multi-token-prediction heads (DeepSeek V3, GLM-4.5, Nemotron 3), not in published counts
    inactive_experts: int = 0  # routed expert weights a token does not use
    embedding_input: int = 0  # the input embedding table (a lookup: some publishers leave it out of "active")
    per_layer_embeddings: int = 0  # Gemma 3n PLE tables
    mtp_alternatives: list[int] = field(default_factory=list)  # other layouts of the MTP heads in a checkpoint
    is_moe: bool = False

    @property
    def language_active(self) -> int:
        """Per token: every weight but the routed experts a token does not use (shared experts included)."""
        return self.language_total - self.inactive_experts

    @property
    def total(self) -> int:
        return self.language_total + self.vision

    @property
    def effective(self) -> int | None:
        """Gemma 3n's "effective" size: the transformer blocks without embeddings and PLE."""
        if not self.per_layer_embeddings:
            return None
        return self.language_total - self.per_layer_embeddings - self.embedding_input


def _get(c: dict, *names, default=None):
    for name in names:
        if c.get(name) is not None:
            return c[name]
    return default


def _language_config(config: dict) -> dict:
    """Vision-language configs nest the language model; top-level keys fill its gaps."""
    inner = _get(config, "text_config", "llm_config", "language_config", "thinker_config") or {}
    if "text_config" in inner:  # Qwen-Omni style thinker -> text_config
        inner = {**inner, **inner["text_config"]}
    top = {k: v for k, v in config.items() if k not in ("vision_config", "audio_config")}
    return {**top, **inner}


def _head_dim(c: dict) -> int:
    return _get(c, "head_dim", "attention_head_dim") or c["hidden_size"] // c["num_attention_heads"]


def _attention(c: dict, *, output_gate: bool = False, biases: bool = False, sinks: bool = False) -> int:
    hidden, heads = c["hidden_size"], c["num_attention_heads"]
    if c.get("kv_lora_rank"):  # DeepSeek multi-head latent attention: low-rank q and kv projections
        nope, rope, v_dim = c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"]
        q_rank, kv_rank = c.get("q_lora_rank"), c["kv_lora_rank"]
        q = hidden * q_rank + q_rank + q_rank * heads * (nope + rope) if q_rank else hidden * heads * (nope + rope)
        kv = hidden * (kv_rank + rope) + kv_rank + kv_rank * heads * (nope + v_dim)
        return q + kv + heads * v_dim * hidden
    head_dim = _head_dim(c)
    kv_heads = _get(c, "num_key_value_heads", default=heads)
    q_out = heads * head_dim * (2 if output_gate else 1)
    params = hidden * q_out + 2 * hidden * kv_heads * head_dim + heads * head_dim * hidden
    if biases or c.get("attention_bias"):
        params += q_out + 2 * kv_heads * head_dim + (hidden if biases else 0)
    if sinks:
        params += heads
    return params


def _mlp(hidden: int, inner: int, *, gated: bool = True) -> int:
    return (3 if gated else 2) * hidden * inner


def _gated(c: dict) -> bool:
    act = str(_get(c, "mlp_hidden_act", "hidden_act", "hidden_activation", default="silu")).lower()
    return act not in ("relu2", "gelu_new_non_gated", "squared_relu")


def _mamba2(c: dict) -> int:
    """Mamba-2 mixer: in_proj (z, x, B, C, dt), depthwise conv, A/D/dt_bias, gated norm, out_proj."""
    hidden = c["hidden_size"]
    heads = _get(c, "mamba_num_heads", "mamba_n_heads")
    head_dim = _get(c, "mamba_head_dim", "mamba_d_head")
    inner = _get(c, "mamba_d_ssm") or (heads * head_dim if heads and head_dim else None)
    inner = inner or _get(c, "mamba_expand", default=2) * hidden
    heads = heads or inner // head_dim
    groups = _get(c, "n_groups", "mamba_n_groups", "mamba_num_groups", default=1)
    state = _get(c, "ssm_state_size", "mamba_d_state", "mamba_state_size", default=128)
    kernel = _get(c, "conv_kernel", "mamba_d_conv", default=4)
    conv_dim = inner + 2 * groups * state
    in_proj = hidden * (inner + conv_dim + heads)
    return in_proj + conv_dim * kernel + conv_dim + 3 * heads + inner + inner * hidden


def _mamba1(c: dict) -> int:
    """Mamba-1 mixer (Jamba): in_proj (x, z), conv, x_proj (dt, B, C), dt_proj, A, D, out_proj."""
    hidden = c["hidden_size"]
    inner = _get(c, "mamba_expand", default=2) * hidden
    state = _get(c, "mamba_d_state", default=16)
    kernel = _get(c, "mamba_d_conv", default=4)
    rank = c.get("mamba_dt_rank", "auto")
    rank = math.ceil(hidden / 16) if rank == "auto" else rank
    return (
        hidden * 2 * inner
        + inner * kernel + inner
        + inner * (rank + 2 * state)
        + rank * inner + inner
        + inner * state + inner
        + inner * hidden
        + rank + 2 * state  # Jamba's dt/B/C layernorms
    )  # fmt: skip


def _gated_deltanet(c: dict) -> int:
    """Qwen3-Next / Qwen3.5 linear attention: in_proj_qkvz, in_proj_ba, conv, A/dt, norm, out_proj."""
    hidden = c["hidden_size"]
    k_heads, v_heads = c["linear_num_key_heads"], c["linear_num_value_heads"]
    key_dim, value_dim = k_heads * c["linear_key_head_dim"], v_heads * c["linear_value_head_dim"]
    conv_dim = 2 * key_dim + value_dim
    return (
        hidden * (2 * key_dim + 2 * value_dim)
        + hidden * 2 * v_heads
        + conv_dim * c.get("linear_conv_kernel_dim", 4)
        + 2 * v_heads
        + c["linear_value_head_dim"]
        + value_dim * hidden
    )


@dataclass(frozen=True)
class _Moe:
    """One mixture-of-experts feed-forward layer."""

    experts: int
    top_k: int
    expert: int  # one routed expert
    always: int  # used by every token: shared experts, router, latent projections

    @property
    def total(self) -> int:
        return self.experts * self.expert + self.always

    @property
    def inactive(self) -> int:
        return (self.experts - self.top_k) * self.expert


def _moe(c: dict, *, gated: bool | None = None, biases: bool = False) -> _Moe | None:
    experts = _get(c, "num_local_experts", "n_routed_experts", "num_experts", "moe_num_experts") or 0
    if not experts:
        return None
    hidden = c["hidden_size"]
    gated = _gated(c) if gated is None else gated
    inner = _get(c, "moe_intermediate_size", "expert_intermediate_size") or c["intermediate_size"]
    latent = c.get("moe_latent_size")
    expert = _mlp(latent or hidden, inner, gated=gated) + ((2 * inner + hidden) if biases else 0)
    shared_inner = _get(c, "moe_shared_expert_intermediate_size", "shared_expert_intermediate_size")
    shared = 0
    if shared_inner:  # Qwen-MoE (with a sigmoid gate), Nemotron 3
        shared = _mlp(hidden, shared_inner, gated=gated) + (hidden if c.get("shared_expert_intermediate_size") else 0)
    elif _get(c, "n_shared_experts", "num_shared_experts"):  # DeepSeek / GLM / AFMoE: n routed-expert copies
        shared = _get(c, "n_shared_experts", "num_shared_experts") * _mlp(hidden, inner, gated=gated)
    router = hidden * experts + (experts if biases or c.get("n_group") or latent else 0)
    projections = 2 * hidden * latent if latent else 0
    top_k = _get(c, "num_experts_per_tok", "experts_per_token", "moe_topk", "num_experts_per_token")
    return _Moe(experts, top_k, expert, shared + router + projections)


def _embeddings(c: dict) -> tuple[int, int]:
    """(input table, output head) parameter counts."""
    table = c["vocab_size"] * c["hidden_size"]
    return table, 0 if c.get("tie_word_embeddings", False) else table


def _vision(config: dict, text_hidden: int) -> int:
    """A ViT-style tower and its projector, from `vision_config` (approximate: +-5% of the tower)."""
    v = config.get("vision_config")
    if not isinstance(v, dict) or not v:
        return 0
    hidden = _get(v, "hidden_size", "embed_dim", "width")
    layers = _get(v, "num_hidden_layers", "depth", "layers")
    if not hidden or not layers:
        return 0
    inner = _get(v, "intermediate_size") or int(_get(v, "mlp_ratio", default=4) * hidden)
    model_type = str(v.get("model_type") or config.get("model_type") or "")
    gated = model_type.startswith("qwen2_5_vl") or v.get("hidden_act") == "silu"
    per_layer = 4 * hidden * hidden + 4 * hidden + _mlp(hidden, inner, gated=gated) + inner + hidden + 4 * hidden
    patch = _get(v, "patch_size", default=14)
    channels = _get(v, "in_channels", "in_chans", "num_channels", default=3)
    tower = layers * per_layer + channels * patch * patch * _get(v, "temporal_patch_size", default=1) * hidden
    if v.get("out_hidden_size"):  # Qwen2-VL/2.5-VL/3-VL merger: 2x2 patches -> MLP -> LM width
        merged = hidden * _get(v, "spatial_merge_size", default=2) ** 2
        tower += merged * merged + merged * v["out_hidden_size"]
    elif v.get("vision_output_dim") or v.get("projector_output_dim"):  # Llama 4 pixel-shuffle adapter
        shuffled = int(hidden / (v.get("pixel_shuffle_ratio", 0.5) ** 2))
        out = v.get("projector_output_dim") or v["vision_output_dim"]
        tower += shuffled * v.get("projector_input_dim", out) + v.get("projector_input_dim", out) * out
        tower += out * text_hidden  # multi_modal_projector
    else:  # LLaVA-style two-layer projector
        tower += hidden * text_hidden + text_hidden * text_hidden
    return tower


# -- per family: each adds its layers to `count` -----------------------------------------------------------
_NEMOTRON_SYMBOLS = {"M": "mamba", "*": "attention", "-": "mlp", "E": "moe"}
_NEMOTRON_NAMES = {"linear_attention": "mamba", "full_attention": "attention"}


def _nemotron_kinds(pattern: str | None, names: list[str] | None) -> list[str]:
    if names:
        return [_NEMOTRON_NAMES.get(kind, kind) for kind in names]
    return [_NEMOTRON_SYMBOLS[symbol] for symbol in pattern or ""]


def _nemotron_h(c: dict, count: ConfigCount) -> None:
    """One block per layer (Mamba-2, attention, relu2 MLP or MoE), each with one norm."""
    hidden = c["hidden_size"]
    moe = _moe(c, gated=False)

    def block(kind: str) -> tuple[int, int]:  # (total, inactive experts)
        if kind == "moe":
            return moe.total + hidden, moe.inactive
        if kind == "mamba":
            params = _mamba2(c)
        elif kind == "attention":
            params = _attention(c)
        else:
            params = _mlp(hidden, c["intermediate_size"], gated=False)
        return params + hidden, 0

    kinds = _nemotron_kinds(c.get("hybrid_override_pattern"), c.get("layers_block_type"))
    for kind in kinds:
        total, inactive = block(kind)
        count.language_total += total
        count.inactive_experts += inactive
    count.is_moe = "moe" in kinds
    mtp_kinds = _nemotron_kinds(c.get("mtp_hybrid_override_pattern"), c.get("mtp_layers_block_type"))
    if c.get("num_nextn_predict_layers") and mtp_kinds:
        per_head = sum(block(kind)[0] for kind in mtp_kinds) + 2 * hidden * hidden + 3 * hidden  # eh_proj, norms
        count.mtp = c["num_nextn_predict_layers"] * per_head


def _granite_hybrid(c: dict, count: ConfigCount) -> None:
    hidden = c["hidden_size"]
    moe = _moe(c)
    shared = _mlp(hidden, c["shared_intermediate_size"]) if c.get("shared_intermediate_size") else 0
    for kind in c.get("layer_types") or ["mamba"] * c["num_hidden_layers"]:
        layer = (_attention(c) if kind == "attention" else _mamba2(c)) + shared + 2 * hidden
        count.language_total += layer + (moe.total if moe else 0)
        count.inactive_experts += moe.inactive if moe else 0
    count.is_moe = moe is not None


def _jamba(c: dict, count: ConfigCount) -> None:
    hidden = c["hidden_size"]
    moe = _moe(c)
    dense = _mlp(hidden, c["intermediate_size"])
    for i in range(c["num_hidden_layers"]):
        attention = i % c.get("attn_layer_period", 8) == c.get("attn_layer_offset", 4)
        mixer = _attention(c) if attention else _mamba1(c)
        expert_layer = moe is not None and i % c.get("expert_layer_period", 2) == c.get("expert_layer_offset", 1)
        count.language_total += mixer + 2 * hidden + (moe.total if expert_layer else dense)
        count.inactive_experts += moe.inactive if expert_layer else 0
    count.is_moe = moe is not None


def _falcon_h1(c: dict, count: ConfigCount) -> None:
    hidden = c["hidden_size"]
    layer = _attention(c) + _mamba2(c) + _mlp(hidden, c["intermediate_size"]) + 2 * hidden
    count.language_total += c["num_hidden_layers"] * layer


def _qwen_next(c: dict, count: ConfigCount) -> None:
    hidden, layers = c["hidden_size"], c["num_hidden_layers"]
    kinds = c.get("layer_types") or [
        "full_attention" if (i + 1) % c.get("full_attention_interval", 4) == 0 else "linear_attention"
        for i in range(layers)
    ]
    moe = _moe(c)
    step, mlp_only = c.get("decoder_sparse_step") or 1, set(c.get("mlp_only_layers") or ())
    for i, kind in enumerate(kinds):
        if kind == "full_attention":
            mixer = _attention(c, output_gate=c.get("attn_output_gate", True)) + 2 * _head_dim(c)  # q/k norms
        else:
            mixer = _gated_deltanet(c)
        sparse = moe is not None and (i + 1) % step == 0 and i not in mlp_only
        ffn_total = moe.total if sparse else _mlp(hidden, c["intermediate_size"])
        count.language_total += mixer + 2 * hidden + ffn_total
        count.inactive_experts += moe.inactive if sparse else 0
    count.is_moe = moe is not None


def _llama4(c: dict, count: ConfigCount) -> None:
    hidden, layers = c["hidden_size"], c["num_hidden_layers"]
    step = c.get("interleave_moe_layer_step", 1)
    moe_layers = set(c.get("moe_layers") or range(step - 1, layers, step))
    experts, top_k = c["num_local_experts"], c.get("num_experts_per_tok", 1)
    expert = _mlp(hidden, c["intermediate_size"])
    always = expert + hidden * experts  # the shared expert and the router
    dense = _mlp(hidden, c.get("intermediate_size_mlp") or c["intermediate_size"])
    attention = _attention(c) + 2 * hidden
    for i in range(layers):
        if i in moe_layers:
            count.language_total += attention + experts * expert + always
            count.inactive_experts += (experts - top_k) * expert
        else:
            count.language_total += attention + dense
    count.is_moe = bool(moe_layers)


def _gpt_oss(c: dict, count: ConfigCount) -> None:
    hidden, layers = c["hidden_size"], c["num_hidden_layers"]
    moe = _moe(c, gated=True, biases=True)
    attention = _attention(c, biases=True, sinks=True) + 2 * hidden
    count.language_total += layers * (attention + moe.total)
    count.inactive_experts += layers * moe.inactive
    count.is_moe = True


def _gemma3n(c: dict, count: ConfigCount) -> None:
    hidden, layers = c["hidden_size"], c["num_hidden_layers"]
    inner = c["intermediate_size"]
    ple_width = c.get("hidden_size_per_layer_input", 256)
    altup = c.get("altup_num_inputs", 4)
    per_layer = _attention(c) + 2 * _head_dim(c) + 4 * hidden  # q/k norms, 4 norms
    per_layer += 2 * hidden * ple_width + 2 * hidden * c.get("laurel_rank", 64)  # per-layer input gate, LAuReL
    per_layer += altup * altup * 2 + altup * hidden + hidden  # AltUp router and corrections
    for width in inner if isinstance(inner, list) else [inner] * layers:
        count.language_total += per_layer + _mlp(hidden, width)
    count.language_total += hidden * layers * ple_width  # per_layer_model_projection
    count.language_total += 2 * (altup - 1) * hidden * hidden  # AltUp (un)embedding projections
    count.per_layer_embeddings = c.get("vocab_size_per_layer_input", c["vocab_size"]) * layers * ple_width
    count.language_total += count.per_layer_embeddings


def _generic(c: dict, count: ConfigCount) -> None:
    """Llama-like decoders, with Mixtral / Qwen-MoE / DeepSeek / GLM-MoE experts and MTP heads."""
    hidden, layers = c["hidden_size"], c["num_hidden_layers"]
    qk_norm = 2 * _head_dim(c) if c.get("use_qk_norm") or str(c.get("model_type", "")).startswith("qwen3") else 0
    fixed = _attention(c) + 2 * hidden + qk_norm
    dense = _mlp(hidden, c["intermediate_size"], gated=_gated(c))
    moe = _moe(c)
    first_dense = _get(c, "first_k_dense_replace", "num_dense_layers", default=0)
    freq = c.get("moe_layer_freq") or 1
    step, mlp_only = c.get("decoder_sparse_step") or 1, set(c.get("mlp_only_layers") or ())
    for i in range(layers):
        if moe is not None and i >= first_dense and i % freq == 0 and (i + 1) % step == 0 and i not in mlp_only:
            count.language_total += fixed + moe.total
            count.inactive_experts += moe.inactive
        else:
            count.language_total += fixed + dense
    count.is_moe = moe is not None
    if moe is not None and c.get("num_nextn_predict_layers"):  # one more decoder layer + eh_proj + norms
        count.mtp = c["num_nextn_predict_layers"] * (fixed + moe.total + 2 * hidden * hidden + 3 * hidden)
        # DeepSeek-V3's checkpoint also stores the MTP layer's own copies of the embedding and output head
        count.mtp_alternatives = [count.mtp + 2 * c["vocab_size"] * hidden]


FAMILIES: dict[str, Callable[[dict, ConfigCount], None]] = {
    "nemotron_h": _nemotron_h,
    "granitemoehybrid": _granite_hybrid,
    "jamba": _jamba,
    "falcon_h1": _falcon_h1,
    "qwen3_next": _qwen_next,
    "qwen3_5": _qwen_next,
    "qwen3_5_text": _qwen_next,
    "qwen3_5_moe": _qwen_next,
    "qwen3_5_moe_text": _qwen_next,
    "llama4": _llama4,
    "llama4_text": _llama4,
    "gpt_oss": _gpt_oss,
    "gemma3n": _gemma3n,
    "gemma3n_text": _gemma3n,
}


def _family(config: dict, c: dict) -> str:
    for key in (c.get("model_type"), config.get("model_type")):
        if key in FAMILIES:
            return key
    if c.get("hybrid_override_pattern") or c.get("layers_block_type"):
        return "nemotron_h"
    if c.get("linear_num_value_heads"):
        return "qwen3_next"
    if c.get("mamba_d_ssm") or (c.get("mamba_n_heads") and not c.get("layer_types")):
        return "falcon_h1"
    return "generic"


def count_config(config: dict) -> ConfigCount:
    """Total, active, towers and MTP heads of a model from its config.json.

    Raises KeyError / TypeError on a config shape no rule knows (a required key missing)."""
    c = _language_config(config)
    family = _family(config, c)
    count = ConfigCount(family, 0)
    FAMILIES.get(family, _generic)(c, count)
    table, head = _embeddings(c)
    count.embedding_input = table
    count.language_total += table + head + c["hidden_size"]  # + the final norm
    count.vision = _vision(config, c["hidden_size"])
    return count
