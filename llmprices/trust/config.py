"""Every threshold of the trust rules in one place, with why it is where it is (docs/trust-rules.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrustConfig:
    """Thresholds of the trust rules (`llmprices.trust.flags`) and of the reconciliation's agreement test."""

    #: router copy: a curated provider block with at least this share of router-style ids (`:free`, ...) ...
    copy_min_router_id_share: float = 0.10
    #: ... whose row equals the router's own price of the same id (within this relative tolerance) ...
    copy_price_rtol: float = 0.005
    #: ... on the same day, or in the router's last capture at most this many days before
    copy_lookback_days: int = 7
    #: stale: a source keyed by exact API ids dropped a listing for good when it still lists the provider on
    #: at least this many later snapshots
    delist_min_later_snapshots: int = 3
    #: placeholder: one source gives one provider the same (input, output) price for at least this many
    #: models ...
    placeholder_min_models: int = 3
    #: ... whose dense sizes span at least this factor (a size tier, Fireworks' $0.90 above 16B, does not)
    placeholder_min_size_ratio: float = 10.0
    #: unit slip: input and output both this factor or more from the model's reference price
    unit_slip_factor: float = 100.0
    #: unit slip: a per-token price equal to another source's per-character price, within this tolerance
    unit_match_rtol: float = 0.01
    #: unit slip: a run of a listing's history this factor off the runs on both sides ...
    spike_factor: float = 10.0
    #: ... which agree with each other within this factor (a jump that came back)
    spike_return_factor: float = 2.0
    #: outlier: a blended price this factor or more from the median of the other providers that day ...
    outlier_factor: float = 20.0
    #: ... when there are at least this many (also what a unit slip *below* the market needs)
    outlier_min_other_providers: int = 3
    #: order violation: a dense checkpoint at least this factor larger than a sibling and priced lower ...
    order_min_size_ratio: float = 1.5
    #: ... or at least this factor larger and priced the same
    order_equal_min_size_ratio: float = 4.0
    #: reconciliation: two sources agree when input and output are both within this relative ...
    agree_rtol: float = 0.01
    #: ... or this absolute (USD per million tokens) difference
    agree_atol: float = 0.005
    #: reconciliation and the market reference of the price rules: a source's listing stands for the days until
    #: its next capture, at most this many
    carry_days: int = 10
