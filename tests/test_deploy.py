"""The Kubernetes manifests under deploy/, rendered and checked without a cluster.

Two renderers: a small pure-Python reading of the kustomize features the manifests use (it always
runs, so a machine without kubectl still checks something real, and it refuses features it does not
know), and the real one, `kustomize build` or `kubectl kustomize`, when on PATH. Each rendering gets
the same checks, and the two must produce the same objects.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from shared.config import DEFAULT_PORTS, SERVICES

Doc = dict[str, Any]

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
BASE = DEPLOY / "base"
PRODUCTION = DEPLOY / "overlays" / "production"
KUSTOMIZATIONS = (BASE, PRODUCTION)

HTTP = {name: DEFAULT_PORTS[name] for name in ("web", *SERVICES)}
"""Every HTTP process and its port: the web front and the four services."""
PROCESSES = (*HTTP, "worker")
AUTOSCALED = {"web", "directory", "booking", "worker"}
SECRET_VARS = ("DATABASE_URL", "APP_DB_PASSWORD", "ALLIANCE_JWT_PRIVATE_KEY", "STRIPE_API_KEY")
NEEDS = {
    "accounts": {"DATABASE_URL", "APP_DB_PASSWORD", "ALLIANCE_JWT_PRIVATE_KEY"},
    "billing": {"DATABASE_URL", "APP_DB_PASSWORD", "STRIPE_API_KEY"},
    "worker": {"DATABASE_URL", "APP_DB_PASSWORD", "STRIPE_API_KEY"},
    "migrate": {"DATABASE_URL", "APP_DB_PASSWORD"},
}
"""Secrets a process cannot do without (every process needs DATABASE_URL to load settings)."""
MAILERS = ("accounts", "worker")
"""accounts mails from its routes, and from its event handlers, which run in the worker."""
RUN_AS = 10001  # the image's user, infra/Dockerfile
GENERATED_SUFFIX = re.compile(r"-[a-z0-9]{10}$")
"""The content hash kustomize appends to generated ConfigMap names."""


# --- A pure-Python kustomize, for the subset deploy/ uses -----------------------------------------

KNOWN_FIELDS = {
    "apiVersion",
    "kind",
    "namespace",
    "resources",
    "images",
    "replicas",
    "configMapGenerator",
    "patches",
}


def load_yaml(path: Path) -> list[Doc]:
    with path.open(encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc is not None]


def merge(base: Any, patch: Any) -> Any:
    """Strategic merge as kustomize does it for these manifests: maps merge key by key, lists of
    named items (containers, env, volumes) merge by name, other lists and scalars are replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    if isinstance(base, list) and isinstance(patch, list) and named(base) and named(patch):
        items = [copy.deepcopy(item) for item in base]
        index = {item["name"]: i for i, item in enumerate(items)}
        for item in patch:
            if item["name"] in index:
                items[index[item["name"]]] = merge(items[index[item["name"]]], item)
            else:
                items.append(copy.deepcopy(item))
        return items
    return copy.deepcopy(patch)


def named(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(item, dict) and "name" in item for item in items)


def pod_specs(docs: list[Doc]) -> Iterator[tuple[Doc, Doc]]:
    """(workload, pod spec) for every Deployment and Job."""
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            yield doc, doc["spec"]["template"]["spec"]


def generate_config_map(docs: list[Doc], generator: Doc) -> None:
    unknown = set(generator) - {"name", "behavior", "literals", "options"}
    assert not unknown, f"the Python renderer does not know configMapGenerator {unknown}"
    data = dict(line.split("=", 1) for line in generator.get("literals", []))
    options = generator.get("options", {})
    metadata = {key: options[key] for key in ("labels", "annotations") if key in options}
    metadata["name"] = generator["name"]
    behavior = generator.get("behavior", "create")
    existing = [
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == metadata["name"]
    ]
    if behavior == "create":
        assert not existing, f"ConfigMap {metadata['name']} generated twice"
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data})
    else:
        assert behavior == "merge" and len(existing) == 1, f"cannot {behavior} {metadata['name']}"
        existing[0].update(merge(existing[0], {"metadata": metadata, "data": data}))


def apply_patch(docs: list[Doc], directory: Path, entry: Doc) -> None:
    assert set(entry) <= {"path", "patch", "target"}, f"unknown patch fields in {entry}"
    text = (directory / entry["path"]).read_text() if "path" in entry else entry["patch"]
    target = entry.get("target")
    for patch in yaml.safe_load_all(text):
        assert isinstance(patch, dict), "the Python renderer only knows strategic-merge patches"
        if target:
            assert set(target) <= {"kind", "name"}, f"unknown patch target fields in {target}"
            chosen = [
                d
                for d in docs
                if d["kind"] == target.get("kind", d["kind"])
                and re.fullmatch(target.get("name", ".*"), d["metadata"]["name"])
            ]
            patch = merge(patch, {"metadata": {"name": None}})  # the target names them
        else:
            chosen = [
                d
                for d in docs
                if d["kind"] == patch["kind"] and d["metadata"]["name"] == patch["metadata"]["name"]
            ]
        assert chosen, f"patch {entry} matches nothing"
        for doc in chosen:
            doc.update(merge(doc, patch))


def set_image(image: str, rule: Doc) -> str:
    name, tag = image, ""
    if ":" in image.rsplit("/", 1)[-1]:
        name, tag = image.rsplit(":", 1)
    if name != rule["name"]:
        return image
    tag = str(rule.get("newTag", tag))
    return str(rule.get("newName", name)) + (f":{tag}" if tag else "")


def build(directory: Path) -> list[Doc]:
    """Render a kustomization: resources, generators, then patches, replicas, images, namespace."""
    (kustomization,) = load_yaml(directory / "kustomization.yaml")
    unknown = set(kustomization) - KNOWN_FIELDS
    assert not unknown, f"{directory}: teach the Python renderer {unknown}"
    docs: list[Doc] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        docs.extend(build(path) if path.is_dir() else load_yaml(path))
    for generator in kustomization.get("configMapGenerator", []):
        generate_config_map(docs, generator)
    for entry in kustomization.get("patches", []):
        apply_patch(docs, directory, entry)
    for rule in kustomization.get("replicas", []):
        (deployment,) = [
            d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == rule["name"]
        ]
        deployment["spec"]["replicas"] = rule["count"]
    for rule in kustomization.get("images", []):
        for _, spec in pod_specs(docs):
            for container in spec["containers"]:
                if "image" in container:  # else check_stack says which container lacks one
                    container["image"] = set_image(container["image"], rule)
    if "namespace" in kustomization:
        for doc in docs:
            doc["metadata"]["namespace"] = kustomization["namespace"]
    return docs


# --- The real renderer, when this machine has one -------------------------------------------------


def real_renderer() -> tuple[list[str] | None, str]:
    """The command that renders a directory, or None and why not."""
    candidates = []
    if kustomize := shutil.which("kustomize"):
        candidates.append(([kustomize, "build"], [kustomize, "version"]))
    if kubectl := shutil.which("kubectl"):
        candidates.append(([kubectl, "kustomize"], [kubectl, "version", "--client", "-o", "json"]))
    for command, version_command in candidates:
        try:
            text = subprocess.run(
                version_command, capture_output=True, text=True, timeout=60, check=True
            ).stdout
            if version_command[-1] == "json":
                text = str(json.loads(text).get("kustomizeVersion", ""))
        except (OSError, subprocess.SubprocessError, ValueError):
            continue
        major = re.search(r"v(\d+)\.", text)
        if major and int(major.group(1)) >= 5:
            return command, ""
    return None, "no kustomize v5 (`kustomize` or `kubectl kustomize`) on PATH"


RENDERER, WHY_NOT = real_renderer()


def render_real(directory: Path) -> list[Doc]:
    assert RENDERER is not None
    answer = subprocess.run(
        [*RENDERER, str(directory)], capture_output=True, text=True, timeout=60, check=False
    )
    assert answer.returncode == 0, answer.stderr
    return [doc for doc in yaml.safe_load_all(answer.stdout) if doc is not None]


def unhashed(docs: list[Doc]) -> list[Doc]:
    """Generated ConfigMaps under their plain names, references included, as the Python renderer
    names them."""
    text = json.dumps(docs)
    for doc in docs:
        if doc["kind"] == "ConfigMap":
            name = doc["metadata"]["name"]
            text = text.replace(f'"{name}"', f'"{GENERATED_SUFFIX.sub("", name)}"')
    result: list[Doc] = json.loads(text)
    return result


RENDERERS: dict[str, Callable[[Path], list[Doc]]] = {"python": build, "real": render_real}


@pytest.fixture(params=["python", "real"])
def render(request: pytest.FixtureRequest) -> Callable[[Path], list[Doc]]:
    if request.param == "real" and RENDERER is None:
        pytest.skip(WHY_NOT)
    return RENDERERS[request.param]


# --- What every rendering must satisfy ------------------------------------------------------------


def named_objects(docs: list[Doc], kind: str) -> dict[str, Doc]:
    found = [d for d in docs if d["kind"] == kind]
    objects = {d["metadata"]["name"]: d for d in found}
    assert len(objects) == len(found), f"two {kind}s share a name"
    return objects


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def container_port(spec: Doc, port: int | str) -> int:
    """A probe's or a Service's target port, resolving a port name against the containers."""
    if isinstance(port, int):
        return port
    (number,) = [
        p["containerPort"]
        for c in spec["containers"]
        for p in c.get("ports", [])
        if p.get("name") == port
    ]
    assert isinstance(number, int)
    return number


def env_of(container: Doc) -> dict[str, Doc]:
    return {entry["name"]: entry for entry in container.get("env", [])}


def check_stack(docs: list[Doc]) -> None:
    deployments = named_objects(docs, "Deployment")
    services = named_objects(docs, "Service")
    config_maps = named_objects(docs, "ConfigMap")
    assert set(deployments) == set(PROCESSES)
    assert not [d for d in docs if d["kind"] == "Secret"], "secrets are made in the cluster"

    for workload, spec in pod_specs(docs):
        name = workload["metadata"]["name"]
        security = spec["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] == RUN_AS, name
        assert [c["name"] for c in spec["containers"]] == ["alliance"], name
        for container in spec["containers"]:
            assert container["image"].split(":")[0].endswith("alliance"), name
            resources = container["resources"]
            for part in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources[part]), f"{name}: {part}"
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
            refs = [e["configMapRef"]["name"] for e in container.get("envFrom", [])]
            assert refs and all(ref in config_maps for ref in refs), name
            env = env_of(container)
            for var, entry in env.items():
                secret = entry.get("valueFrom", {}).get("secretKeyRef")
                if var in SECRET_VARS:
                    assert "value" not in entry and secret, f"{name}: {var} must come from a Secret"
                if secret:
                    assert secret["key"] == var, f"{name}: {var} reads key {secret['key']}"
            needed = NEEDS.get(name, {"DATABASE_URL"})
            assert needed <= set(env), f"{name} lacks {needed - set(env)}"
            if name in MAILERS:
                assert "ALLIANCE_SMTP_URL" in env, f"{name} sends mail but has no SMTP server"

    for name, port in HTTP.items():
        spec = deployments[name]["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        assert container["args"] == ["serve", name, "--host", "0.0.0.0", "--port", str(port)]
        assert [p["containerPort"] for p in container["ports"]] == [port]
        # web stays ready while a service behind it is down, so the pages that work still serve.
        ready = "/health/live" if name == "web" else "/health/ready"
        for probe, path in (("readinessProbe", ready), ("livenessProbe", "/health/live")):
            get = container[probe]["httpGet"]
            assert get["path"] == path, f"{name}: {probe}"
            assert container_port(spec, get["port"]) == port, f"{name}: {probe} port"
    (worker,) = deployments["worker"]["spec"]["template"]["spec"]["containers"]
    assert worker["args"][0] == "worker"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert "httpGet" not in worker.get(probe, {}), "the worker serves no HTTP"

    jobs = named_objects(docs, "Job")
    (job,) = jobs.values()
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["args"] == ["migrate"]
    for first in (job, *config_maps.values()):  # what README applies before the rollout
        assert first["metadata"]["labels"]["alliance.dev/stage"] == "pre-rollout"
    assert job["spec"]["template"]["spec"]["restartPolicy"] in ("Never", "OnFailure")

    def pods_of(selector: dict[str, str]) -> list[str]:
        return [
            n
            for n, d in deployments.items()
            if selects(selector, d["spec"]["template"]["metadata"]["labels"])
        ]

    for name, deployment in deployments.items():
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert pods_of(selector) == [name], f"{name}'s selector must pick its own pods only"

    for name, service in services.items():
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP", name
        targets = pods_of(service["spec"]["selector"])
        assert len(targets) == 1, f"Service {name} selects the pods of {targets}"
        target = targets[0]
        spec = deployments[target]["spec"]["template"]["spec"]
        for port in service["spec"]["ports"]:
            assert container_port(spec, port["targetPort"]) == port["port"] == HTTP[target]
    assert set(services) == set(HTTP)

    hpas = named_objects(docs, "HorizontalPodAutoscaler")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} == AUTOSCALED
    for name, hpa in hpas.items():
        assert hpa["apiVersion"] == "autoscaling/v2", name
        ref = hpa["spec"]["scaleTargetRef"]
        assert ref["kind"] == "Deployment" and ref["name"] in deployments, name
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"], name
        assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"], name
        assert "replicas" not in deployments[ref["name"]]["spec"], f"{name}: the HPA owns replicas"

    budgets = named_objects(docs, "PodDisruptionBudget")
    assert [pods_of(b["spec"]["selector"]["matchLabels"]) for b in budgets.values()] == [["web"]]

    ingresses = named_objects(docs, "Ingress")
    (ingress,) = ingresses.values()
    hosts = set()
    for rule in ingress["spec"]["rules"]:
        hosts.add(rule["host"])
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == "web", "only the web front is exposed"
            assert backend["port"] in ({"name": "http"}, {"number": HTTP["web"]})

    (config,) = config_maps.values()
    data = config["data"]
    assert not set(SECRET_VARS) & set(data), "secrets never go in the ConfigMap"
    assert data["ALLIANCE_DATA_DIR"] == "/data" and data["REDIS_URL"].startswith("redis://")
    for name, port in HTTP.items():
        url = urlsplit(data[f"ALLIANCE_{name.upper()}_URL"])
        if name == "web" and url.hostname in hosts:
            continue  # the public origin, which accounts puts in mailed links
        assert (url.scheme, url.hostname, url.port) == ("http", name, port), name
        assert services[name]["spec"]["ports"][0]["port"] == port


def test_every_kustomization_renders_a_sound_stack(render: Callable[[Path], list[Doc]]) -> None:
    for directory in KUSTOMIZATIONS:
        check_stack(unhashed(render(directory)))


@pytest.mark.skipif(RENDERER is None, reason=WHY_NOT)
@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda d: d.name)
def test_python_rendering_matches_kustomize(directory: Path) -> None:
    def key(doc: Doc) -> tuple[str, str]:
        return doc["kind"], doc["metadata"]["name"]

    ours = sorted(build(directory), key=key)
    theirs = sorted(unhashed(render_real(directory)), key=key)
    assert [key(d) for d in ours] == [key(d) for d in theirs]
    for mine, real in zip(ours, theirs, strict=True):
        assert mine == real, key(mine)


def quantity(text: str | int) -> float:
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    value = str(text)
    for suffix, factor in units.items():
        if value.endswith(suffix):
            return float(value.removesuffix(suffix)) * factor
    return float(value)


def test_production_overlay(render: Callable[[Path], list[Doc]]) -> None:
    base, production = unhashed(render(BASE)), unhashed(render(PRODUCTION))
    assert {d["metadata"].get("namespace") for d in production} == {"alliance"}

    base_pods, prod_pods = dict(pod_specs_by_name(base)), dict(pod_specs_by_name(production))
    for name in PROCESSES:
        (before,) = base_pods[name]["containers"]
        (after,) = prod_pods[name]["containers"]
        image, _, tag = after["image"].rpartition(":")
        assert image and tag not in ("", "latest"), f"{name}: pin the image"
        for part in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                was = quantity(before["resources"][part][resource])
                now = quantity(after["resources"][part][resource])
                assert now > was, f"{name}: {part}.{resource}"

    deployments = named_objects(production, "Deployment")
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h
        for h in named_objects(production, "HorizontalPodAutoscaler").values()
    }
    for name in PROCESSES:
        floor = (
            hpas[name]["spec"]["minReplicas"]
            if name in hpas
            else deployments[name]["spec"]["replicas"]
        )
        assert floor >= 2, f"{name}: one pod is a single point of failure"

    (ingress,) = named_objects(production, "Ingress").values()
    hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
    assert "alliance.localhost" not in hosts
    assert hosts <= {h for tls in ingress["spec"]["tls"] for h in tls["hosts"]}, "serve over TLS"

    (config,) = named_objects(production, "ConfigMap").values()
    (base_config,) = named_objects(base, "ConfigMap").values()
    assert config["data"]["REDIS_URL"] != base_config["data"]["REDIS_URL"]
    assert config["data"]["ALLIANCE_WEB_URL"] == f"https://{sorted(hosts)[0]}"


def pod_specs_by_name(docs: list[Doc]) -> Iterator[tuple[str, Doc]]:
    for workload, spec in pod_specs(docs):
        if workload["kind"] == "Deployment":
            yield workload["metadata"]["name"], spec


# --- What the files themselves must not hold ------------------------------------------------------


def walk(node: Any) -> Iterator[Doc]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def test_no_secret_value_is_written_in_deploy() -> None:
    files = sorted(DEPLOY.rglob("*.yaml"))
    assert len(files) > 5
    for path in files:
        for doc in load_yaml(path):
            assert doc.get("kind") != "Secret", f"{path}: secrets are made in the cluster"
            for node in walk(doc):
                if node.get("name") in SECRET_VARS:
                    assert "value" not in node, f"{path}: {node['name']} is inlined"
            assert "secretGenerator" not in doc, f"{path}: secrets are made in the cluster"
            for generator in doc.get("configMapGenerator", []):
                for literal in generator.get("literals", []):
                    assert literal.split("=", 1)[0] not in SECRET_VARS, f"{path}: {literal}"


def test_readme_names_every_secret_the_manifests_read() -> None:
    readme = (DEPLOY / "README.md").read_text()
    keys = {
        node["key"]
        for directory in KUSTOMIZATIONS
        for node in walk(build(directory))
        if node.get("name") == "alliance-secrets" and "key" in node
    }
    assert set(SECRET_VARS) <= keys
    missing = sorted(key for key in keys if key not in readme)
    assert not missing, f"deploy/README.md does not say these must exist: {missing}"
