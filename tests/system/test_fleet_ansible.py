"""deploy/ansible: the role passes ansible-lint, and runs for real (ansible-playbook -c local) inside a
fresh Debian minbase root, where no systemd runs: the unit is installed and enabled, not started; the test
then starts the agent as the unit would and it beats to the loopback orchestrator."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
import yaml

from polaris_tray.service.miner_tag import fleet_tag
from tests.support.app import ARTIFACTS, ROOT
from tests.support.minbase import carry_apt, minbase_tar, root_argv, run_in_root, unpack_root, work_dir

# Building a Debian root, an image or a wheelhouse takes minutes on a loaded machine: once per run.
pytestmark = pytest.mark.timeout(900)


ANSIBLE = ROOT / "deploy" / "ansible"
MINER_ID = "miner-ansible-000042"
KEY = "the fleet's shared key, long enough"
SERVICE_UID = 61234  # what DynamicUser= would pick
PIP = [sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ansible_lint_offline_is_clean():
    lint = Path(sys.executable).with_name("ansible-lint")
    if not lint.exists():
        pytest.skip("ansible-lint is absent: pip install -e '.[test]'")
    result = subprocess.run(
        [str(lint), "--offline", "--nocolor", "playbook.yml", "roles/polaris_tray"],
        cwd=ANSIBLE, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "0 failure(s), 0 warning(s)" in result.stdout + result.stderr


def test_example_playbook_reads_the_id_without_echo():
    (play,) = yaml.safe_load((ANSIBLE / "playbook.yml").read_text())
    (prompt,) = play["vars_prompt"]
    assert prompt["private"] is True
    tasks = yaml.safe_load((ANSIBLE / "roles/polaris_tray/tasks/main.yml").read_text())
    (write,) = [t for t in tasks if "miner id, readable" in t["name"]]
    assert write["no_log"] is True and write["ansible.builtin.copy"]["mode"] == "0600"


@pytest.fixture(scope="module")
def wheelhouse():
    """The agent and its server-mode dependencies as wheels (this machine's pip, its registry settings),
    and ansible-core for the root: what an offline fleet keeps on a file share."""
    house = work_dir() / "wheels"
    house.mkdir(exist_ok=True)
    subprocess.run([*PIP, "download", "--only-binary=:all:", "-d", str(house), "-r",
                    str(ROOT / "deploy/container/requirements.txt")], check=True, timeout=600)  # fmt: skip
    subprocess.run([*PIP, "wheel", "--no-deps", "-w", str(house), str(ROOT)], check=True, timeout=600)
    from importlib.metadata import version

    tools = work_dir() / "ansible"
    subprocess.run([*PIP, "install", "--target", str(tools), f"ansible-core=={version('ansible-core')}"],
                   check=True, timeout=600)  # fmt: skip
    (wheel,) = house.glob("polaris_tray-*.whl")
    return house, tools, wheel.name


def test_role_installs_in_a_fresh_root_and_the_agent_beats(wheelhouse, orchestrator, tmp_path):
    house, tools, wheel = wheelhouse
    port = _free_port()
    root = unpack_root(minbase_tar(), work_dir() / "ansible-root")
    carry_apt(root)
    binds = [(ROOT, "/srv/polaris-tray"), (house, "/srv/wheels"), (tools, "/opt/ansible")]
    secrets = root / "root" / "polaris-vars.yml"  # as a vault file would be: never on a command line
    secrets.write_text(
        yaml.safe_dump(
            {
                "polaris_tray_prompted_id": "",
                "polaris_tray_vault_miner_id": MINER_ID,
                "polaris_tray_fleet_key": KEY,
            }
        )
    )
    secrets.chmod(0o600)
    settings = {
        "polaris_hosts": "localhost",
        "polaris_tray_package": f"/srv/wheels/{wheel}",
        "polaris_tray_pip_extra_args": "--no-index --find-links /srv/wheels",
        "polaris_tray_server_url": orchestrator.url,
        "polaris_tray_interval": "0.3",
        "polaris_tray_metrics_listen": f"127.0.0.1:{port}",
    }
    started = time.monotonic()
    play = run_in_root(
        root,
        ["python3", "-m", "ansible.cli.playbook", "-c", "local", "-i", "localhost,",
         "-e", "@/root/polaris-vars.yml", "-e", yaml.safe_dump(settings, default_flow_style=True).strip(),
         "/srv/polaris-tray/deploy/ansible/playbook.yml"],
        binds=binds,
        env={"PYTHONPATH": "/opt/ansible", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCAL_TEMP": "/tmp/ansible"},
        timeout=900,
    )  # fmt: skip
    took = time.monotonic() - started
    (ARTIFACTS / "fleet-ansible-install.txt").write_text(
        f"role install in a fresh minbase root: {took:.0f} s\n"
    )
    print(f"the role installed in {took:.0f} s")
    assert re.search(r"failed=0", play.stdout), play.stdout[-3000:]
    assert MINER_ID not in play.stdout + play.stderr and KEY not in play.stdout, "no secret is shown"
    assert "Enable the service for the next boot" in play.stdout and "Enable and start" in play.stdout

    # What the role left: the id 0600 root's, the shipped unit, its drop-in, enabled, the agent linked.
    id_file = root / "etc/polaris-tray/miner-id"
    st = id_file.stat()
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o600) and id_file.read_text() == MINER_ID + "\n"
    key_file = root / "etc/polaris-tray/fleet-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and key_file.read_text() == KEY + "\n"
    unit = root / "etc/systemd/system/polaris-tray.service"
    assert unit.read_text() == (ROOT / "resources/systemd/polaris-tray.service").read_text()
    wants = root / "etc/systemd/system/multi-user.target.wants/polaris-tray.service"
    assert os.readlink(wants) == "/etc/systemd/system/polaris-tray.service"
    assert os.readlink(root / "usr/local/bin/polaris-tray") == "/opt/polaris-tray/venv/bin/polaris-tray"
    venv_lib = next((root / "opt/polaris-tray/venv/lib").glob("python3*/site-packages"))
    assert (venv_lib / "polaris_tray").is_dir() and not list(venv_lib.glob("PySide6*")), "no Qt on a server"
    drop_in = (root / "etc/systemd/system/polaris-tray.service.d/ansible.conf").read_text()
    (exec_start,) = [line for line in drop_in.splitlines() if line.startswith("ExecStart=/")]
    _verify_unit_with_drop_in(unit.read_text(), drop_in, tmp_path)

    _run_as_the_unit_would(
        root, unit.read_text() + drop_in, exec_start.split("=", 1)[1].split(), orchestrator, port
    )


def _verify_unit_with_drop_in(unit: str, drop_in: str, tmp_path: Path) -> None:
    """systemd reads the drop-in as the role wrote it (specifiers such as %d, LoadCredential=)."""
    tool = shutil.which("systemd-analyze")
    if not tool:
        return
    folder = tmp_path / "units"
    (folder / "polaris-tray.service.d").mkdir(parents=True)
    agent = "/usr/local/bin/polaris-tray"
    (folder / "polaris-tray.service").write_text(unit.replace(agent, "/bin/true"))
    (folder / "polaris-tray.service.d" / "ansible.conf").write_text(drop_in.replace(agent, "/bin/true"))
    result = subprocess.run(
        [tool, "verify", str(folder / "polaris-tray.service")], capture_output=True, text=True
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def _run_as_the_unit_would(root: Path, unit: str, argv: list[str], orchestrator, port: int) -> None:
    """The unit's environment (%S, %E, %t, %d expanded), its directories made for its dynamic user, and
    the credentials handed over in $CREDENTIALS_DIRECTORY, then ExecStart as that user; SIGTERM stops it."""
    specifiers = {"%S": "/var/lib", "%E": "/etc", "%t": "/run"}
    env = {}
    for line in unit.splitlines():
        if line.startswith("Environment="):
            for pair in line.split("=", 1)[1].split():
                key, value = pair.split("=", 1)
                for spec, path in specifiers.items():
                    value = value.replace(spec, path)
                env[key] = value
    directories = {"STATE_DIRECTORY": "/var/lib/polaris-tray", "RUNTIME_DIRECTORY": "/run/polaris-tray",
                   "LOGS_DIRECTORY": "/var/log/polaris-tray", "CONFIGURATION_DIRECTORY": "/etc/polaris-tray",
                   "CREDENTIALS_DIRECTORY": "/run/credentials/polaris-tray.service"}  # fmt: skip
    for key, path in directories.items():
        env[key] = path
        if key != "CONFIGURATION_DIRECTORY":
            (root / path.lstrip("/")).mkdir(parents=True, exist_ok=True)
            os.chown(root / path.lstrip("/"), SERVICE_UID, SERVICE_UID)
            (root / path.lstrip("/")).chmod(0o700)
    for name, source in re.findall(r"^LoadCredential=([^:\n]+):(\S+)$", unit, re.M):
        credential = root / "run/credentials/polaris-tray.service" / name
        credential.write_bytes((root / source.lstrip("/")).read_bytes())
        os.chown(credential, SERVICE_UID, SERVICE_UID)
        credential.chmod(0o400)
    argv = [a.replace("%d", env["CREDENTIALS_DIRECTORY"]) for a in argv]
    proc = subprocess.Popen(
        root_argv(root, argv, user=f"{SERVICE_UID}:{SERVICE_UID}", env=env),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert orchestrator.wait_for(3, timeout=60), "the installed agent did not beat"
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        agent = next(
            c for c in psutil.Process(proc.pid).children(recursive=True) if "--headless" in c.cmdline()
        )
        agent.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        _out, err = proc.communicate(timeout=10)
    assert rc == 0, err[-3000:]
    assert all(b["metrics"]["miner_id"] == MINER_ID for b in orchestrator.bodies())
    assert "from credential" in err, "the id came in as the unit's credential"
    assert f'polaris_agent_miner_info{{miner_tag="{fleet_tag(KEY, MINER_ID)}"}} 1.0' in metrics
    assert MINER_ID not in metrics


@pytest.mark.parametrize(("ids", "fails"), [(("miner-rig-0001", "miner-rig-0002"), False),
                                            (("miner-rig-0001", "miner-rig-0001 "), True)])  # fmt: skip
def test_role_refuses_one_miner_id_on_two_hosts(tmp_path, ids, fails):
    """The role's first check, run alone over a two-host inventory (both local, nothing installed)."""
    playbook = Path(sys.executable).with_name("ansible-playbook")
    if not playbook.exists():
        pytest.skip("ansible-core is absent: pip install -e '.[test]'")
    inventory = tmp_path / "hosts.yml"
    hosts = {
        f"rig{n}": {"ansible_connection": "local", "polaris_tray_miner_id": i} for n, i in enumerate(ids)
    }
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    play = tmp_path / "check.yml"
    play.write_text(yaml.safe_dump([{
        "name": "Unique ids", "hosts": "all", "gather_facts": False,
        "tasks": [{"ansible.builtin.include_role": {"name": "polaris_tray", "tasks_from": "unique_ids"}}],
    }]))  # fmt: skip
    result = subprocess.run(
        [str(playbook), "-i", str(inventory), str(play)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "ANSIBLE_ROLES_PATH": str(ANSIBLE / "roles"), "ANSIBLE_NOCOLOR": "1",
             "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"), "ANSIBLE_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert (result.returncode != 0) == fails, result.stdout[-2000:]
    assert "miner-rig-0001" not in result.stdout + result.stderr, "the ids are compared, never shown"
