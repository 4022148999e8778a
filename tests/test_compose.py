"""docker-compose.yml and the Dockerfile, checked without a Docker engine: the services and
profiles, the files and build contexts they reference, every flag they pass to Locust or the
testbed (against the real ``--help``), every LOCUST_* variable (against Locust's parser with our
options registered, values included), and that the CSMS URL and the SteVe seed fit the fleet.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from ocpp_users.embedded import REPO_ROOT
from ocpp_users.fleet.ids import DEFAULT_TEMPLATE
from ocpp_users.ocppj.transport import charge_point_url

COMPOSE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
LOCUSTFILES = "locustfiles/fleet.py,locustfiles/shapes.py"
LOCUST_SERVICES = ("master", "worker")
STEVE_ENDPOINT = "/steve/websocket/CentralSystemService/"

_PARSER_SCRIPT = r"""
import importlib.util, json, os, sys
import locust  # gevent first
from locust import argument_parser
for path in sys.argv[1].split(","):
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
parser = argument_parser.get_parser()
env_vars = {}
flags = []
for action in parser._actions:
    flags.extend(action.option_strings)
    if getattr(action, "env_var", None):
        env_vars[action.env_var] = action.dest
options = parser.parse_args(["-f", sys.argv[1]])  # the environment under test is applied here
print(json.dumps({"env_vars": env_vars, "flags": flags, "options": {k: repr(v) for k, v in vars(options).items()}}))
"""


@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def service(name: str) -> dict[str, Any]:
    return compose()["services"][name]


_VAR = re.compile(r"\$\$|\$\{(\w+)(?::?-([^}]*))?\}")


def interpolate(text: str, env: dict[str, str] | None = None) -> str:
    """Compose's interpolation: ``${VAR:-default}``, ``$$`` for a literal ``$``."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return (env or {}).get(match.group(1)) or match.group(2) or ""

    return _VAR.sub(replace, text)


def environment(name: str) -> dict[str, str]:
    env = service(name).get("environment") or {}
    assert isinstance(env, dict), f"{name}: environment as a mapping, please"
    return {key: interpolate(str(value)) for key, value in env.items()}


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}


@cache
def locust_help() -> str:
    result = subprocess.run(
        [sys.executable, "-m", "locust", "-f", LOCUSTFILES, "--help"],
        cwd=REPO_ROOT,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def parse_with(env: dict[str, str]) -> dict[str, Any]:
    """Locust's parser (with our locustfiles' options) run with ``env``: LOCUST_* names and values."""
    result = subprocess.run(
        [sys.executable, "-c", _PARSER_SCRIPT, LOCUSTFILES],
        cwd=REPO_ROOT,
        env={**_clean_env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def flags(command: list[str]) -> list[str]:
    return [arg.split("=", 1)[0] for arg in command if arg.startswith("--")]


# ---------------------------------------------------------------- structure


def test_services_and_profiles() -> None:
    services = compose()["services"]
    assert {"master", "worker", "testbed", "steve", "mariadb", "steve-seed"} <= set(services)
    assert "profiles" not in services["master"] and "profiles" not in services["worker"]
    assert services["testbed"]["profiles"] == ["testbed"]
    for name in ("steve", "mariadb", "steve-seed"):
        assert services[name]["profiles"] == ["steve"], name


def test_master_serves_the_web_ui_and_workers_scale() -> None:
    assert "8089:8089" in service("master")["ports"]
    worker = service("worker")
    # --scale worker=N needs no fixed name and no host port
    assert "container_name" not in worker and "ports" not in worker
    assert "master" in worker["depends_on"]


@pytest.mark.parametrize("name", ["master", "worker", "testbed"])
def test_open_file_limits_are_raised(name: str) -> None:
    nofile = service(name)["ulimits"]["nofile"]
    assert nofile["soft"] >= 50_000 and nofile["hard"] >= nofile["soft"]


def test_local_build_contexts_and_the_files_the_dockerfile_copies_exist() -> None:
    for name in ("master", "worker", "testbed"):
        build = service(name)["build"]
        context = REPO_ROOT / build["context"]
        assert context.is_dir(), name
        assert (context / build.get("dockerfile", "Dockerfile")).is_file(), name
    ignored = {line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()}
    copied = []
    for line in DOCKERFILE.read_text().splitlines():
        parts = line.split()
        if parts[:1] == ["COPY"] and not any(p.startswith("--from") for p in parts):
            copied.extend(parts[1:-1])
    assert {"pyproject.toml", "README.md", "ocpp_users", "testbed", "locustfiles"} <= set(copied)
    for source in copied:
        assert (REPO_ROOT / source).exists(), source
        assert source not in ignored, f"{source} is copied but excluded by .dockerignore"
    dockerfile = DOCKERFILE.read_text()
    assert 'ENTRYPOINT ["locust"]' in dockerfile
    assert f"LOCUST_LOCUSTFILE={LOCUSTFILES}" in dockerfile


def test_steve_is_built_from_its_public_git_repository() -> None:
    context = interpolate(service("steve")["build"]["context"])
    assert re.fullmatch(r"https://github\.com/steve-community/steve\.git#steve-\d+\.\d+\.\d+", context), context
    assert "8180:8180" in service("steve")["ports"]
    assert service("steve")["depends_on"]["mariadb"]["condition"] == "service_healthy"
    db = environment("mariadb")
    # what SteVe's docker configuration expects (src/main/resources/config/docker/main.properties)
    assert (db["MYSQL_DATABASE"], db["MYSQL_USER"], db["MYSQL_PASSWORD"]) == ("stevedb", "steve", "changeme")


# ---------------------------------------------------------------- flags and variables


@pytest.mark.parametrize("name", LOCUST_SERVICES)
def test_every_locust_flag_in_the_commands_exists(name: str) -> None:
    """Against Locust's parser with our locustfiles' options registered (Locust's ``--help`` prints
    before the locustfiles load, so it lists only Locust's own options: those must appear there)."""
    command = service(name)["command"]
    assert "entrypoint" not in service(name)  # the image's: locust
    assert flags(command), name
    known = set(parse_with({})["flags"])
    help_text = locust_help()
    for flag in flags(command):
        assert flag in known, f"{name}: unknown flag {flag}"
        if not flag.startswith(("--max-", "--min-", "--json-summary", "--shape", "--storm-")):
            assert re.search(rf"(^|[\s,]){re.escape(flag)}([\s,=]|$)", help_text, re.M), f"{name}: {flag} not in --help"
    assert "--max-p95" in known and "--shape" in known and "--id-tag" in known  # ours are registered


def test_every_testbed_flag_exists() -> None:
    testbed = service("testbed")
    assert testbed["entrypoint"] == ["python", "-m", "testbed"]
    result = subprocess.run(
        [sys.executable, "-m", "testbed", "--help"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30
    )
    for flag in flags(testbed["command"]):
        assert flag in result.stdout, f"testbed: unknown flag {flag}"


def test_locust_variables_are_real_options_with_valid_values() -> None:
    envs = {name: environment(name) for name in LOCUST_SERVICES}
    dockerfile_env = dict(re.findall(r"(LOCUST_\w+)=(\S+)", DOCKERFILE.read_text()))
    for name, env in envs.items():
        parsed = parse_with({**dockerfile_env, **env})
        known = parsed["env_vars"]
        for key in [*env, *dockerfile_env]:
            if key.startswith("LOCUST_"):
                assert key in known, f"{name}: {key} is not a Locust or VolatileOCPP option"
    master = parse_with(envs["master"])["options"]
    assert master["num_users"] == "100" and master["spawn_rate"] == "10.0"
    assert master["shape"] == "'steady'" and master["json_summary"] == "'/results/summary.json'"
    worker = parse_with(envs["worker"])["options"]
    assert worker["master_host"] == "'master'" and worker["master_port"] == "5557"


def test_workers_find_the_master() -> None:
    master_command = service("master")["command"]
    port = master_command[master_command.index("--master-bind-port") + 1]
    env = environment("worker")
    assert env["LOCUST_MASTER_NODE_HOST"] == "master" and env["LOCUST_MASTER_NODE_PORT"] == port


def test_both_profiles_answer_on_the_fleets_default_url() -> None:
    host = environment("master")["LOCUST_HOST"]
    assert host == f"ws://csms:8180{STEVE_ENDPOINT}"
    assert charge_point_url(host, "VOCPP-0-00001") == f"ws://csms:8180{STEVE_ENDPOINT}VOCPP-0-00001"
    for name in ("testbed", "steve"):
        assert "csms" in service(name)["networks"]["default"]["aliases"], name
    testbed_command = service("testbed")["command"]
    assert testbed_command[testbed_command.index("--port") + 1] == "8180"
    assert testbed_command[testbed_command.index("--host") + 1] == "0.0.0.0"
    assert interpolate("${LOCUST_HOST:-x}", {"LOCUST_HOST": "ws://mine/"}) == "ws://mine/"


def test_steve_seed_registers_the_fleets_default_ids() -> None:
    script = interpolate(service("steve-seed")["command"][0])
    fmt = re.search(r'printf "%s\(\\"(VOCPP-%d-%05d)\\"\)"', script)
    assert fmt, script
    assert fmt.group(1) % (1, 7) == DEFAULT_TEMPLATE.format(worker=1, n=7, pid=0)
    assert "INSERT IGNORE INTO charge_box (charge_box_id)" in script
    assert "INSERT IGNORE INTO ocpp_tag (id_tag, max_active_transaction_count)" in script
    assert "$((" in script and "$$" not in script  # compose's $$ became the shell's $
    seed = environment("steve-seed")
    assert seed["SEED_ID_TAG"] == environment("master")["LOCUST_ID_TAG"]


def _has_compose() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=30)
    return probe.returncode == 0


@pytest.mark.skipif(not _has_compose(), reason="no docker compose on this machine")
def test_docker_compose_accepts_the_file() -> None:  # pragma: no cover - needs Docker
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "config", "-q"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_docs_link_the_same_commands() -> None:
    docs = (REPO_ROOT / "docs" / "distributed.md").read_text(encoding="utf-8")
    for needle in (
        "docker compose --profile testbed up --scale worker=4",
        "docker compose --profile steve up",
        "--master-host",
        "ulimit -Hn",
        "kind: Deployment",
    ):
        assert needle in docs, needle
    assert Path(REPO_ROOT / "docs" / "distributed.md").stat().st_size > 2000
