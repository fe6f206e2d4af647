"""One miner id on two machines: each agent exports the id's fleet tag (--fleet-key-file, a keyed
BLAKE2b), equal for equal ids wherever the key is shared, so Prometheus counts the duplicates; the id
itself never appears. (Two agents with one id on one host: the second exits 4, test_instance_lock.py.)"""

from __future__ import annotations

import signal
import socket
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from polaris_tray.service.miner_tag import fleet_tag
from tests.support.app import app_env, run_app, start_app

KEY = "c2hhcmVkIGZsZWV0IGtleSBmb3IgdGVzdHM="
SHARED_ID = "miner-shared-000001"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _key_file(path, text=KEY, mode=0o600):
    path.write_text(text + "\n")
    path.chmod(mode)
    return path


def test_fleet_tag_is_keyed_and_hides_the_id():
    tag = fleet_tag(KEY, SHARED_ID)
    assert tag == fleet_tag(KEY + "\n", SHARED_ID), "the key file's trailing newline does not matter"
    assert len(tag) == 24 and int(tag, 16) >= 0
    assert tag != fleet_tag(KEY, "miner-shared-000002")
    assert tag != fleet_tag("another fleet's key, also long", SHARED_ID), "without the key, no guess checks"
    assert SHARED_ID not in tag


def _agent(tmp_path, name, miner_id, orchestrator):
    """An agent as on its own machine: its own home, key file and metrics port."""
    home = tmp_path / name
    home.mkdir(mode=0o700)
    port = _free_port()
    key = _key_file(tmp_path / f"{name}.key")
    args = ["--headless", "--server-url", orchestrator.url, "--interval", "0.3"]
    args += ["--metrics-listen", f"127.0.0.1:{port}", "--fleet-key-file", str(key)]
    return start_app(args, app_env(home, miner_id=miner_id)), port


def _tags(port) -> tuple[list[str], str]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    tags = [
        s.labels["miner_tag"]
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "polaris_agent_miner_info"
    ]
    return tags, text


def test_two_machines_with_one_id_export_one_tag(tmp_path, orchestrator):
    agents = [
        _agent(tmp_path, "rig1", SHARED_ID, orchestrator),
        _agent(tmp_path, "rig2", SHARED_ID, orchestrator),
        _agent(tmp_path, "rig3", "miner-own-000003", orchestrator),
    ]
    try:
        assert orchestrator.wait_for(6, timeout=30)
        scraped = [_tags(port) for _proc, port in agents]
    finally:
        for proc, _port in agents:
            proc.send_signal(signal.SIGTERM)
        errors = [proc.communicate(timeout=10)[1] for proc, _port in agents]
    (t1,), (t2,), (t3,) = (tags for tags, _text in scraped)
    assert t1 == t2 == fleet_tag(KEY, SHARED_ID) and t3 != t1
    for _, text in scraped:
        assert SHARED_ID not in text and "miner-own-000003" not in text
    assert not any(SHARED_ID in err for err in errors)


def test_no_key_no_tag(home, orchestrator):
    port = _free_port()
    proc = start_app(
        ["--headless", "--server-url", orchestrator.url, "--interval", "0.3", "--metrics-listen", str(port)],
        app_env(home),
    )
    try:
        assert orchestrator.wait_for(1, timeout=20)
        tags, _text = _tags(port)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert tags == []


def test_a_readable_or_short_key_or_no_metrics_is_refused_with_exit_2(home, tmp_path):
    loose = _key_file(tmp_path / "loose.key", mode=0o644)
    short = _key_file(tmp_path / "short.key", text="tiny")
    port = str(_free_port())
    for args, message in (
        (["--metrics-listen", port, "--fleet-key-file", str(loose)], "chmod 600"),
        (["--metrics-listen", port, "--fleet-key-file", str(short)], "fewer than 16 characters"),
        (["--fleet-key-file", str(_key_file(tmp_path / "ok.key"))], "needs --metrics-listen"),
    ):
        result = run_app(["--headless", "--server-url", "http://127.0.0.1:9/", *args], app_env(home))
        assert result.returncode == 2, result.stderr
        assert message in result.stderr
