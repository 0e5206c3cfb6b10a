"""Resolve any source's model id to one canonical model id, so prices of the same model line up.

Sources spell one model many ways (`meta-llama/llama-3.1-70b-instruct`, `Meta-Llama-3.1-70B-Instruct-Turbo`,
`meta.llama3-1-70b-instruct-v1:0`, `llama-v3p1-70b-instruct`). Rules remove what only says *where* or
*when* a model is sold (routing prefixes, region prefixes, Bedrock `-v1:0`, dates, separators and case);
what changes the product (`:free`, `-turbo`, `-fp8`, ...) is kept apart as `model_variant`. The result is
looked up among the curated catalog's ids, Hub repos and `aliases.yaml`; anything unknown stays
unmatched (`model=None`) rather than being guessed.

It runs once per observation row (a year of backfill is over a hundred thousand), so regexes are compiled
at import and answers are cached per input.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import yaml

CATALOG_DIR = Path(__file__).resolve().parent
MODELS_CSV = CATALOG_DIR / "models.csv"
ALIASES_YAML = CATALOG_DIR / "aliases.yaml"

#: Leading path segments that name the reseller or SDK route, not the model's creator (LiteLLM keys).
ROUTING_PREFIXES = frozenset(
    {
        "anyscale", "azure", "azure_ai", "bedrock", "bedrock_converse", "cerebras", "cloudflare", "databricks",
        "deepinfra", "featherless_ai", "fireworks_ai", "friendliai", "groq", "huggingface", "hyperbolic", "lambda_ai",
        "nebius", "novita", "nscale", "openrouter", "ovhcloud", "replicate", "sambanova", "together_ai", "vertex_ai",
        "watsonx",
    }
)  # fmt: skip
#: Trailing name tokens that mark a build of the model (quantization, speed tier, free tier).
VARIANT_TOKENS = (
    "turbo", "lite", "fast", "specdec", "free", "fp8", "fp4", "int4", "int8", "awq", "gptq", "bf16", "fp16",
)  # fmt: skip

_ROUTE_RE = re.compile(r"^(?:accounts/[^/]+/models/|@[a-z]+/)")
_VERSION_SUFFIX_RE = re.compile(r"-v?\d+:0$")  # Bedrock's API version `-v1:0`, `-1:0` (not `-v0:2`)
_TAG_RE = re.compile(r":([a-z][a-z0-9-]*)$")  # OpenRouter `:free`, `:extended`, `:beta`
_DATE_RE = re.compile(r"[-@](?:20\d\d-?[01]\d-?[0-3]\d|latest)$")
_BEDROCK_NS_RE = re.compile(r"^(?:(?:us|eu|apac|global|regional|jp|au|ca|us-gov)\.)?([a-z][a-z0-9-]*)\.(?=[a-z])")
#: `3-1`, `3_1`, `3p1`, `v0:2` between version digits become `3.1`; `2-57b`, `3-8b`, `3-0.6b` stay.
_VERSION_SEP_RE = re.compile(r"(?<=\d)[-_p.:](?=\d(?![\d.]|[bmkt]\b|x\d))")
_VARIANT_RE = re.compile(r"-(" + "|".join(VARIANT_TOKENS) + r")$")
_META_PREFIX_RE = re.compile(r"^meta-(?=llama)")  # `Meta-Llama-3.1-8B` is Meta's `llama-3.1-8b`
_HF_SUFFIX_RE = re.compile(r"-hf$")  # Llama 2's "converted to transformers" repos
_KEY_DROP_RE = re.compile(r"[-_\s]+|(?<![a-z0-9])v(?=\d)")  # and the `v` of `-v3`, `llama-v3.1`


@dataclass(frozen=True)
class ModelMatch:
    """A resolved id: `model` is canonical (None when unknown), `normalized` stands in for it then: the
    normalized repo when the source names one (OpenRouter's `z-ai/glm-5` and the HF router's `zai-org/GLM-5`
    are both `zai-org/glm-5`), else the normalized id."""

    model: str | None
    model_variant: str | None
    normalized: str


@dataclass(frozen=True)
class _Parsed:
    namespace: str
    name: str  # without variant tokens
    full_name: str  # with trailing variant tokens (some products are *named* `-turbo`)
    tag: str | None  # the `:free`-style suffix
    tokens: tuple[str, ...]  # the variant tokens removed from `full_name`


def _parse(raw: str, provider: str | None = None) -> _Parsed:
    text = unquote(raw).strip().lower().replace(" ", "-")
    if provider and text.startswith(provider.lower() + "/"):
        text = text[len(provider) + 1 :]
    parts = text.split("/")
    while len(parts) > 1 and parts[0] in ROUTING_PREFIXES:
        parts = parts[1:]
    text = _ROUTE_RE.sub("", "/".join(parts))
    text = _VERSION_SUFFIX_RE.sub("", text)
    tag = None
    if match := _TAG_RE.search(text):
        tag, text = match.group(1), text[: match.start()]
    text = _DATE_RE.sub("", text)
    namespace, _, name = text.rpartition("/")
    namespace = namespace.rpartition("/")[2]
    if not namespace and (match := _BEDROCK_NS_RE.match(name)):
        namespace, name = match.group(1), name[match.end() :]
    name = _VERSION_SEP_RE.sub(".", name)
    name = _HF_SUFFIX_RE.sub("", _META_PREFIX_RE.sub("", name))
    full_name, tokens = name, []
    while (match := _VARIANT_RE.search(name)) and match.start() > 0:
        tokens.insert(0, match.group(1))
        name = name[: match.start()]
    return _Parsed(namespace, name, full_name, tag, tuple(tokens))


def _key(name: str) -> str:
    """Separators carry no meaning once versions are dotted: `llama3.1-70b` == `llama-v3.1-70b`."""
    return _KEY_DROP_RE.sub("", name)


class Matcher:
    """An index from every known spelling of a model to its canonical id."""

    def __init__(self, spellings: dict[str, list[str]]):
        """`spellings` maps a canonical id to the other ids it is known by (Hub repo, aliases)."""
        self._qualified: dict[tuple[str, str], str] = {}
        bare: dict[str, set[str]] = {}
        for model, others in spellings.items():
            for spelling in [model, *others]:
                parsed = _parse(spelling)
                key = _key(parsed.full_name)
                if self._qualified.setdefault((parsed.namespace, key), model) != model:
                    other = self._qualified[(parsed.namespace, key)]
                    raise ValueError(f"{spelling!r} of {model!r} reads the same as a spelling of {other!r}")
                bare.setdefault(key, set()).add(model)
        #: a name without its namespace only resolves when a single model is known by it
        self._bare = {key: next(iter(models)) for key, models in bare.items() if len(models) == 1}
        self._cache: dict[tuple[str, str | None, str | None], ModelMatch] = {}

    @classmethod
    def from_files(cls, models_csv: Path = MODELS_CSV, aliases_yaml: Path = ALIASES_YAML) -> Matcher:
        """The curated table's ids and Hub repos, plus `aliases.yaml` (alias -> canonical id)."""
        with open(models_csv, newline="", encoding="utf-8") as handle:
            rows = [(row["model"], row["hf_repo"]) for row in csv.DictReader(handle)]
        try:
            return cls.from_rows(rows, read_aliases(aliases_yaml))
        except ValueError as exc:
            raise ValueError(f"{aliases_yaml}: {exc}, not in {models_csv.name}") from None

    @classmethod
    def from_rows(cls, models: Iterable[tuple[str, str | None]], aliases: Mapping[str, str]) -> Matcher:
        """(model, hf_repo) pairs of a curated table, and aliases (alias -> one of those models)."""
        spellings: dict[str, list[str]] = {model: [repo] if repo else [] for model, repo in models}
        for alias, model in aliases.items():
            if model not in spellings:
                raise ValueError(f"alias {alias!r} points to {model!r}")
            spellings[model].append(str(alias))
        return cls(spellings)

    def _lookup(self, namespace: str, name: str) -> str | None:
        key = _key(name)
        return self._qualified.get((namespace, key)) or self._bare.get(key)

    def _match(self, parsed: _Parsed) -> tuple[str | None, tuple[str, ...]]:
        """(model, variants). Trailing tokens count as variants only when the name without them is a
        known model: `gpt-4-turbo` and `gemini-2.5-flash-lite` are products, not builds of another."""
        if model := self._lookup(parsed.namespace, parsed.full_name):
            return model, ()
        if parsed.tokens and (model := self._lookup(parsed.namespace, parsed.name)):
            return model, parsed.tokens
        return None, ()

    def resolve(self, provider_model_id: str, *, provider: str | None = None, hint: str | None = None) -> ModelMatch:
        """Canonical model and variant of one listing; `hint` is a source-given Hub repo id."""
        hint = hint if isinstance(hint, str) and hint else None  # pandas hands missing hints over as NaN
        cache_key = (provider_model_id, provider, hint)
        if (found := self._cache.get(cache_key)) is None:
            found = self._cache[cache_key] = self._resolve(provider_model_id, provider, hint)
        return found

    def _resolve(self, provider_model_id: str, provider: str | None, hint: str | None) -> ModelMatch:
        parsed = _parse(provider_model_id, provider)
        model, tokens = self._match(parsed)
        name = parsed.name if tokens else parsed.full_name
        normalized = f"{parsed.namespace}/{name}" if parsed.namespace else name
        if hint:  # the source's own statement of the repo beats our reading of its id
            model = self._match(_parse(hint))[0] or model
            if model is None:  # and names an unknown model the same way in every source that states it
                normalized = self._resolve(hint, None, None).normalized
        variant = "+".join(([parsed.tag] if parsed.tag else []) + list(tokens)) or None
        return ModelMatch(model, variant, normalized)


def read_aliases(path: Path = ALIASES_YAML) -> dict[str, str]:
    """`aliases.yaml` as {alias: canonical model}."""
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("aliases") or {}


@cache
def default_matcher() -> Matcher:
    """The matcher over the curated files shipped in this package, built once per process."""
    return Matcher.from_files()


def resolve(provider_model_id: str, *, provider: str | None = None, hint: str | None = None) -> ModelMatch:
    """Resolve with the curated catalog and aliases: see `Matcher.resolve`."""
    return default_matcher().resolve(provider_model_id, provider=provider, hint=hint)
