"""deploy/kubernetes: the DaemonSet and its overlays, checked offline by the tools a cluster's CI would
use (yamllint, kubernetes-validate --strict on the rendered kustomizations) and by reading the invariants
of the dcgm-exporter / node_exporter pattern out of the rendered YAML."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.app import ROOT

KUBE = ROOT / "deploy" / "kubernetes"
VARIANTS = ["base", "overlays/monitoring", "overlays/nvidia-monitoring", "overlays/fleet"]
BUILD_SCRIPT = (ROOT / "deploy" / "container" / "build-image.sh").read_text()


# --- a small kustomize: resources, components, strategic-merge patches, namespace, labels, images ----
def _merge(into, patch):
    if isinstance(into, dict) and isinstance(patch, dict):
        for key, value in patch.items():
            into[key] = _merge(into[key], value) if key in into else copy.deepcopy(value)
        return into
    if (
        isinstance(into, list)
        and isinstance(patch, list)
        and all(isinstance(i, dict) and "name" in i for i in patch)
    ):
        by_name = {item.get("name"): item for item in into if isinstance(item, dict)}
        for item in patch:
            if item["name"] in by_name:
                _merge(by_name[item["name"]], item)
            else:
                into.append(copy.deepcopy(item))
        return into
    return copy.deepcopy(patch)


def render(directory: Path, docs: list[dict] | None = None) -> list[dict]:
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text())
    docs = list(docs or [])
    for resource in spec.get("resources", []):
        path = directory / resource
        docs += render(path) if path.is_dir() else [d for d in yaml.safe_load_all(path.read_text()) if d]
    for component in spec.get("components", []):
        docs = render(directory / component, docs)
    for patch in spec.get("patches", []):
        body = yaml.safe_load((directory / patch["path"]).read_text())
        (target,) = [
            d for d in docs if (d["kind"], d["metadata"]["name"]) == (body["kind"], body["metadata"]["name"])
        ]
        _merge(target, {k: v for k, v in body.items() if k not in ("apiVersion", "kind", "metadata")})
    for doc in docs:
        meta = doc["metadata"]
        if spec.get("namespace") and doc["kind"] != "Namespace":
            meta["namespace"] = spec["namespace"]
        for group in spec.get("labels", []):
            meta.setdefault("labels", {}).update(group["pairs"])
        for image in spec.get("images", []):
            for container in _containers(doc):
                if container["image"] == image["name"]:
                    container["image"] = f"{image['newName']}:{image['newTag']}"
    return docs


def _containers(doc: dict) -> list[dict]:
    return doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])


def _key(doc):
    return (doc["kind"], doc["metadata"]["name"])


@pytest.fixture(scope="module", params=VARIANTS)
def variant(request):
    return request.param, render(KUBE / request.param)


def _one(docs, kind):
    (doc,) = [d for d in docs if d["kind"] == kind]
    return doc


# --- the tools ------------------------------------------------------------------------------------
def _tool(name: str) -> str:
    path = Path(sys.executable).with_name(name)
    if not path.exists():
        pytest.skip(f"{name} is absent: pip install -e '.[test]'")
    return str(path)


def test_yamllint_passes_on_every_file_in_deploy():
    result = subprocess.run(
        [_tool("yamllint"), "--strict", "-c", str(ROOT / "deploy" / ".yamllint.yml"), str(ROOT / "deploy")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _validate(tmp_path: Path, docs: list[dict]) -> subprocess.CompletedProcess:
    path = tmp_path / "rendered.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    return subprocess.run(
        [_tool("kubernetes-validate"), "--strict", "--quiet", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_rendered_manifests_pass_kubernetes_validate_strict(variant, tmp_path):
    _name, docs = variant
    result = _validate(tmp_path, docs)
    assert result.returncode == 0, result.stdout + result.stderr
    # Only the Prometheus Operator's custom resource has no bundled schema (checked below by hand).
    unknown = re.findall(r"Couldn't find schema for kind (\w+)", result.stdout + result.stderr)
    assert set(unknown) <= {"PodMonitor"}


def test_strict_validation_would_catch_a_misspelt_field(tmp_path):
    """So that the passing check above means something: one wrong letter in a field name fails it."""
    docs = render(KUBE / "base")
    _containers(_one(docs, "DaemonSet"))[0]["securityContext"]["readOnlyRootFileSystem"] = True
    assert _validate(tmp_path, docs).returncode != 0


def test_our_rendering_is_kustomizes_when_kubectl_is_here(variant):
    kubectl = shutil.which("kubectl") or shutil.which("kustomize")
    if not kubectl:
        pytest.skip("neither kubectl nor kustomize here: the rendering above is the tests' own")
    name, docs = variant
    args = [kubectl, "kustomize" if kubectl.endswith("kubectl") else "build", str(KUBE / name)]
    theirs = list(yaml.safe_load_all(subprocess.run(args, capture_output=True, text=True, check=True).stdout))
    assert _canon(sorted(theirs, key=_key)) == _canon(sorted(docs, key=_key))


def _canon(value):
    """Lists of named entries (volumes, mounts) compared as sets: a merge may put new ones first or last."""
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canon(v) for v in value]
        if items and all(isinstance(i, dict) and "name" in i for i in items):
            return sorted(items, key=lambda i: (i["name"], i.get("mountPath", "")))
        return items
    return value


# --- the invariants -------------------------------------------------------------------------------
def test_nothing_is_privileged_and_every_capability_is_dropped(variant):
    _name, docs = variant
    pod = _one(docs, "DaemonSet")["spec"]["template"]["spec"]
    assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["automountServiceAccountToken"] is False
    uid = int(re.search(r"^UID_AGENT=(\d+)$", BUILD_SCRIPT, re.M).group(1))
    assert pod["securityContext"]["runAsUser"] == uid, "the image's user, owner of the node's miner id file"
    for container in pod["containers"]:
        sc = container["securityContext"]
        assert sc["privileged"] is False and sc["allowPrivilegeEscalation"] is False
        assert sc["readOnlyRootFilesystem"] is True and sc["runAsNonRoot"] is True
        assert sc["capabilities"] == {"drop": ["ALL"]}


def test_host_proc_and_sys_read_only_at_host_and_handed_to_the_agent(variant):
    _name, docs = variant
    pod = _one(docs, "DaemonSet")["spec"]["template"]["spec"]
    (agent,) = pod["containers"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in agent["volumeMounts"]}
    for host in ("/proc", "/sys"):
        mount = mounts["/host" + host]
        assert mount["readOnly"] is True
        assert volumes[mount["name"]]["hostPath"]["path"] == host
    assert agent["args"][agent["args"].index("--host-root") + 1] == "/host"
    writable = [m for m in agent["volumeMounts"] if not m.get("readOnly")]
    assert [m["mountPath"] for m in writable] == ["/var/lib/polaris-tray"], (
        "state only, in the pod's emptyDir"
    )
    assert "emptyDir" in volumes[writable[0]["name"]]


def test_one_miner_id_per_node_from_the_nodes_own_file(variant):
    name, docs = variant
    pod = _one(docs, "DaemonSet")["spec"]["template"]["spec"]
    (agent,) = pod["containers"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    (mount,) = [m for m in agent["volumeMounts"] if m["mountPath"] == "/etc/polaris-tray/miner-id"]
    assert mount["readOnly"] is True
    assert volumes[mount["name"]]["hostPath"] == {"path": "/etc/polaris-tray/miner-id", "type": "File"}
    assert '"--miner-id-file", "/etc/polaris-tray/miner-id"' in BUILD_SCRIPT, "the path the image reads"
    assert not any("MINER" in e["name"].upper() for e in agent.get("env", []))
    assert not [d for d in docs if d["kind"] in ("Secret", "ConfigMap")], (
        f"{name}: no id shipped in a manifest"
    )


def test_gpu_taints_tolerated_and_no_gpu_requested(variant):
    name, docs = variant
    pod = _one(docs, "DaemonSet")["spec"]["template"]["spec"]
    tolerated = {(t["key"], t["operator"]) for t in pod["tolerations"]}
    assert {("nvidia.com/gpu", "Exists"), ("amd.com/gpu", "Exists")} <= tolerated
    for container in pod["containers"]:
        resources = container.get("resources", {})
        asked = {**resources.get("requests", {}), **resources.get("limits", {})}
        assert not [r for r in asked if r.endswith("/gpu")], (
            "a GPU request would take a GPU from the scheduler"
        )
    env = {e["name"]: e["value"] for e in pod["containers"][0].get("env", [])}
    if name in ("overlays/nvidia-monitoring", "overlays/fleet"):
        assert pod["runtimeClassName"] == "nvidia"
        assert env["NVIDIA_VISIBLE_DEVICES"] == "all" and env["NVIDIA_DRIVER_CAPABILITIES"] == "utility"
    else:
        assert "runtimeClassName" not in pod and not env


def test_metrics_port_serves_the_liveness_probe_and_the_pod_monitor(variant):
    name, docs = variant
    daemonset = _one(docs, "DaemonSet")
    (agent,) = daemonset["spec"]["template"]["spec"]["containers"]
    (port,) = agent["ports"]
    listen = agent["args"][agent["args"].index("--metrics-listen") + 1]
    assert listen == f"0.0.0.0:{port['containerPort']}" and "--metrics-allow-remote" in agent["args"]
    probe = agent["livenessProbe"]["httpGet"]
    assert probe == {"path": "/metrics", "port": port["name"]}
    assert agent["livenessProbe"]["periodSeconds"] * agent["livenessProbe"]["failureThreshold"] >= 60
    monitors = [d for d in docs if d["kind"] == "PodMonitor"]
    if name == "base":
        assert not monitors
        return
    (monitor,) = monitors
    labels = daemonset["spec"]["template"]["metadata"]["labels"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert monitor["metadata"]["namespace"] == daemonset["metadata"]["namespace"]
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["port"] == port["name"] and endpoint["path"] == "/metrics"
    relabel = {r["targetLabel"]: r for r in endpoint["relabelings"]}
    assert relabel["node"]["sourceLabels"] == ["__meta_kubernetes_pod_node_name"], (
        "the dashboard's node label"
    )
    assert relabel["job"]["replacement"] == "polaris-agent", "the job the alert rules name"
