"""docker-compose.yml is valid and scalable (no Docker engine is needed to check it)."""

import os
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
    for name in ("rabbitmq", "postgres", "intake", "matching", "notify"):
        assert "healthcheck" in services[name], name
    for name in ("intake", "matching", "notify"):
        env = services[name]["environment"]
        assert env["MIENSKIP_BROKER_URL"].startswith("amqp://")
        assert env["MIENSKIP_DATABASE_URL"].startswith("postgresql")
        assert env["MIENSKIP_SECRET_KEY"] == secrets["MIENSKIP_SECRET_KEY"]


def test_compose_refuses_to_run_without_secrets():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIENSKIP_")}
    result = subprocess.run([*_compose_command(), "-f", str(ROOT / "docker-compose.yml"), "config"],
                            capture_output=True, text=True, cwd=ROOT, timeout=120, env=env)
    assert result.returncode != 0 and "MIENSKIP_SECRET_KEY" in result.stderr
