"""Judging a run a month at a time, with the facts of every listing's whole history, flags and prices each day
exactly as one pass over all of it: a deprecation stated months later, a jump across a month's end that came
back, a price set months before."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from trust_frames import catalog, observations

from llmprices.lake.read import read_observations
from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS
from llmprices.trust.config import TrustConfig
from llmprices.trust.flags import flag_observations
from llmprices.trust.months import judged_months, window_start
from llmprices.trust.reconcile import reconcile

L8, L70 = "meta-llama/llama-3.1-8b-instruct", "meta-llama/llama-3.1-70b-instruct"
FIRST, LAST = date(2025, 1, 10), date(2025, 3, 20)
DAYS = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
KEY = ["snapshot_date", "source", "provider", "provider_model_id"]


def history_rows() -> list[dict]:
    rows = []
    for day in DAYS:
        on = {"snapshot_date": day.isoformat()}
        # genai-prices keeps listing Groq's 70B; LiteLLM dates its deprecation only from March on
        rows.append({"source": "genai_prices", "provider": "groq", "provider_model_id": "llama-3.1-70b-versatile",
                     "model": L70, "input_usd_per_mtok": 0.59, "output_usd_per_mtok": 0.79} | on)  # fmt: skip
        if day >= date(2025, 3, 1):
            rows.append({"provider": "groq", "provider_model_id": "groq/llama-3.1-70b-versatile", "model": L70,
                         "input_usd_per_mtok": 0.59, "output_usd_per_mtok": 0.79,
                         "deprecation_date": "2025-01-24"} | on)  # fmt: skip
        # a jump from 0.1 to 1.5 from Jan 30 to Feb 2 that came back
        jumped = date(2025, 1, 30) <= day <= date(2025, 2, 2)
        price = 1.5 if jumped else 0.1
        rows.append({"provider": "together", "provider_model_id": "together_ai/llama-3.1-8b", "model": L8,
                     "input_usd_per_mtok": price, "output_usd_per_mtok": price} | on)  # fmt: skip
        # priced once, on the first day
        rows.append({"provider": "deepinfra", "provider_model_id": "deepinfra/llama-3.1-70b", "model": L70,
                     "input_usd_per_mtok": 0.23, "output_usd_per_mtok": 0.4} | on)  # fmt: skip
    return rows


def landed(tmp_path) -> Lake:
    lake = Lake(str(tmp_path / "lake"))
    frame = observations(history_rows())
    for (day, source), rows in frame.groupby(["snapshot_date", "source"]):
        partition = OBSERVATIONS.partition(snapshot_date=day, source=source)
        lake.write_partition(OBSERVATIONS, partition, OBSERVATIONS.from_frame(rows))
    return lake


def test_month_by_month_flags_and_prices_equal_one_pass_over_the_whole_history(tmp_path):
    lake = landed(tmp_path)
    one_pass = flag_observations(read_observations(lake), catalog())
    months = list(judged_months(lake, DAYS, catalog(), TrustConfig()))
    assert [len(month.days) for month in months] == [22, 28, 20]

    by_month = pd.concat([month.flagged for month in months]).set_index(KEY).sort_index()
    whole = one_pass.set_index(KEY).sort_index()
    columns = ["offer_kind", "trust_flags", "trust_reason", "price_since"]
    pd.testing.assert_frame_equal(by_month[columns], whole[columns], check_dtype=False)

    reason = by_month["trust_reason"]
    groq_february = reason.loc[(pd.Timestamp("2025-02-10"), "genai_prices", "groq", "llama-3.1-70b-versatile")]
    assert groq_february == "deprecated 2025-01-24 per litellm"
    jump = reason.loc[(pd.Timestamp("2025-02-01"), "litellm", "together", "together_ai/llama-3.1-8b")]
    assert jump == "unit slip: 1.5 for a while, between 0.1 and 0.1 (a jump that came back)"
    assert by_month["trust_flags"].eq("unit_slip").sum() == 4

    reconciled = pd.concat([month.reconciled for month in months], ignore_index=True)
    pd.testing.assert_frame_equal(reconciled, reconcile(one_pass), check_dtype=False)
    assert len(reconciled) == 3 * len(DAYS)  # groq, together and deepinfra each day
    deepinfra = reconciled[reconciled["provider"].eq("deepinfra")]
    assert set(deepinfra["price_since"]) == {pd.Timestamp(FIRST)}
    together = reconciled[reconciled["provider"].eq("together")].set_index("snapshot_date")
    assert together.loc[pd.Timestamp("2025-03-20"), "price_since"] == pd.Timestamp("2025-02-03")
    assert not together.loc[pd.Timestamp("2025-02-01"), "trusted"]


def test_a_run_reads_back_only_as_far_as_its_first_day_still_depends_on():
    daily = [date(2025, 5, 1) + timedelta(days=i) for i in range(60)]
    assert window_start(date(2025, 6, 14), {"litellm": daily, "openrouter": daily}, TrustConfig()) == date(2025, 6, 14)

    captures = {
        "genai_prices": [date(2025, 6, 5)],  # stands for the 14th (9 days): its rows are read
        "litellm": [date(2025, 5, 28), date(2025, 6, 20)],  # too old for the 14th, but the market of the 5th
        "openrouter": [date(2025, 5, 25), date(2025, 6, 1)],  # the router prices the 5th's and 28th's copies face
    }
    assert window_start(date(2025, 6, 14), captures, TrustConfig()) == date(2025, 5, 25)
