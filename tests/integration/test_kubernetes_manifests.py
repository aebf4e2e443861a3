"""deploy/kubernetes renders, validates and keeps its promises, without a cluster (issue 15).

Each overlay is rendered with ``kubectl kustomize`` (``MIENSKIP_KUBECTL`` names another
kubectl). Built-in resources are validated by kubernetes-validate against the schemas it
ships for :data:`KUBERNETES_VERSION`, strictly (an unknown field fails); the custom resources
against their CRDs' OpenAPI schemas vendored in deploy/kubernetes/crds, as strictly: a field
the CRD does not declare fails, as ``kubectl apply --validate=strict`` would.
Without kubectl the tests skip, with the reason; with MIENSKIP_REQUIRE_SERVICES=1 they fail.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from click.testing import CliRunner

from mienskip_cli.main import main as mienskip
from mienskip_shared.messaging.topology import SUBSCRIPTIONS, queues_for

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kubernetes"
CRDS = DEPLOY / "crds"
OVERLAYS = ("dev", "production")
KUBERNETES_VERSION = "1.32.0"
REQUIRE = os.environ.get("MIENSKIP_REQUIRE_SERVICES") == "1"
BUILT_IN_GROUPS = {"", "apps", "batch", "policy", "networking.k8s.io", "autoscaling", "rbac.authorization.k8s.io"}
SERVICES = ("intake-web", "intake-relay", "matching", "notify")
WORKERS = ("intake-relay", "matching", "notify")
SCALED_BY_QUEUE = ("matching", "notify")
OPERATOR_SECRETS = {"mienskip-postgres-app", "mienskip-rabbitmq-default-user"}


def _kubectl() -> str:
    kubectl = os.environ.get("MIENSKIP_KUBECTL") or shutil.which("kubectl")
    if kubectl is None:
        message = "kubectl is not installed (Debian: apt-get install kubernetes-client; .ci/run does)"
        if REQUIRE:
            pytest.fail(message + " -- required in CI")
        pytest.skip(message)
    return kubectl


@cache
def _render(overlay: str) -> tuple[dict, ...]:
    built = subprocess.run([_kubectl(), "kustomize", str(DEPLOY / "overlays" / overlay)], capture_output=True,
                           text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    return tuple(doc for doc in yaml.safe_load_all(built.stdout) if doc)


@pytest.fixture(params=OVERLAYS)
def overlay(request) -> str:
    return request.param


@pytest.fixture
def rendered(overlay) -> tuple[dict, ...]:
    return _render(overlay)


def _of_kind(docs, kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def _pod_specs(docs) -> dict[str, dict]:
    """Every workload's pod spec by its name: Deployments and the migration Job."""
    return {doc["metadata"]["name"]: doc["spec"]["template"]["spec"] for doc in docs
            if doc["kind"] in ("Deployment", "Job")}


def _containers(pod: dict) -> list[dict]:
    return pod.get("initContainers", []) + pod["containers"]


# -- rendering and validation -----------------------------------------------------------------

@cache
def _crd_schemas() -> dict[tuple[str, str, str], dict]:
    """(group, version, kind) -> the vendored openAPIV3Schema, made strict."""
    schemas = {}
    for path in CRDS.glob("*.json"):
        crd = json.loads(path.read_text())
        assert {"repository", "tag", "commit", "licence"} <= set(crd["source"]), path
        for version, schema in crd["versions"].items():
            schemas[(crd["group"], version, crd["kind"])] = _strict(copy.deepcopy(schema))
    return schemas


def _strict(schema):
    """No field beyond those declared, except where the CRD keeps unknown fields."""
    if isinstance(schema, dict):
        if "properties" in schema and "additionalProperties" not in schema \
                and not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema["additionalProperties"] = False
        for value in schema.values():
            _strict(value)
    elif isinstance(schema, list):
        for value in schema:
            _strict(value)
    return schema


def _validate_custom(doc: dict, schema: dict) -> None:
    """The apiserver's check of a custom resource, as far as JSON Schema goes. The schema itself
    is not checked against the metaschema: CRDs carry Go regular expressions (``^(?i)...``) that
    Python's ``re`` does not take, in fields these manifests do not set."""
    jsonschema.Draft7Validator(schema).validate(doc)


def test_both_overlays_render_and_every_resource_validates_against_its_schema(rendered):
    custom = set()
    for doc in rendered:
        group, _, version = doc["apiVersion"].rpartition("/")
        if group in BUILT_IN_GROUPS:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            continue
        schema = _crd_schemas().get((group, version, doc["kind"]))
        assert schema is not None, f"no vendored CRD schema for {doc['apiVersion']} {doc['kind']}"
        _validate_custom(doc, schema)
        custom.add(doc["kind"])
    assert {"RabbitmqCluster", "Cluster", "ScheduledBackup", "ScaledObject", "TriggerAuthentication",
            "PodMonitor", "PrometheusRule"} <= custom


def test_a_misspelt_field_fails_validation(rendered):
    """The checks above would catch a typo: strict schemas, built-in and custom alike."""
    deployment = copy.deepcopy(_of_kind(rendered, "Deployment")["matching"])
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    scaled = copy.deepcopy(_of_kind(rendered, "ScaledObject")["matching"])
    scaled["spec"]["maxReplicas"] = 3
    with pytest.raises(jsonschema.ValidationError):
        _validate_custom(scaled, _crd_schemas()[("keda.sh", "v1alpha1", "ScaledObject")])


def test_the_stateful_parts_run_on_their_operators(rendered, overlay):
    rabbit = _of_kind(rendered, "RabbitmqCluster")["mienskip-rabbitmq"]["spec"]
    postgres = _of_kind(rendered, "Cluster")["mienskip-postgres"]["spec"]
    expected = 3 if overlay == "production" else 1
    assert rabbit["replicas"] == expected and postgres["instances"] == expected
    assert postgres["backup"]["barmanObjectStore"]["destinationPath"].startswith("s3://")
    backups = _of_kind(rendered, "ScheduledBackup")
    assert [b["spec"]["cluster"]["name"] for b in backups.values()] == ["mienskip-postgres"]
    # every queue is a quorum queue, so the RabbitMQ nodes replicate every message
    assert {queue.queue_arguments["x-queue-type"] for sub in SUBSCRIPTIONS for queue in queues_for(sub)} == {"quorum"}


# -- the pods' promises --------------------------------------------------------------------------

def test_every_container_is_non_root_read_only_and_limited(rendered):
    pods = _pod_specs(rendered)
    assert set(pods) == {*SERVICES, "mienskip-migrate"}
    for name, pod in pods.items():
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0, name
        assert pod.get("automountServiceAccountToken") is False, name
        for container in _containers(pod):
            where = f"{name}/{container['name']}"
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["allowPrivilegeEscalation"] is False and security["capabilities"]["drop"] == ["ALL"], where
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(resources["limits"]), where
            assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp"}, where  # the one writable place


def test_every_service_has_liveness_and_readiness_on_its_health_endpoints(rendered):
    pods = _pod_specs(rendered)
    for name in SERVICES:
        (container,) = pods[name]["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz", name  # slow starts are not restarted
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        probed = container["livenessProbe"]["httpGet"]["port"]
        assert probed in ports and container["readinessProbe"]["httpGet"]["port"] == probed, name
        if name in WORKERS:  # the process serves its probes on the port it is told
            assert ports[probed] == 8080 and container["command"][-2:] == ["--health-port", "8080"], name


def test_sigterm_gives_a_worker_time_to_finish_its_round(rendered):
    """The worker process joins each thread for up to 10 s after SIGTERM (cli/mienskip_cli/main.py);
    matching's solver may run its time limit first."""
    pods = _pod_specs(rendered)
    for name in SERVICES:
        assert pods[name]["terminationGracePeriodSeconds"] >= 30, name
    assert pods["matching"]["terminationGracePeriodSeconds"] >= 10 + 5 + 10  # join + solver limit + margin


def test_only_intake_web_is_exposed(rendered):
    services = _of_kind(rendered, "Service")
    assert list(services) == ["intake"]
    assert services["intake"]["spec"]["selector"]["app.kubernetes.io/component"] == "intake-web"
    (ingress,) = _of_kind(rendered, "Ingress").values()
    backends = [path["backend"]["service"]["name"] for rule in ingress["spec"]["rules"]
                for path in rule["http"]["paths"]]
    assert backends == ["intake"]
    for name in WORKERS:
        assert all(s["spec"].get("type", "ClusterIP") == "ClusterIP" and
                   s["spec"]["selector"].get("app.kubernetes.io/component") != name for s in services.values())


def _policy_for(policies: dict, labels: dict) -> list[dict]:
    return [p for p in policies.values()
            if all(labels.get(k) == v for k, v in p["spec"]["podSelector"]["matchLabels"].items())]


def _egress_ports(policies: list[dict]) -> set[int]:
    return {port["port"] for p in policies for rule in p["spec"].get("egress", []) for port in rule.get("ports", [])}


def test_network_policies_let_in_only_intake_and_let_workers_reach_only_their_servers(rendered):
    policies = _of_kind(rendered, "NetworkPolicy")
    pods = {doc["metadata"]["name"]: doc["spec"]["template"]["metadata"]["labels"] for doc in rendered
            if doc["kind"] in ("Deployment", "Job")}
    for name, labels in pods.items():
        mine = _policy_for(policies, labels)
        assert mine and all({"Egress"} <= set(p["spec"]["policyTypes"]) for p in mine), name
        assert any("Ingress" in p["spec"]["policyTypes"] for p in mine), name  # ingress is default-deny for it
        ingress = [rule for p in mine for rule in p["spec"].get("ingress", [])]
        if name == "intake-web":
            assert ingress == [{"ports": [{"port": 8000, "protocol": "TCP"}]}]
        else:  # at most Prometheus, from the monitoring namespace, on the health port
            for rule in ingress:
                assert rule["ports"] == [{"port": 8080, "protocol": "TCP"}], name
                assert [f["namespaceSelector"]["matchLabels"] for f in rule["from"]] == \
                       [{"kubernetes.io/metadata.name": "monitoring"}], name
        outside = [peer for p in mine for rule in p["spec"].get("egress", []) for peer in rule.get("to", [])
                   if "ipBlock" in peer]
        if name == "notify":  # SMTP, and HTTPS for the SMS gateway and kamers' webhooks, outside the cluster
            assert _egress_ports(mine) == {53, 5672, 5432, 25, 465, 587, 443}
            assert outside and all("10.0.0.0/8" in peer["ipBlock"]["except"] for peer in outside)
        else:
            assert not outside, name
            assert _egress_ports(mine) <= {53, 5672, 5432}, name
    assert _egress_ports(_policy_for(policies, pods["mienskip-migrate"])) == {53, 5432}


def test_every_service_has_a_disruption_budget(rendered):
    budgets = _of_kind(rendered, "PodDisruptionBudget")
    deployments = _of_kind(rendered, "Deployment")
    for name, deployment in deployments.items():
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert any(b["spec"]["selector"]["matchLabels"] == selector for b in budgets.values()), name


# -- autoscaling -------------------------------------------------------------------------------

def _main_queues(consumer: str) -> list[str]:
    return [sub.queue_name for sub in SUBSCRIPTIONS if sub.consumer == consumer]


def _side_queues(consumer: str) -> list[str]:
    return [name for sub in SUBSCRIPTIONS if sub.consumer == consumer
            for name in (sub.dead_letter_queue_name, sub.retry_queue_name(1), sub.retry_queue_name(4))]


def test_keda_scales_matching_and_notify_on_every_queue_they_consume(rendered, overlay):
    scaled = _of_kind(rendered, "ScaledObject")
    assert set(scaled) == {"matching", "notify", "intake-web"}
    for name in SCALED_BY_QUEUE:
        spec = scaled[name]["spec"]
        assert spec["scaleTargetRef"]["name"] == name
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        assert spec["maxReplicaCount"] > 1 if overlay == "production" else spec["maxReplicaCount"] == 1
        (trigger,) = spec["triggers"]
        meta = trigger["metadata"]
        assert trigger["type"] == "rabbitmq" and meta["mode"] == "QueueLength" and float(meta["value"]) > 0
        assert meta["useRegex"] == "true" and meta["protocol"] == "http"  # KEDA takes regexes over HTTP only
        pattern = re.compile(meta["queueName"])
        assert all(pattern.fullmatch(q) for q in _main_queues(name)), name  # a new queue is counted at once
        assert not any(pattern.fullmatch(q) for q in _side_queues(name)), name
        others = [q for sub in SUBSCRIPTIONS if sub.consumer != name for q in [sub.queue_name]]
        assert not any(pattern.fullmatch(q) for q in others), name
        auth = _of_kind(rendered, "TriggerAuthentication")[trigger["authenticationRef"]["name"]]
        assert {ref["name"] for ref in auth["spec"]["secretTargetRef"]} == {"mienskip-rabbitmq-default-user"}
        assert "@" not in meta["host"]  # credentials come from the operator's Secret, not the manifest
    (cpu,) = scaled["intake-web"]["spec"]["triggers"]
    assert cpu["type"] == "cpu" and cpu["metricType"] == "Utilization"
    deployments = _of_kind(rendered, "Deployment")
    for name in scaled:  # KEDA owns their replicas: a fixed count would fight it on every apply
        assert "replicas" not in deployments[name]["spec"], name


# -- images and secrets --------------------------------------------------------------------------

PINNED = re.compile(r"^[^@\s]+(@sha256:[0-9a-f]{64}|:(?!latest$)[0-9][\w.-]*(@sha256:[0-9a-f]{64})?)$")


def test_every_image_is_pinned_by_version_or_digest(rendered):
    images = [container["image"] for pod in _pod_specs(rendered).values() for container in _containers(pod)]
    images += [_of_kind(rendered, "RabbitmqCluster")["mienskip-rabbitmq"]["spec"]["image"],
               _of_kind(rendered, "Cluster")["mienskip-postgres"]["spec"]["imageName"]]
    assert images
    for image in images:
        assert PINNED.match(image), f"{image}: pin a version or a digest"


def test_no_secret_is_written_down(rendered):
    assert not _of_kind(rendered, "Secret"), "Secrets are created by operators and people, never in the repo"
    settings = _of_kind(rendered, "ConfigMap")["mienskip-settings"]["data"]
    assert not [key for key in settings if re.search(r"SECRET|PASSWORD|KEY|TOKEN|SMTP_URL|DATABASE_URL|BROKER_URL",
                                                      key)]
    for name, pod in _pod_specs(rendered).items():
        for container in _containers(pod):
            env = {e["name"]: e for e in container["env"]}
            for key, entry in env.items():
                if re.search(r"SECRET|PASSWORD|_KEY$|SMTP_URL|SMS_URL|_USER$", key):
                    assert "secretKeyRef" in entry.get("valueFrom", {}), f"{name}: {key} must come from a Secret"
            for key in ("MIENSKIP_DATABASE_URL", "MIENSKIP_BROKER_URL"):
                literal = re.sub(r"\$\([A-Z_]+\)", "", env[key]["value"])
                assert ":" in literal and "@" in literal and not re.search(r"//[^$/:]+:[^$@]+@", env[key]["value"])
                for var in re.findall(r"\$\(([A-Z_]+)\)", env[key]["value"]):  # filled from the operators' Secrets
                    assert env[var]["valueFrom"]["secretKeyRef"]["name"] in OPERATOR_SECRETS, f"{name}: {var}"


# -- migrations ----------------------------------------------------------------------------------

def test_a_migration_job_runs_first_and_every_service_waits_for_it(rendered):
    (job,) = _of_kind(rendered, "Job").values()
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["command"] == ["mienskip", "migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] in ("OnFailure", "Never")
    for name, pod in _pod_specs(rendered).items():
        if name == "mienskip-migrate":
            continue
        (wait,) = pod["initContainers"]
        assert "mienskip migrate --check" in " ".join(wait["command"]), name
        assert wait["image"] == pod["containers"][0]["image"], name  # waits for its own release's migrations
    commands = mienskip.commands
    assert "migrate" in commands and "--check" in {o for p in commands["migrate"].params for o in p.opts}


def test_the_commands_the_manifests_run_exist_with_their_flags():
    runner = CliRunner()
    for args in (["intake", "--help"], ["matching", "--help"], ["notify", "--help"]):
        answer = runner.invoke(mienskip, args)
        assert answer.exit_code == 0 and "--health-port" in answer.output, args


# -- what to watch -------------------------------------------------------------------------------

def _exported_metric_names() -> set[str]:
    """What this code base exports: every metric registered once its modules are imported."""
    from prometheus_client import REGISTRY

    import mienskip_intake.entrypoints.metrics  # noqa: F401 -- registers the proposal gauge
    import mienskip_shared.messaging.consumer  # noqa: F401
    import mienskip_shared.messaging.outbox  # noqa: F401

    names = set()
    for family in REGISTRY.collect():
        names |= {family.name, f"{family.name}_total"} if family.type == "counter" else {family.name}
    return names


def test_the_alerts_watch_metrics_that_are_really_exported(rendered):
    (rules,) = _of_kind(rendered, "PrometheusRule").values()
    alerts = {rule["alert"]: rule["expr"] for group in rules["spec"]["groups"] for rule in group["rules"]}
    exported = _exported_metric_names()
    used = {name for expr in alerts.values() for name in re.findall(r"\b(mienskip_[a-z_]+|rabbitmq_[a-z_]+)\b", expr)}
    ours = {name for name in used if name.startswith("mienskip_")}
    assert ours and ours <= exported, ours - exported
    # RabbitMQ's per-queue figures come from the family the PodMonitor asks for
    monitors = _of_kind(rendered, "PodMonitor")
    (endpoint,) = monitors["mienskip-rabbitmq-queues"]["spec"]["podMetricsEndpoints"]
    assert endpoint["path"] == "/metrics/detailed" and endpoint["params"]["family"] == ["queue_coarse_metrics"]
    assert {name for name in used if name.startswith("rabbitmq_")} <= {
        "rabbitmq_detailed_queue_messages", "rabbitmq_detailed_queue_messages_ready",
        "rabbitmq_detailed_queue_messages_unacked"}
    watched = " ".join(alerts.values())
    for what in ("rabbitmq_detailed_queue_messages_ready", r'queue=~".+\\.dlq"', "mienskip_outbox_backlog",
                 "mienskip_oldest_unanswered_proposal_seconds"):  # depth, DLQ, relay, proposals
        assert what in watched, what
