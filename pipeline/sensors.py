"""What watches the pipeline: the automation that makes alerts follow the data, the run-failure alert to
operators, and the sensor that marks failed the runs a killed `llmprices` left running (`pipeline.monitoring`).
(The freshness checks of every live source run on a schedule, `pipeline/schedules.py`.)

Alerts follow the data by declarative automation rather than an asset sensor: the conditions live on the
assets (`price_changes` and `new_models` after any source lands today, `alert_deliveries` eagerly after them), are
evaluated per partition, so a day's deliveries follow that day's changes with no cursor or job to keep, and
only for the latest day, so backfilling history never alerts. One sensor evaluates them, on by default: it
only acts once observations land, which a schedule or a person starts.
"""

import dagster as dg

from assets.keys import ALERT_DELIVERIES, NEW_MODELS, PRICE_CHANGES
from llmprices.alerts.rules import AlertConfigError
from llmprices.alerts.sinks import DeliveryError
from pipeline.monitoring import fail_abandoned_runs
from pipeline.resources import AlertsResource

#: The sink of the rules file that run failures go to.
OPERATORS = "operators"

#: A run of the automation is stopped by Dagster's run monitoring past this (it takes seconds): a hung delivery
#: then ends, and frees the `alerts` pool slot for the next.
ALERT_RUN_MAX_RUNTIME_S = 1800

alerts_automation = dg.AutomationConditionSensorDefinition(
    "price_alerts_automation",
    target=dg.AssetSelection.assets(PRICE_CHANGES, NEW_MODELS, ALERT_DELIVERIES),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Recomputes today's price changes and new models when a source lands, then delivers the alerts.",
    run_tags={"dagster/max_runtime": str(ALERT_RUN_MAX_RUNTIME_S)},
)


@dg.sensor(minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.RUNNING)
def abandoned_runs(context: dg.SensorEvaluationContext):
    """Marks failed the runs an `llmprices` process left running when it was killed, freeing their pool slots."""
    failed = fail_abandoned_runs(context.instance)
    return dg.SkipReason(f"marked {len(failed)} abandoned run(s) failed: {[r.run_id for r in failed]}")


@dg.run_failure_sensor(default_status=dg.DefaultSensorStatus.RUNNING)
def operators_on_run_failure(context: dg.RunFailureSensorContext, alerts: AlertsResource):
    """Tells operators (the `operators` sink of the alert rules file) that a run failed: its id, its job and
    the first line of the error, with every sink's secrets masked. Does nothing without that sink."""
    try:
        config = alerts.load()
    except AlertConfigError as exc:
        return dg.SkipReason(f"cannot tell operators: {exc}")
    sink = config.sinks.get(OPERATORS) if config else None
    if sink is None:
        return dg.SkipReason(f"no `{OPERATORS}` sink in the alert rules file")
    run = context.dagster_run
    text = f"Run {run.run_id} of job {run.job_name} failed: {_first_error_line(context)}"
    for each in config.sinks.values():
        text = each.redact(text)
    try:
        subject = f"[LLM prices] run of {run.job_name} failed"
        sink.send_message(subject, text, {"subject": subject, "text": text, "run_id": run.run_id}, run.run_id)
    except DeliveryError as exc:
        return dg.SkipReason(f"could not tell operators about run {run.run_id}: {sink.redact(str(exc))}")
    return None


def _first_error_line(context: dg.RunFailureSensorContext) -> str:
    """The first failed step's error (the user code's, not Dagster's wrapper of it), else the run's message."""
    for event in context.get_step_failure_events():
        error = event.step_failure_data.error
        if error is not None:
            if error.cls_name == "DagsterExecutionStepExecutionError" and error.cause is not None:
                error = error.cause
            return f"{event.step_key}: {_first_line(error.message, error.cls_name)}"
    return _first_line(context.failure_event.message, "unknown error")


def _first_line(text: str | None, default: str) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else default


SENSORS = [alerts_automation, operators_on_run_failure, abandoned_runs]
