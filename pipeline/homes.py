"""One Dagster home per lake: where a lake's runs are kept, and so what the UI shows for it.

A home records the lake it belongs to (`llmprices-lake.json`), and the CLI refuses to put another lake's runs
in it: the UI would otherwise show one lake's failed runs and red checks on the other lake's assets.
`$DAGSTER_HOME`, when set, is the home (checked against the lake); otherwise each lake gets its own under
`./.dagster_home/<lake-name>-<hash>/`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from urllib.parse import urlparse

#: The code location's name (also in `workspace.yaml` and pyproject's `[tool.dagster]`): the UI ties a run to a
#: job's page by it.
LOCATION = "llm-price-observatory"
#: Where the homes of lakes live when $DAGSTER_HOME is not set, relative to the working directory.
HOMES_ROOT = ".dagster_home"
LAKE_RECORD = "llmprices-lake.json"

#: A home the CLI makes: no telemetry; runs launched through the code location start at once (Dagster's
#: default queues them for a daemon, which only `dagster dev` runs); and the daemon's run monitoring, which fails
#: runs past their `dagster/max_runtime` tag and frees the pool slots of ended runs, so a crashed alert run cannot
#: block the next.
DAGSTER_YAML = """\
telemetry:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: DefaultRunCoordinator
run_monitoring:
  enabled: true
  free_slots_after_run_end_seconds: 60
"""

#: The code location, by module, so the home works from any folder.
WORKSPACE_YAML = f"""\
load_from:
  - python_module:
      module_name: pipeline.definitions
      location_name: {LOCATION}
"""


class HomeMismatch(RuntimeError):
    """The Dagster home holds another lake's runs."""


def lake_identity(lake_uri: str) -> str:
    """What a home records of a lake: local lakes as an absolute path (`demo-lake`, `./demo-lake` and
    `file:///.../demo-lake` are one lake), other URIs as given, without a trailing slash."""
    if urlparse(lake_uri).scheme in ("", "file"):
        return str(Path(lake_uri.removeprefix("file://")).expanduser().resolve())
    return lake_uri.rstrip("/")


def home_for_lake(lake_uri: str) -> Path:
    """The lake's Dagster home, created on first use: $DAGSTER_HOME if set (it must be this lake's, or hold no
    lake yet), else `./.dagster_home/<lake-name>-<8 hex digits of the lake>/`."""
    explicit = os.environ.get("DAGSTER_HOME")
    if explicit:
        return prepare_home(Path(explicit).expanduser().resolve(), lake_uri)
    identity = lake_identity(lake_uri)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", identity.rsplit("/", 1)[-1]).strip("-.") or "lake"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:8]
    return prepare_home(Path(HOMES_ROOT).resolve() / f"{name}-{digest}", lake_uri)


def prepare_home(home: Path, lake_uri: str) -> Path:
    """Check that `home` is the lake's (or record the lake in it); a home the CLI creates gets its settings, no
    "join the community" pop-up in the UI, and the workspace file `llmprices ui` starts the UI with."""
    identity = lake_identity(lake_uri)
    record = home / LAKE_RECORD
    if record.exists():
        recorded = json.loads(record.read_text())["lake"]
        if recorded != identity:
            raise HomeMismatch(
                f"Dagster home {home} holds the runs of lake {recorded}, not {identity}. Use that lake, or choose "
                "another home for this one: unset DAGSTER_HOME (each lake then gets its own under ./.dagster_home/), "
                "or set DAGSTER_HOME to an empty folder."
            )
    else:
        home.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps({"lake": identity}) + "\n")
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text(DAGSTER_YAML)
        (home / ".nux").mkdir(exist_ok=True)
        (home / ".nux" / "nux.yaml").write_text("seen: 1\n")
    workspace = workspace_file(home)
    if not workspace.exists() or workspace.read_text() != WORKSPACE_YAML:
        workspace.write_text(WORKSPACE_YAML)
    return home


def workspace_file(home: Path) -> Path:
    return home / "workspace.yaml"


def recorded_lake(home: Path) -> str | None:
    """The lake a home belongs to, None if it records none."""
    record = home / LAKE_RECORD
    return json.loads(record.read_text())["lake"] if record.exists() else None
