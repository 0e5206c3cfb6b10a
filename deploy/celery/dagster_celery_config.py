"""Read by `celery -A dagster_celery.app worker` (dagster-celery imports a module of this name when it is on
PYTHONPATH): the broker and result backend from the environment, so no URL with a password lands on disk
(`dagster-celery worker start -y FILE` would write one under $DAGSTER_HOME)."""

import os

broker_url = os.environ["DAGSTER_CELERY_BROKER_URL"]
result_backend = os.environ.get("DAGSTER_CELERY_BACKEND_URL", broker_url)
# a worker holds only the step it runs (acknowledged when done, one reserved at a time): the next step waits in
# the queue for whichever worker is free rather than behind a busy one
task_acks_late = True
worker_prefetch_multiplier = 1
