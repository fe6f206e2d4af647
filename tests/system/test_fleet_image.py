"""The agent's OCI image (deploy/container): built here from a Debian minbase root with buildah, unpacked
with umoci, and its entry point run as a container runtime would run it (crun cannot start containers on
this machine): the image's user and environment, a read-only root, the host's /proc and /sys at /host."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

import psutil
import pytest

from tests.support.app import ARTIFACTS
from tests.support.fake_nvml import build_fake_nvml
from tests.support.minbase import IMAGE_UID, container_argv, image, listing, oci_config

# Building a Debian root, an image or a wheelhouse takes minutes on a loaded machine: once per run.
pytestmark = pytest.mark.timeout(900)


MINER_ID = "miner-abcdef123456"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def built():
    out, size = image()
    (ARTIFACTS / "fleet-image-size.txt").write_text(size + "\n")
    print(size)
    from polaris_tray import __version__

    return out, f"polaris-tray:{__version__}"


@pytest.fixture(scope="module")
def bundle(built, tmp_path_factory):
    out, tag = built
    dest = tmp_path_factory.mktemp("bundle") / "b"
    subprocess.run(
        ["umoci", "unpack", "--image", f"{out / 'oci'}:{tag}", str(dest)],
        check=True,
        timeout=300,
        capture_output=True,
    )
    return dest


def test_image_config_runs_as_a_non_root_user_with_sigterm_and_no_secret(built):
    out, tag = built
    config = oci_config(out / "oci", tag)["config"]
    assert config["User"] == f"{IMAGE_UID}:{IMAGE_UID}"
    assert config["StopSignal"] == "SIGTERM"
    assert config["Entrypoint"][:4] == [
        "/usr/local/bin/polaris-tray",
        "--headless",
        "--miner-id-file",
        "/etc/polaris-tray/miner-id",
    ]
    assert "/var/lib/polaris-tray" in config["Volumes"]
    assert "9464/tcp" in config["ExposedPorts"]
    env = dict(e.split("=", 1) for e in config["Env"])
    assert not any("MINER" in k for k in env), "the miner id comes from a mounted file, never the image"
    assert all(
        v.startswith("/var/lib/polaris-tray") for k, v in env.items() if k.startswith(("XDG_", "HOME"))
    )


def test_image_holds_no_qt_and_is_small(built, bundle):
    _out, _tag = built
    rootfs = bundle / "rootfs"
    lib = rootfs / "opt" / "polaris-tray" / "lib"
    assert (lib / "polaris_tray" / "cli" / "__init__.py").is_file()
    assert (
        not list(lib.glob("PySide6*")) and not list(lib.glob("shiboken6*")) and not list(lib.glob("keyring*"))
    )
    size_mb = sum(p.stat().st_size for p in rootfs.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20
    print(f"unpacked image: {size_mb:.0f} MB")
    assert size_mb < 250, "a minbase root with python3 and the agent is about 135 MB"


def _volumes(tmp_path):
    """An empty state folder as a Kubernetes emptyDir comes (root's, mode 0777), and the miner id as the
    node keeps it (the image's user's, 0600)."""
    state = tmp_path / "state"
    state.mkdir()
    os.chmod(state, 0o777)  # noqa: S103 - what an emptyDir is
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "miner-id").write_text(MINER_ID + "\n")
    os.chown(secrets / "miner-id", IMAGE_UID, IMAGE_UID)
    os.chmod(secrets / "miner-id", 0o600)
    return state, secrets


def test_unpacked_root_beats_and_stops_on_sigterm_writing_only_its_state(bundle, orchestrator, tmp_path):
    rootfs = bundle / "rootfs"
    config = json.loads((bundle / "config.json").read_text())["process"]
    user = f"{config['user']['uid']}:{config['user']['gid']}"
    assert config["user"]["uid"] == IMAGE_UID and config["cwd"] == "/var/lib/polaris-tray"
    state, secrets = _volumes(tmp_path)
    port = _free_port()
    entry = config["args"][:4]  # the ENTRYPOINT; the CMD (metrics on 0.0.0.0) replaced as `docker run` does
    argv = [
        *entry,
        "--server-url",
        orchestrator.url,
        "--interval",
        "0.3",
        "--host-root",
        "/host",
        "--metrics-listen",
        f"127.0.0.1:{port}",
    ]
    before = listing(rootfs)
    proc = subprocess.Popen(
        container_argv(rootfs, state=state, secrets=secrets, user=user, env=config["env"], argv=argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd="/",
    )
    try:
        assert orchestrator.wait_for(3, timeout=60), "no three beats from the unpacked image"
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        agent = _agent_process(proc.pid)
        assert agent.uids().real == IMAGE_UID
        stopped = time.monotonic()
        agent.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=10)
        took = time.monotonic() - stopped
    finally:
        if proc.poll() is None:
            proc.kill()
        out, err = proc.communicate(timeout=10)
    assert rc == 0, err[-3000:]
    assert took < 2.0, f"SIGTERM took {took:.2f} s"
    bodies = orchestrator.bodies()
    assert len(bodies) >= 3 and all(b["metrics"]["miner_id"] == MINER_ID for b in bodies), (
        "every beat carries the id read from the mounted file"
    )
    assert 'polaris_heartbeat_attempts_total{outcome="accepted"}' in metrics
    assert MINER_ID not in out + err, "the id is never logged"
    assert listing(rootfs) == before, "the agent wrote outside its state volume"
    written = [p.relative_to(state) for p in state.rglob("*")]
    assert written, "the state volume holds what the agent keeps (its log, history, lock)"
    assert all(p.stat().st_uid == IMAGE_UID for p in state.rglob("*"))
    assert not [p for p in state.rglob("*") if p.stat().st_mode & 0o077], "private: 0700 folders, 0600 files"


def _agent_process(pid: int, timeout: float = 30) -> psutil.Process:
    """The agent, PID 1 of the private PID namespace: the child of unshare's fork."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in psutil.Process(pid).children(recursive=True):
            if "/usr/local/bin/polaris-tray" in " ".join(child.cmdline()):
                return child
        time.sleep(0.1)
    raise AssertionError("the agent process never appeared")


def test_nvml_is_used_when_the_nvidia_runtime_mounts_it(bundle, orchestrator, tmp_path):
    """The NVIDIA runtime's hooks put the driver's libnvidia-ml.so.1 into the container's multiarch library
    folder and rerun ldconfig there; here a stand-in built from tests/support/fake_nvml.c takes its place
    (and is taken out again after): GPU readings go out."""
    nvml = build_fake_nvml(tmp_path / "nvml")
    if nvml is None:
        pytest.skip("no gcc: the stand-in NVML library cannot be built")
    rootfs = bundle / "rootfs"
    library = rootfs / "usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1"
    cache = rootfs / "etc/ld.so.cache"
    saved_cache = cache.read_bytes()
    shutil.copy(nvml / "libnvidia-ml.so.1", library)
    try:
        subprocess.run(["ldconfig", "-r", str(rootfs)], check=True, capture_output=True, timeout=60)
        err = _run_with_gpus(bundle, orchestrator, tmp_path)
    finally:
        library.unlink()
        cache.write_bytes(saved_cache)
    online = [b for b in orchestrator.bodies() if b["status"] == "online"]
    assert online and all(b["metrics"]["metrics"].get("gpu_usage") == 60.0 for b in online), err[-2000:]
    assert "NVML: 2 NVIDIA GPU(s)" in err


def _run_with_gpus(bundle, orchestrator, tmp_path) -> str:
    config = json.loads((bundle / "config.json").read_text())["process"]
    state, secrets = _volumes(tmp_path)
    argv = [*config["args"][:4], "--server-url", orchestrator.url, "--interval", "0.3"]
    user = f"{IMAGE_UID}:{IMAGE_UID}"
    env = [*config["env"], "FAKE_NVML_GPUS=Fake H100,30,81559,1024,55,300500;Fake H100,90,81559,40000,83,-1"]
    proc = subprocess.Popen(
        container_argv(bundle / "rootfs", state=state, secrets=secrets, user=user, env=env, argv=argv),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/",
    )  # fmt: skip
    try:
        assert orchestrator.wait_for(3, timeout=60), "no beats from the unpacked image"
        _agent_process(proc.pid).send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        _out, err = proc.communicate(timeout=10)
    assert rc == 0, err[-3000:]
    return err
