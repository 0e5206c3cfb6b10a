"""Where a run's steps execute: chosen by the deployment through `LLMPRICES_EXECUTOR`, read when the code
location loads (set it on the code-location service and on every process that loads the definitions).

- unset or `multiprocess`: Dagster's default, a process per step on the machine that runs the run;
- `in_process`: every step in the run's own process (a small machine: no Python start per step);
- `celery`: each step a Celery task, picked up by whichever worker is free (`dagster-celery`; the broker and
  result backend from `DAGSTER_CELERY_BROKER_URL` / `DAGSTER_CELERY_BACKEND_URL`, never written in a file);
- `docker`: each step in a container of its own (`dagster-docker`; image and network from run config or the
  run's image);
- `k8s`: each step a Kubernetes Job (`dagster-k8s`; namespace, secrets and resources from run config or the
  instance's run launcher).

The last three come with the `deploy` extra; `deploy/launchers/` has their run-config blocks and the run
launchers that hand whole runs to the same engines.
"""

from __future__ import annotations

import os

import dagster as dg

EXECUTOR_ENV = "LLMPRICES_EXECUTOR"
CELERY_BROKER_ENV = "DAGSTER_CELERY_BROKER_URL"
CELERY_BACKEND_ENV = "DAGSTER_CELERY_BACKEND_URL"
EXECUTORS = ("multiprocess", "in_process", "celery", "docker", "k8s")


def executor_from_env() -> dg.ExecutorDefinition | None:
    """The executor `LLMPRICES_EXECUTOR` names; None leaves Dagster's default (multiprocess)."""
    name = os.environ.get(EXECUTOR_ENV, "").strip() or "multiprocess"
    if name == "multiprocess":
        return None
    if name == "in_process":
        return dg.in_process_executor
    if name == "celery":
        from dagster_celery import celery_executor

        return celery_executor.configured(
            {"broker": {"env": CELERY_BROKER_ENV}, "backend": {"env": CELERY_BACKEND_ENV}}, name="celery"
        )
    if name == "docker":
        from dagster_docker import docker_executor

        return docker_executor
    if name == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    raise ValueError(f"{EXECUTOR_ENV}={name!r}: expected one of {', '.join(EXECUTORS)}")
