"""Which catalog models are their creators' own dense checkpoints of known size: the cost trend's models and
the siblings the order rule compares.

A creator checkpoint is (all must hold):
1. open weights, dense, its parameter count known;
2. from a lab that pretrains base models (`FOUNDATION_ORGS`, a table to extend), published under one of that
   lab's own Hugging Face orgs (`meta-llama/...`, `Qwen/...`): third-party fine-tunes and merges live under
   their authors' orgs (NousResearch, Sao10K, ...);
3. under a licence that lets anyone serve it (the seed's "fully open-weight"): Cohere's CC-BY-NC, Mistral's
   Research Licence, Qwen-Research and unknown licences leave one firm (or its licensees) selling it, so its
   minimum price is not a competitive price;
4. no mark of a derivative in its id: another lab's family name (`deepseek-r1-distill-llama`,
   `llama-3.1-nemotron`), a task model (`guard`), or a derivative the id hides (`KNOWN_DERIVATIVES`).
   The catalog has no `base_model` (the Hub card's field that says this outright): these heuristics stand in.

The cost trend prices text serving, so it also leaves out vision-language checkpoints (`is_vision_language`:
an id naming the vision variant of a family, `vision`, `-vl-`, `multimodal`, `pixtral`, `llava`): a model
served as a multimodal product is priced as one, and Llama 3.2 Vision's text tokens pass through its 8B/70B
text stack, not the 10.7B/88.6B the catalog counts. Natively multimodal families with no text-only sibling
(Gemma 3) keep their models. This rule was added after seeing the December 2024 fit (docs/trust-rules.md).
"""

from __future__ import annotations

import re

import pandas as pd

#: creator (the catalog's `creator`) -> the Hugging Face orgs it publishes its own checkpoints under
FOUNDATION_ORGS: dict[str, tuple[str, ...]] = {
    "meta-llama": ("meta-llama",),
    "qwen": ("qwen",),
    "mistralai": ("mistralai",),
    "google": ("google",),
    "microsoft": ("microsoft",),
    "deepseek": ("deepseek-ai",),
    "cohere": ("cohereforai", "coherelabs"),
    "ai21": ("ai21labs",),
    "allenai": ("allenai",),
    "nvidia": ("nvidia",),
    "ibm-granite": ("ibm-granite",),
    "baidu": ("baidu",),
    "moonshotai": ("moonshotai",),
    "z-ai": ("zai-org",),
    "thudm": ("thudm",),
    "minimax": ("minimaxai",),
    "openai": ("openai",),
    "tencent": ("tencent",),
    "bytedance": ("bytedance-seed",),
    "xiaomi": ("xiaomimimo",),
    "stepfun-ai": ("stepfun-ai",),
    "inclusionai": ("inclusionai",),
    "meituan": ("meituan-longcat",),
    "liquid": ("liquidai",),
    "rekaai": ("rekaai",),
    "01-ai": ("01-ai",),
    "databricks": ("databricks",),
}
#: family-name words -> the lab they belong to: an id carrying another lab's word is a derivative
FAMILY_WORDS: dict[str, tuple[str, ...]] = {
    "llama": ("meta-llama",),
    "qwen": ("qwen",),
    "qwq": ("qwen",),
    "mistral": ("mistralai",),
    "mixtral": ("mistralai",),
    "gemma": ("google",),
    "phi": ("microsoft",),
    "deepseek": ("deepseek",),
    "glm": ("z-ai", "thudm"),
}
TASK_WORDS = ("guard",)
#: licences under which anyone may serve the weights commercially (Llama's, Gemma's and Qwen's terms included)
SERVABLE_LICENCES = frozenset({"apache-2.0", "mit", "llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4",
                               "gemma", "qwen", "tongyi-qianwen", "openrail", "bsd-3-clause"})  # fmt: skip
#: derivatives their id does not reveal, with what the Hub card's `base_model` says
KNOWN_DERIVATIVES: dict[str, str] = {
    "moonshotai/kimi-dev-72b": "fine-tune of Qwen/Qwen2.5-72B",
    "bytedance/ui-tars-1.5-7b": "fine-tune of Qwen/Qwen2.5-VL-7B-Instruct",
}
_WORD = re.compile(r"[a-z]+")
_VISION_LANGUAGE = re.compile(r"vision|(?:^|[-_.])vl(?:[-_.]|$)|multimodal|pixtral|llava")


def creator_checkpoints(catalog: pd.DataFrame) -> pd.DataFrame:
    """The catalog with `creator_checkpoint` (bool) and `checkpoint_why` (why not, "" for a checkpoint)."""
    sizes = pd.to_numeric(catalog["params_total_b"]).astype(float)
    orgs = catalog["hf_repo"].fillna("").astype(str).str.split("/").str[0].str.lower()
    open_weights = catalog["open_weights"].astype("boolean").fillna(False).tolist()  # Python bools
    is_moe = [None if pd.isna(moe) else bool(moe) for moe in catalog["is_moe"].astype("boolean")]
    columns = zip(catalog["model"], catalog["creator"].fillna(""), orgs, open_weights, is_moe, sizes,
                  catalog["license"].fillna("unknown"), strict=True)  # fmt: skip
    why = [_why_not(*values) for values in columns]
    return catalog.assign(checkpoint_why=why, creator_checkpoint=[reason == "" for reason in why])


def _why_not(model, creator, org, open_weights, is_moe, size, licence) -> str:
    if open_weights is not True:
        return "not open weights"
    if is_moe is not False:
        return "MoE" if is_moe is True else "MoE or dense unknown"
    if pd.isna(size):
        return "size unknown"
    if creator not in FOUNDATION_ORGS:
        return f"{creator} is not a lab that pretrains base models (a fine-tune or merge)"
    if org not in FOUNDATION_ORGS[creator]:
        return f"published under {org or 'no repo'}, not {creator}'s own org"
    if str(licence).lower() not in SERVABLE_LICENCES:
        return f"licence {licence} does not let anyone serve it"
    if model in KNOWN_DERIVATIVES:
        return KNOWN_DERIVATIVES[model]
    words = set(_WORD.findall(model.split("/", 1)[-1].lower()))
    for word, owners in FAMILY_WORDS.items():
        if word in words and creator not in owners:
            return f"carries {owners[0]}'s family name '{word}'"
    for word in TASK_WORDS:
        if word in words:
            return f"a task model ({word})"
    return ""


def is_vision_language(models: pd.Series) -> pd.Series:
    """Whether each model id names a vision-language checkpoint (Llama 3.2 Vision, Qwen2.5-VL, Pixtral...)."""
    return models.str.split("/", n=1).str[-1].str.lower().str.contains(_VISION_LANGUAGE)


def trend_checkpoints(catalog: pd.DataFrame) -> pd.DataFrame:
    """The catalog rows of the cost trend's models: creator checkpoints that are not vision-language models."""
    checkpoints = creator_checkpoints(catalog)
    keep = checkpoints["creator_checkpoint"] & ~is_vision_language(checkpoints["model"].astype(str))
    return catalog[keep.to_numpy()]
