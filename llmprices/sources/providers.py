"""One canonical slug per serving company, whatever spelling a source uses for it.

Sources name the same company many ways (`together_ai`, `Together`, `togetherai`; `bedrock_converse`,
`Amazon Bedrock`, `aws`). `canonical_provider` slugifies a name and looks it up in `PROVIDER_ALIASES`
(a plain table: add a spelling there, not an `if`); names the table does not know stay their slug.
"""

from __future__ import annotations

import re
from functools import cache

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """Lower case, every run of other characters to one `-`: `Together AI` -> `together-ai`."""
    return _NON_ALNUM.sub("-", name.strip().lower()).strip("-")


#: canonical slug -> the spellings sources use for it (matched after `slugify`, so `together_ai`,
#: `Together AI` and `together-ai` are one entry).
_SPELLINGS: dict[str, tuple[str, ...]] = {
    "together": ("together", "together_ai", "togetherai", "Together AI", "together.xyz"),
    "aws-bedrock": ("aws-bedrock", "bedrock", "bedrock_converse", "aws", "Amazon Bedrock", "AWS Bedrock", "amazon"),
    "fireworks": ("fireworks", "fireworks_ai", "fireworks-ai", "Fireworks AI"),
    "deepinfra": ("deepinfra", "Deep Infra"),
    "google-vertex": ("google-vertex", "Google Vertex", "vertex_ai", "vertex", "Vertex AI", "Google Vertex AI"),
    # genai-prices' `google` is the Gemini API (ai.google.dev prices), i.e. AI Studio.
    "google-ai-studio": ("google-ai-studio", "gemini", "Google AI Studio", "google", "Google Gemini"),
    "azure": ("azure", "azure_ai", "Microsoft Azure", "Azure OpenAI", "Azure AI Foundry", "azure_text", "microsoft"),
    "nebius": ("nebius", "Nebius AI Studio", "nebius-ai-studio"),
    "novita": ("novita", "NovitaAI", "novita-ai", "novitaai"),
    "groq": ("groq",),
    "cerebras": ("cerebras",),
    "sambanova": ("sambanova", "SambaNova Cloud"),
    "hyperbolic": ("hyperbolic",),
    "mistral": ("mistral", "mistralai", "Mistral AI", "codestral", "text-completion-codestral"),
    "openai": ("openai", "text-completion-openai", "OpenAI"),
    "anthropic": ("anthropic",),
    "deepseek": ("deepseek", "DeepSeek AI", "deepseek-ai"),
    "x-ai": ("x-ai", "xai", "X AI", "x.ai"),
    "cohere": ("cohere", "cohere_chat"),
    "perplexity": ("perplexity", "perplexity-ai", "Perplexity AI"),
    "parasail": ("parasail",),
    "lambda": ("lambda", "lambda_ai", "Lambda Labs", "lambdalabs", "lambda-labs"),
    "baseten": ("baseten",),
    "nscale": ("nscale",),
    "ovhcloud": ("ovhcloud", "ovh", "OVHcloud AI Endpoints"),
    "alibaba": ("alibaba", "dashscope", "Alibaba Cloud", "alibaba-cloud", "qwen"),
    "moonshot": ("moonshot", "moonshotai", "Moonshot AI"),
    "z-ai": ("z-ai", "zai", "Z.AI", "zai-org", "zhipu", "zhipuai"),
    "friendli": ("friendli", "friendliai"),
    "featherless": ("featherless", "featherless_ai"),
    "openrouter": ("openrouter",),
    "huggingface": ("huggingface", "hf", "Hugging Face", "hf-inference"),
    "meta": ("meta", "meta-llama", "Meta Llama"),
    "ibm-watsonx": ("watsonx", "ibm", "IBM watsonx"),
    "cloudflare": ("cloudflare", "Cloudflare Workers AI", "workers-ai"),
    "replicate": ("replicate",),
    "databricks": ("databricks",),
    "avian": ("avian",),
    "chutes": ("chutes",),
    "siliconflow": ("siliconflow", "SiliconFlow"),
}

PROVIDER_ALIASES: dict[str, str] = {
    slugify(spelling): canonical for canonical, spellings in _SPELLINGS.items() for spelling in spellings
}

#: Slug prefixes that name a family of routes of one company (LiteLLM's `vertex_ai-anthropic_models`).
PROVIDER_PREFIXES: dict[str, str] = {
    "vertex-ai-": "google-vertex",
    "bedrock-": "aws-bedrock",
    "azure-ai-": "azure",
    "fireworks-ai-": "fireworks",
    "together-ai-": "together",
}


@cache
def canonical_provider(name: str) -> str:
    """The one lower-case slug for a serving company: `together_ai`/`Together` -> `together`."""
    slug = slugify(name)
    if slug in PROVIDER_ALIASES:
        return PROVIDER_ALIASES[slug]
    for prefix, canonical in PROVIDER_PREFIXES.items():
        if slug.startswith(prefix):
            return canonical
    return slug
