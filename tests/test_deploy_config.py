"""The deployment folder without Docker: the compose file is valid Compose and in step with the tested
`deploy/dagster.yaml`, no secret is written in it, and the run launchers and executors for Celery, Docker
and Kubernetes pass the libraries' own config schemas (no engine or cluster needed)."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess

import dagster as dg
import jsonschema
import pytest
import yaml
from conftest import DEPLOY, FIXTURES, REPO_ROOT

from pipeline.executors import EXECUTOR_ENV, executor_from_env

COMPOSE = DEPLOY / "docker-compose.yml"
SCHEMA = json.loads((FIXTURES / "compose-spec" / "compose-spec.schema.json").read_text())
DAGSTER_SERVICES = ("code-location", "webserver", "daemon", "celery-worker")
INSTANCE_MOUNT = "./dagster.yaml:/opt/dagster/home/dagster.yaml:ro"


def compose() -> dict:
    """The file as Compose reads it: YAML anchors and `<<` merges resolved (PyYAML does both)."""
    return yaml.safe_load(COMPOSE.read_text())


def env_sources(node) -> set[str]:
    """Every variable a Dagster config reads through an `{env: NAME}` source."""
    if isinstance(node, dict):
        if set(node) == {"env"}:
            return {node["env"]}
        return set().union(*(env_sources(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(env_sources(value) for value in node))
    return set()


def test_the_compose_file_is_valid_compose():
    jsonschema.Draft7Validator(SCHEMA).validate(compose())


def test_the_schema_catches_a_misspelt_key():
    broken = compose()
    broken["services"]["daemon"]["enviroment"] = {"DAGSTER_HOME": "/opt/dagster/home"}
    with pytest.raises(jsonschema.ValidationError, match="enviroment"):
        jsonschema.Draft7Validator(SCHEMA).validate(broken)


def test_the_stack_has_postgres_an_object_store_and_the_three_dagster_services():
    services = compose()["services"]
    assert {"postgres", "object-store", "code-location", "webserver", "daemon"} <= set(services)
    assert services["code-location"]["command"][:3] == ["dagster", "api", "grpc"]
    assert services["webserver"]["command"][0] == "dagster-webserver"
    assert services["daemon"]["command"][:2] == ["dagster-daemon", "run"]
    assert services["celery-worker"]["profiles"] == ["celery"] == services["redis"]["profiles"]


def test_every_variable_the_instance_reads_is_given_to_every_dagster_service_that_mounts_it():
    needed = env_sources(yaml.safe_load((DEPLOY / "dagster.yaml").read_text()))
    assert {"DAGSTER_PG_PASSWORD", "DAGSTER_COMPUTE_LOG_DIR"} <= needed
    for name in DAGSTER_SERVICES:
        service = compose()["services"][name]
        assert INSTANCE_MOUNT in service["volumes"], name
        assert needed <= set(service["environment"]), (name, needed - set(service["environment"]))
        # runs inherit the code location's environment: the lake and its credentials must be there too
        assert {"PRICE_LAKE_URI", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(service["environment"])


def test_the_workspace_points_at_the_code_location_service():
    [entry] = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())["load_from"]
    server = entry["grpc_server"]
    command = compose()["services"][server["host"]]["command"]
    assert command[command.index("-p") + 1] == str(server["port"])
    assert command[command.index("-m") + 1] == "pipeline.definitions"


def test_no_secret_is_written_in_the_compose_file():
    secret = re.compile(r"PASSWORD|SECRET|ACCESS_KEY|API_KEY")
    for name, service in compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if secret.search(key):
                assert re.fullmatch(r"\$\{\w+(:[-?][^}]*)?\}", str(value)), (name, key, value)


def test_the_image_holds_every_package_the_project_installs():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    for package in ("llmprices", "expectations", "assets", "pipeline"):
        assert (REPO_ROOT / package).is_dir() and f"COPY {package} ./{package}" in dockerfile


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose (Debian's, v1) not installed")
def test_docker_compose_config_accepts_the_file_and_names_a_missing_secret():
    secrets = {"DAGSTER_PG_PASSWORD": "x", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    command = ["docker-compose", "-f", str(COMPOSE), "config", "-q"]
    done = subprocess.run(command, env={"PATH": "/usr/bin:/bin", **secrets}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    without = {k: v for k, v in secrets.items() if k != "DAGSTER_PG_PASSWORD"}
    missing = subprocess.run(command, env={"PATH": "/usr/bin:/bin", **without}, capture_output=True, text=True)
    assert missing.returncode != 0 and "set DAGSTER_PG_PASSWORD" in missing.stderr


# -- beyond one machine ------------------------------------------------------------------------------
def launcher(name: str) -> tuple[type, dict]:
    block = yaml.safe_load((DEPLOY / "launchers" / f"{name}.dagster.yaml").read_text())["run_launcher"]
    module = __import__(block["module"], fromlist=[block["class"]])
    return getattr(module, block["class"]), block["config"]


def validate_against(config_schema, value: dict) -> dict:
    """`value` validated and resolved (`env:` sources read) by Dagster's config system, as the instance does
    when it loads the block; raises `DagsterInvalidConfigError`."""

    @dg.op(config_schema=config_schema)
    def configured():
        pass

    @dg.job
    def holder():
        configured()

    return dg.validate_run_config(holder, {"ops": {"configured": {"config": value}}})["ops"]["configured"]["config"]


@pytest.mark.parametrize(
    ("name", "expected_class"),
    [("celery", "CeleryRunLauncher"), ("docker", "DockerRunLauncher"), ("k8s", "K8sRunLauncher")],
)
def test_each_run_launcher_block_passes_its_librarys_schema_and_a_typo_does_not(name, expected_class, monkeypatch):
    monkeypatch.setenv("DAGSTER_CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("DAGSTER_CELERY_BACKEND_URL", "redis://127.0.0.1:6379/1")
    cls, config = launcher(name)
    assert cls.__name__ == expected_class
    resolved = validate_against(cls.config_type(), config)
    assert set(config) <= set(resolved)
    if name == "celery":  # the URLs come from the environment, never from the file
        assert (resolved["broker"], resolved["backend"]) == ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/1")
    misspelt = copy.deepcopy(config) | {"imagee": "llm-price-observatory:latest"}
    with pytest.raises(dg.DagsterInvalidConfigError, match="imagee"):
        validate_against(cls.config_type(), misspelt)


def test_the_docker_launcher_is_built_from_its_block_without_an_engine():
    cls, config = launcher("docker")
    built = cls(**config)  # connects to Docker only when it launches a run
    assert built.image == "llm-price-observatory:latest" and "DAGSTER_PG_PASSWORD" in built.env_vars


@pytest.mark.parametrize("name", ["docker", "k8s"])
def test_the_executor_blocks_fit_the_executor_the_code_location_selects(name, monkeypatch):
    monkeypatch.setenv(EXECUTOR_ENV, name)
    executor = executor_from_env()
    run_config = yaml.safe_load((DEPLOY / "launchers" / "executors.run_config.yaml").read_text())[name]

    @dg.op
    def step():
        pass

    @dg.job(executor_def=executor)
    def one_step():
        step()

    assert dg.validate_run_config(one_step, run_config)
    run_config["execution"]["config"]["max_concurent"] = 4
    with pytest.raises(dg.DagsterInvalidConfigError, match="max_concurent"):
        dg.validate_run_config(one_step, run_config)


def test_the_executor_is_dagsters_default_unless_the_deployment_names_one(monkeypatch):
    monkeypatch.delenv(EXECUTOR_ENV, raising=False)
    assert executor_from_env() is None
    monkeypatch.setenv(EXECUTOR_ENV, "in_process")
    assert executor_from_env() is dg.in_process_executor
    monkeypatch.setenv(EXECUTOR_ENV, "celery")
    assert executor_from_env().name == "celery"
    monkeypatch.setenv(EXECUTOR_ENV, "spark")
    with pytest.raises(ValueError, match="LLMPRICES_EXECUTOR='spark': expected one of multiprocess, in_process"):
        executor_from_env()


def interpolate(value: str, environment: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?message}` against `environment` (`$$` is a `$`)."""

    def one(match: re.Match) -> str:
        name, operator, rest = match.group(1), match.group(2), match.group(3)
        if environment.get(name):
            return environment[name]
        if operator == ":?":
            raise KeyError(rest)
        return rest or ""

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", one, value).replace("$$", "$")


def test_the_stacks_instance_is_the_tested_one_and_reaches_the_stacks_postgres():
    """Every Dagster service mounts deploy/dagster.yaml itself (the file tests/test_deploy_postgres.py and
    tests/test_deploy_celery.py run on PostgreSQL), and, resolved with the service's environment, its storage
    points at the compose file's PostgreSQL with that server's own user, password and database, and its
    compute logs at the volume every service shares."""
    given = {"DAGSTER_PG_PASSWORD": "pw-from-env", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    services = compose()["services"]
    server = {key: interpolate(value, given) for key, value in services["postgres"]["environment"].items()}
    instance = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    for name in DAGSTER_SERVICES:
        service = services[name]
        environment = {key: interpolate(str(value), given) for key, value in service["environment"].items()}
        storage = {key: environment[value["env"]] if isinstance(value, dict) else value
                   for key, value in instance["storage"]["postgres"]["postgres_db"].items()}  # fmt: skip
        assert storage == {
            "hostname": "postgres",
            "port": "5432",
            "username": server["POSTGRES_USER"],
            "password": server["POSTGRES_PASSWORD"],
            "db_name": server["POSTGRES_DB"],
            "scheme": "postgresql+psycopg2",
        }, name
        logs = environment[instance["compute_logs"]["config"]["base_dir"]["env"]]
        assert f"compute-logs:{logs}" in service["volumes"], name
    # the queued coordinator's limit applies to the tag the daily ingest schedule puts on each source's run
    [limit] = instance["run_coordinator"]["config"]["tag_concurrency_limits"]
    assert instance["run_coordinator"]["class"] == "QueuedRunCoordinator" and limit == {"key": "source", "limit": 2}
    assert server["POSTGRES_PASSWORD"] == "pw-from-env"  # from the environment, nothing written in the file
    with pytest.raises(KeyError, match="set DAGSTER_PG_PASSWORD"):
        interpolate(services["postgres"]["environment"]["POSTGRES_PASSWORD"], {})
