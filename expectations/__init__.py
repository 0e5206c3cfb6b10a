"""Data-quality rules for price observations, run with Great Expectations 1.x.

`quarantine.split_valid_rows` sends bad rows to quarantine; `checks` turns the table-level and
warning suites into Dagster asset checks. Importing this package does not import GX (slow);
the first validation does.
"""

from expectations.checks import (
    OUTPUT_INPUT_RATIO,
    ROW_COUNT_VS_PREVIOUS,
    SCHEMA_AND_KEYS,
    evaluate_observation_checks,
    observation_check_specs,
)
from expectations.gx_bridge import ExpectationOutcome, Outcome, validate
from expectations.quarantine import split_valid_rows

__all__ = [
    "OUTPUT_INPUT_RATIO",
    "ROW_COUNT_VS_PREVIOUS",
    "SCHEMA_AND_KEYS",
    "ExpectationOutcome",
    "Outcome",
    "evaluate_observation_checks",
    "observation_check_specs",
    "split_valid_rows",
    "validate",
]
