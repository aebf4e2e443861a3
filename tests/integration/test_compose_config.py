"""docker-compose.yml is valid and scalable (no Docker engine is needed to check it)."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose_command():
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    pytest.skip("neither docker-compose nor the docker compose plugin is installed")


def test_compose_config_is_valid_and_workers_can_scale():
    secrets = {"MIENSKIP_SECRET_KEY": "k" * 48, "MIENSKIP_WEBHOOK_SECRET": "w" * 48}
    result = subprocess.run([*_compose_command(), "-f", str(ROOT / "docker-compose.yml"), "config"],
                            capture_output=True, text=True, cwd=ROOT, timeout=120, env={**os.environ, **secrets})
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert {"rabbitmq", "postgres", "intake", "matching", "notify"} <= set(services)
    for worker in ("matching", "notify", "intake-relay"):
        assert "container_name" not in services[worker]
        assert not services[worker].get("ports"), f"{worker} must not bind host ports (scaling)"
    for name in ("rabbitmq", "postgres", "intake", "intake-relay", "matching", "notify"):
        assert "healthcheck" in services[name] and not services[name]["healthcheck"].get("disable"), name
    for name in ("intake", "matching", "notify"):
        env = services[name]["environment"]
        assert env["MIENSKIP_BROKER_URL"].startswith("amqp://")
        assert env["MIENSKIP_DATABASE_URL"].startswith("postgresql")
        assert env["MIENSKIP_SECRET_KEY"] == secrets["MIENSKIP_SECRET_KEY"]
    _assert_every_service_builds_from_the_root_dockerfile(services)


def _dockerfile_stages():
    """The root Dockerfile's instructions per stage: named stages by name, the final unnamed one as None."""
    stages, current = {"": []}, ""  # "": the ARGs before the first FROM
    for line in (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, rest = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            image, *name = re.split(r"\s+as\s+", rest.strip(), flags=re.I)
            current = name[0] if name else None
            stages[current] = [("FROM", image)]
        else:
            stages[current].append((instruction.upper(), rest.strip()))
    return stages


def _assert_every_service_builds_from_the_root_dockerfile(services):
    """One parameterised Dockerfile: each service passes its SERVICE, which picks the stage that runs it."""
    assert not list(ROOT.glob("services/*/Dockerfile")), "the per-service Dockerfiles are replaced by ./Dockerfile"
    stages = _dockerfile_stages()
    assert ("ARG", "SERVICE") in stages[""] and stages[None] == [("FROM", "mienskip-${SERVICE}")]
    install = " ".join(rest for instruction, rest in stages["base"] if instruction == "RUN" and "pip install" in rest)
    assert "-c requirements/constraints.txt" in install
    for package in ("./shared", "./services/intake", "./services/matching", "./services/notify", "./cli"):
        assert package in install.split(), package
    built = {}
    for name, service in services.items():
        if "build" in service:
            build = service["build"]
            assert Path(build["context"]) == ROOT and build["dockerfile"] == "Dockerfile", name
            built[name] = build["args"]["SERVICE"]
    assert built == {"intake": "intake", "intake-relay": "intake", "matching": "matching", "notify": "notify"}
    expected_cmd = {"intake": ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4",
                               "mienskip_intake.entrypoints.wsgi:create()"],
                    "matching": ["mienskip", "matching"], "notify": ["mienskip", "notify"]}
    for target in set(built.values()):
        chain, stage = [], f"mienskip-{target}"
        while stage in stages:  # up through the stages it is built FROM, to the base image
            chain = stages[stage] + chain
            stage = stages[stage][0][1]
        assert stage == "python:3.11-slim", target
        last = dict(chain)  # the last of each instruction is the one in force
        envs = " ".join(rest for instruction, rest in chain if instruction == "ENV")
        assert last.get("USER") == "mienskip" and "ENTRYPOINT" not in last, target  # compose's command replaces CMD
        assert json.loads(last["CMD"]) == expected_cmd[target], target
        port = re.search(r"127\.0\.0\.1:(\d+)/healthz", last["HEALTHCHECK"]).group(1)
        assert last["EXPOSE"] == port and "MIENSKIP_LOG_JSON=1" in envs, target
        if target != "intake":
            assert f"MIENSKIP_HEALTH_PORT={port}" in envs and "MIENSKIP_HEALTH_HOST=0.0.0.0" in envs, target


def test_compose_refuses_to_run_without_secrets():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIENSKIP_")}
    result = subprocess.run([*_compose_command(), "-f", str(ROOT / "docker-compose.yml"), "config"],
                            capture_output=True, text=True, cwd=ROOT, timeout=120, env=env)
    assert result.returncode != 0 and "MIENSKIP_SECRET_KEY" in result.stderr
