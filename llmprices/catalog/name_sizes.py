"""Parameter counts read from a model's name: `-9b`, `-35b-a3b`, `-8x7b`, `-e4b`, `-17b-16e`, `-70m`, `-1t`.

Most open-weight ids state their size. This module reads what the name honestly says and nothing more,
so the catalog can size a model the day it first appears (`params_source = name`) when neither the
curated table nor the Hub has a count. Pure functions over strings: no I/O, no catalog.

What a name can say, and what this returns (`NameSize`):

- `<n>b`, `<n>m`, `<n>t` (`-9b`, `-1.2b`, `-70m`, `-1t`): total n; dense or MoE, the name cannot tell;
- `<n>b-a<k>b` (`-35b-a3b`, `-120b-a12b`): total n, active k, MoE;
- `a<k>b` alone (`kimi-vl-a3b`, `hunyuan-a13b`): active k, MoE, total unknown;
- `<k>b-<e>e` (`llama-4-scout-17b-16e`): Llama 4 names the active size and the expert count: active k;
- `<n>b-moe` (`cogito-...-109b-moe`): total n, MoE, active unknown;
- `<e>x<m>b` (`mixtral-8x7b`): an estimate (below), `estimated=True`, `upper_bound_b = e*m`;
- `e<n>b` (`gemma-3n-e4b`): Gemma 3n's effective size n, `effective=True` (the E4B checkpoint holds ~7.9B
  with its per-layer embeddings and audio and vision towers).

`<e>x<m>b` (Mixtral): `e` copies of the feed-forward blocks of an `m`-billion dense model, sharing
attention and embeddings, so `e*m` is only an upper bound (8x7b: 56 vs 46.7 real). The name alone
gives a fair estimate with the feed-forward share `f` of the dense model the experts came from:
total = m*(1 + (e-1)*f), active = m*(1 + (k-1)*f) with k=2 routed experts per token (Mixtral,
WizardLM-2, DBRX-style top-2). `f = 0.78` is Mistral-7B's own share (32 layers x 3*4096*14336 =
5.64B of 7.24B). That gives 8x7b -> 45.2/12.5 (real 46.7/12.9) and 8x22b -> 142/39.2 (real
140.6/39.2). `estimated=True` says so; `upper_bound_b` keeps the literal product.

Not sizes: versions (`llama-3.1`, `qwen2.5`, `v0.1`, `-3_1`), dates (`-2512`, `-0324`, `-2024-08-06`),
context lengths (`128k`, `4k`, `32768`), `gpt-4o`, `phi-3-mini`, `o3`, `k2`, `m2`, `r1`, quantization
(`4bit`, `w4a16`, `int4`, `fp8`), `:free`-style tags. Only whole tokens (split on `-`, `_`, space
and `/`) are read; `m` sizes need n >= 10 (so a `-1m` context suffix is not read as 1M parameters)
and are ignored when a `b`/`t` size is present.

When a name holds two plain sizes (`olmoe-1b-7b`, merges such as `x-8b-y-70b`) the first is taken and
`ambiguous=True` says the reading is unsafe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: feed-forward share of the dense model an `<e>x<m>b` MoE was grown from (Mistral-7B: 5.64B / 7.24B)
FFN_SHARE = 0.78
#: routed experts per token assumed for `<e>x<m>b` names (Mixtral, WizardLM-2 8x22B, Nous/Dolphin merges)
MIXTRAL_TOP_K = 2

_UNITS = {"m": 1e-3, "b": 1.0, "t": 1e3}
_NUM = r"(\d+(?:\.\d+)?)"
_SIZE = re.compile(rf"^{_NUM}([mbt])$")
_ACTIVE = re.compile(rf"^a{_NUM}([mb])$")
_EFFECTIVE = re.compile(rf"^e{_NUM}b$")
_EXPERTS = re.compile(r"^(\d+)e$")
_MIXTURE = re.compile(rf"^(\d+)x{_NUM}([bt])$")
_SPLIT = re.compile(r"[-_\s/]+")


@dataclass(frozen=True)
class NameSize:
    """Sizes (billions) a name states. None where the name does not say."""

    total_b: float | None
    active_b: float | None
    effective: bool = False  # Gemma 3n `e<n>b`: an effective count, not the checkpoint's
    token: str = ""  # the text read, e.g. "35b-a3b", "8x7b", "e4b"
    is_moe: bool | None = None  # True when the name says MoE; None when it cannot tell
    experts: int | None = None  # `8x7b` -> 8, `17b-16e` -> 16
    estimated: bool = False  # derived by a rule (8x7b), not stated
    upper_bound_b: float | None = None  # `8x7b` -> 56
    total_text: str | None = None  # the digits as written, for the rounding they carry ("1.5", "70")
    active_text: str | None = None
    ambiguous: bool = False  # more than one plain size in the name


def _value(number: str, unit: str) -> float:
    return round(float(number) * _UNITS[unit], 6)


def _tokens(model_id_or_repo: str) -> list[str]:
    text = model_id_or_repo.strip().lower()
    text = text.split(":", 1)[0]  # OpenRouter `:free`, `:extended`, `:thinking`
    text = text.rpartition("/")[2]  # the creator namespace never carries the size
    return [token for token in _SPLIT.split(text) if token]


def sizes_from_name(model_id_or_repo: str) -> NameSize | None:
    """What the name says about total and active parameters, or None if it states no size."""
    tokens = _tokens(model_id_or_repo)
    plain: list[tuple[int, str, str]] = []  # (index, number, unit)
    for index, token in enumerate(tokens):
        if match := _MIXTURE.match(token):
            experts, number, unit = int(match.group(1)), match.group(2), match.group(3)
            dense = _value(number, unit)
            total = round(dense * (1 + (experts - 1) * FFN_SHARE), 2)
            active = round(dense * (1 + (MIXTRAL_TOP_K - 1) * FFN_SHARE), 2)
            return NameSize(
                total_b=total,
                active_b=active,
                token=token,
                is_moe=True,
                experts=experts,
                estimated=True,
                upper_bound_b=round(experts * dense, 6),
            )
        if match := _EFFECTIVE.match(token):
            value = _value(match.group(1), "b")
            return NameSize(value, value, effective=True, token=token, is_moe=False,
                            total_text=match.group(1), active_text=match.group(1))  # fmt: skip
        if match := _SIZE.match(token):
            plain.append((index, match.group(1), match.group(2)))
    big = [(i, n, u) for i, n, u in plain if u in "bt"]
    small = [(i, n, u) for i, n, u in plain if u == "m" and float(n) >= 10]
    candidates = big or small
    active_tokens = [(i, _ACTIVE.match(t)) for i, t in enumerate(tokens) if _ACTIVE.match(t)]
    if not candidates:
        if active_tokens:  # `kimi-vl-a3b`, `hunyuan-a13b`: the active size alone
            i, match = active_tokens[0]
            return NameSize(None, _value(match.group(1), match.group(2)), token=tokens[i], is_moe=True,
                            active_text=match.group(1))  # fmt: skip
        return None
    index, number, unit = candidates[0]
    value = _value(number, unit)
    ambiguous = len({_value(n, u) for _, n, u in candidates}) > 1
    following = tokens[index + 1] if index + 1 < len(tokens) else ""
    if match := _ACTIVE.match(following):
        return NameSize(value, _value(match.group(1), match.group(2)), token=f"{tokens[index]}-{following}",
                        is_moe=True, total_text=number, active_text=match.group(1), ambiguous=ambiguous)  # fmt: skip
    if match := _EXPERTS.match(following):  # Llama 4: `17b-16e` names the active size and the expert count
        return NameSize(None, value, token=f"{tokens[index]}-{following}", is_moe=True,
                        experts=int(match.group(1)), active_text=number, ambiguous=ambiguous)  # fmt: skip
    if following == "moe":
        return NameSize(value, None, token=f"{tokens[index]}-moe", is_moe=True, total_text=number,
                        ambiguous=ambiguous)  # fmt: skip
    return NameSize(value, None, token=tokens[index], total_text=number, ambiguous=ambiguous)


def _unit(text: str | None) -> float:
    """One unit of the last digit written: "7" -> 1, "1.5" -> 0.1, "0.6" -> 0.1."""
    if not text or "." not in text:
        return 1.0
    return 10.0 ** -len(text.partition(".")[2])


def within_name_rounding(stated: float, text: str | None, actual: float, *, estimated: bool = False) -> bool:
    """Whether `actual` is a size the name's `stated` number can honestly stand for.

    Names round *and* truncate (Qwen2.5-7B is 7.61B, Mistral-Small-24B is 23.6B, Llama-3.2-90B-Vision is
    88.6B), so a stated n with last-digit unit u accepts [n - u/2, n + u] widened to +-5% of n. An
    estimate (`8x7b`) accepts +-5%.
    """
    if estimated or text is None:
        return bool(abs(actual - stated) <= 0.05 * stated)
    scale = stated / float(text) if float(text) else 1.0  # a `70m` or `1t` token: its unit in billions
    unit = _unit(text) * scale
    low, high = min(stated - unit / 2, 0.95 * stated), max(stated + unit, 1.05 * stated)
    return bool(low - 1e-9 <= actual <= high + 1e-9)


def agrees(name: NameSize, total_b: float | None, active_b: float | None) -> dict[str, bool | None]:
    """Per field, whether the name's value agrees with a known count (None when either side is missing)."""
    result: dict[str, bool | None] = {"total": None, "active": None}
    if name.total_b is not None and total_b is not None:
        result["total"] = within_name_rounding(name.total_b, name.total_text, total_b, estimated=name.estimated)
    if name.active_b is not None and active_b is not None:
        result["active"] = within_name_rounding(name.active_b, name.active_text, active_b, estimated=name.estimated)
    return result


def size_from_names(*names: str | None) -> NameSize | None:
    """The first name (in the order given: a repo before a listing id) that states a total; else the first
    that states anything (an active-only `kimi-vl-a3b` still says MoE); None when no name says a size. An
    ambiguous name (two sizes: `olmoe-1b-7b`, Together's price tier `together-ai-21.1b-41b`) says nothing."""
    readings = [size for name in names if name and (size := sizes_from_name(name)) is not None and not size.ambiguous]
    return next((size for size in readings if size.total_b is not None), readings[0] if readings else None)
