"""The deployment manifests in deploy/ carry what a clustered Jikimi needs.

No container runtime or cluster runs here: these tests parse every manifest and check the images,
ports, probes, replicas, limits, secrets and environment each must carry, and that the
configuration they set and the README documents is the configuration the code reads.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.settings import DEFAULT_PORTS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
KUSTOMIZE = DEPLOY / "kubernetes" / "base"
SERVICES = tuple(DEFAULT_PORTS)
SECRET_VARIABLES = {"JIKIMI_DATABASE_URL", "JIKIMI_SECRET_KEY"}
# Names that look like settings but are not read from the environment.
NOT_SETTINGS = {"JIKIMI_DISASTER_TYPE"}  # a CAP <eventCode> valueName in broadcast's alerts
_VARIABLE = re.compile(r"JIKIMI_[A-Z0-9_]+")
# f"JIKIMI_{name.upper()}_PORT" and the like: one variable per service.
_PER_SERVICE = re.compile(r'f"JIKIMI_\{name\.upper\(\)\}(_[A-Z0-9_]+)"')


def _variables_the_code_reads() -> set[str]:
    found: set[str] = set()
    for package in ("shared", "services", "jikimi"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            found |= set(_VARIABLE.findall(text))
            for suffix in _PER_SERVICE.findall(text):
                found |= {f"JIKIMI_{service.upper()}{suffix}" for service in SERVICES}
    return found - NOT_SETTINGS


def _documented_variables() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `JIKIMI_")]
    return {name for row in rows for name in _VARIABLE.findall(row.split("|")[1])}


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def _manifests() -> list[dict[str, Any]]:
    documents = []
    for path in sorted((DEPLOY / "kubernetes").rglob("*.yaml")):
        documents += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return documents


def _kustomized() -> list[dict[str, Any]]:
    """The resources the base's kustomization.yaml lists (the base applies only those)."""
    kustomization = yaml.safe_load((KUSTOMIZE / "kustomization.yaml").read_text(encoding="utf-8"))
    documents = []
    for name in kustomization["resources"]:
        documents += [d for d in yaml.safe_load_all((KUSTOMIZE / name).read_text(encoding="utf-8")) if d]
    return documents


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in _kustomized() if d["kind"] == kind}


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    result: dict[str, Any] = container
    return result


def _config_map() -> dict[str, str]:
    data: dict[str, str] = _of_kind("ConfigMap")["jikimi-config"]["data"]
    return data


def _env_file(name: str) -> dict[str, str]:
    lines = (DEPLOY / "compose" / name).read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_every_yaml_file_in_deploy_parses() -> None:
    paths = sorted(DEPLOY.rglob("*.yaml"))
    assert len(paths) >= 10
    for path in paths:
        assert list(yaml.safe_load_all(path.read_text(encoding="utf-8"))), path


# --- compose ---


@pytest.mark.parametrize("service", SERVICES)
def test_compose_runs_two_healthy_limited_replicas_of_each_service(service: str) -> None:
    spec = _compose()["services"][service]
    port = str(DEFAULT_PORTS[service])
    assert spec["environment"]["SERVICE"] == service
    assert spec["expose"] == [port]
    assert f"http://127.0.0.1:{port}/health" in " ".join(spec["healthcheck"]["test"])
    assert spec["deploy"]["replicas"] >= 2
    assert {"cpus", "memory"} <= spec["deploy"]["resources"]["limits"].keys()
    assert spec["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def test_compose_services_and_migrate_share_one_image_built_from_the_dockerfile() -> None:
    services = _compose()["services"]
    jikimi = [services[name] for name in (*SERVICES, "migrate")]
    assert {spec["image"] for spec in jikimi} == {"jikimi:0.1.0"}
    assert {spec["build"]["dockerfile"] for spec in jikimi} == {"deploy/Dockerfile"}
    assert (DEPLOY / "Dockerfile").exists()


def test_compose_secrets_come_from_the_env_file_never_from_the_compose_file() -> None:
    services = _compose()["services"]
    example = _env_file("secrets.env.example")
    assert example.keys() >= SECRET_VARIABLES
    assert len(example["JIKIMI_SECRET_KEY"]) >= 32
    assert (DEPLOY / "compose" / ".gitignore").read_text().split() == ["secrets.env"]
    for name in (*SERVICES, "migrate"):
        spec = services[name]
        assert [entry["path"] for entry in spec["env_file"]] == ["secrets.env"]
        assert "JIKIMI_NATS_URL" in spec["environment"]
        assert not SECRET_VARIABLES & spec["environment"].keys()


def test_compose_nats_is_a_three_node_jetstream_cluster_syncing_every_write() -> None:
    services = _compose()["services"]
    nodes = sorted(name for name in services if name.startswith("nats-"))
    assert nodes == ["nats-1", "nats-2", "nats-3"]
    for node in nodes:
        command = services[node]["command"]
        assert command[command.index("--name") + 1] == node
        assert "--cluster" in command
        routes = command[command.index("--routes") + 1].split(",")
        assert sorted(routes) == sorted(f"nats://{other}:6222" for other in nodes if other != node)
        assert f"{node}:/data" in services[node]["volumes"]
        assert "./nats/nats.conf:/etc/nats/nats.conf:ro" in services[node]["volumes"]
        assert "healthz" in " ".join(services[node]["healthcheck"]["test"])
    config = (DEPLOY / "compose" / "nats" / "nats.conf").read_text(encoding="utf-8")
    assert re.search(r"jetstream\s*\{[^}]*store_dir:\s*/data[^}]*sync_interval:\s*always", config)


def test_compose_postgres_keeps_fsync_and_its_data_on_a_volume() -> None:
    postgres = _compose()["services"]["postgres"]
    assert {"fsync=on", "synchronous_commit=on", "full_page_writes=on"} <= set(postgres["command"])
    assert "postgres:/var/lib/postgresql/data" in postgres["volumes"]
    assert "postgres" in _compose()["volumes"]


def test_compose_migrate_runs_once_and_makes_the_stream_r3() -> None:
    migrate = _compose()["services"]["migrate"]
    assert "jikimi migrate" in " ".join(migrate["command"])
    assert migrate["restart"] == "no"
    assert migrate["environment"]["JIKIMI_NATS_REPLICAS"] == "3"
    for dependency in ("postgres", "nats-1", "nats-2", "nats-3"):
        assert migrate["depends_on"][dependency] == {"condition": "service_healthy"}


def test_compose_load_balancer_listens_on_every_service_port() -> None:
    lb = _compose()["services"]["lb"]
    caddyfile = (DEPLOY / "compose" / "Caddyfile").read_text(encoding="utf-8")
    for service, port in DEFAULT_PORTS.items():
        assert f"{port}:{port}" in lb["ports"]
        assert f"import replicas {service} {port}" in caddyfile


# --- kubernetes ---


@pytest.mark.parametrize("service", SERVICES)
def test_kubernetes_deploys_two_probed_limited_non_root_replicas_of_each_service(service: str) -> None:
    deployment = _of_kind("Deployment")[service]
    container = _container(deployment)
    port = DEFAULT_PORTS[service]
    assert deployment["spec"]["replicas"] >= 2
    assert container["command"] == ["jikimi", "serve", service]
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}
    assert {"cpu", "memory"} <= container["resources"]["limits"].keys()
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    service_spec = _of_kind("Service")[service]["spec"]
    assert service_spec["ports"] == [{"name": "http", "port": port, "targetPort": "http"}]
    assert service_spec["selector"] == deployment["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("service", SERVICES)
def test_kubernetes_keeps_one_replica_of_each_service_through_disruptions(service: str) -> None:
    budget = _of_kind("PodDisruptionBudget")[service]["spec"]
    assert budget["minAvailable"] == 1
    assert budget["selector"] == _of_kind("Deployment")[service]["spec"]["selector"]


def test_kubernetes_workloads_share_one_image_and_take_secrets_from_the_secret() -> None:
    workloads = [*_of_kind("Deployment").values(), *_of_kind("Job").values()]
    assert len(workloads) == len(SERVICES) + 1
    assert {_container(w)["image"] for w in workloads} == {"jikimi"}
    for workload in workloads:
        container = _container(workload)
        assert container["envFrom"] == [{"configMapRef": {"name": "jikimi-config"}}]
        from_secret = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
        assert from_secret == {name: {"name": "jikimi-secrets", "key": name} for name in SECRET_VARIABLES}
    assert not SECRET_VARIABLES & _config_map().keys()
    assert "JIKIMI_NATS_URL" in _config_map()
    kustomization = yaml.safe_load((KUSTOMIZE / "kustomization.yaml").read_text(encoding="utf-8"))
    assert kustomization["images"] == [{"name": "jikimi", "newTag": "0.1.0"}]
    assert "secret.example.yaml" not in kustomization["resources"]


def test_kubernetes_migrate_job_runs_jikimi_migrate_for_an_r3_stream() -> None:
    job = _of_kind("Job")["jikimi-migrate"]
    assert _container(job)["command"] == ["jikimi", "migrate"]
    assert job["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert _config_map()["JIKIMI_NATS_REPLICAS"] == "3"


def test_kubernetes_nats_values_make_a_three_node_jetstream_cluster_on_files_syncing_always() -> None:
    values = yaml.safe_load((DEPLOY / "kubernetes" / "nats-values.yaml").read_text(encoding="utf-8"))
    config = values["config"]
    assert config["cluster"] == {"enabled": True, "replicas": 3}
    assert config["jetstream"]["enabled"] is True
    assert config["jetstream"]["fileStore"]["enabled"] is True
    assert config["jetstream"]["fileStore"]["pvc"]["enabled"] is True
    assert config["jetstream"]["merge"]["sync_interval"] == "always"
    assert _config_map()["JIKIMI_NATS_URL"] == "nats://nats:4222"  # the release `nats`' Service


# --- configuration ---


def test_every_variable_the_manifests_set_is_one_the_code_reads() -> None:
    read = _variables_the_code_reads()
    compose = _compose()["services"]
    set_by_compose = {name for spec in compose.values() for name in spec.get("environment", {})}
    set_by_compose |= _env_file("secrets.env.example").keys()
    set_by_kubernetes = set(_config_map())
    for document in _manifests():
        if document.get("kind") in {"Deployment", "Job"}:
            set_by_kubernetes |= {e["name"] for e in _container(document)["env"]}
        if document.get("kind") == "Secret":
            set_by_kubernetes |= document["stringData"].keys()
    for name in set_by_compose | set_by_kubernetes:
        assert name in read or not name.startswith("JIKIMI_"), name
    assert SECRET_VARIABLES | {"JIKIMI_NATS_URL", "JIKIMI_NATS_REPLICAS"} <= set_by_compose & set_by_kubernetes


def test_the_configuration_table_lists_every_variable_the_code_reads() -> None:
    read = _variables_the_code_reads()
    assert {"JIKIMI_DATABASE_URL", "JIKIMI_TIMELINE_PORT", "JIKIMI_NATS_REPLICAS"} <= read
    assert sorted(read - _documented_variables()) == []
