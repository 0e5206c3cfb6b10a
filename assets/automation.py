"""Automation conditions assets share."""

import dagster as dg

#: Sources land independently (one run each, and some never do), so a day's derived tables are recomputed
#: after each one lands, without waiting for the missing ones. Older days are recomputed only when asked for.
AFTER_ANY_SOURCE_LANDS = (
    dg.AutomationCondition.in_latest_time_window()
    & dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("after any source lands today")
