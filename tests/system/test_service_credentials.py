"""The miner id on a server: a systemd credential or --miner-id-file, checked like ssh checks a key.

Real processes and real files with real modes and owners (owners other than ours need root: skipped
with a message elsewhere)."""

from __future__ import annotations

import json
import os

import pytest

from tests.support.app import app_env, files_containing, run_app

MINER = "miner-from-file-0001"


def _secret(path, text=MINER + "\n", mode=0o600):
    path.write_text(text)
    os.chmod(path, mode)
    return path


def _once(home, url, *extra, **env):
    return run_app(["--once", "--server-url", url, *extra], app_env(home, miner_id=None, **env))


def test_miner_id_file_is_used_and_never_logged(home, tmp_path, orchestrator):
    path = _secret(tmp_path / "miner-id")
    result = _once(home, orchestrator.url, "--miner-id-file", str(path), "--log-level", "DEBUG")
    assert result.returncode == 0, result.stderr
    assert orchestrator.bodies()[0]["metrics"]["miner_id"] == MINER
    assert MINER not in result.stderr + result.stdout
    assert files_containing(home, MINER) == []


def test_credential_comes_first(home, tmp_path, orchestrator):
    creds = tmp_path / "creds"
    creds.mkdir(mode=0o500)
    os.chmod(creds, 0o700)
    _secret(creds / "polaris-miner-id", "miner-from-credential-01")
    os.chmod(creds, 0o500)
    path = _secret(tmp_path / "miner-id")
    result = _once(
        home,
        orchestrator.url,
        "--miner-id-file",
        str(path),
        CREDENTIALS_DIRECTORY=str(creds),
        POLARIS_MINER_ID="miner-from-environment",
    )
    assert result.returncode == 0, result.stderr
    assert orchestrator.bodies()[0]["metrics"]["miner_id"] == "miner-from-credential-01"


def test_credentials_directory_without_our_credential_falls_through(home, tmp_path, orchestrator):
    creds = tmp_path / "creds"
    creds.mkdir(mode=0o700)
    result = _once(home, orchestrator.url, CREDENTIALS_DIRECTORY=str(creds), POLARIS_MINER_ID="miner-env-1")
    assert result.returncode == 0, result.stderr
    assert orchestrator.bodies()[0]["metrics"]["miner_id"] == "miner-env-1"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o666])
def test_file_readable_by_others_refused(home, tmp_path, orchestrator, mode):
    path = _secret(tmp_path / "miner-id", mode=mode)
    result = _once(home, orchestrator.url, "--miner-id-file", str(path), POLARIS_MINER_ID="miner-env-1")
    assert result.returncode == 2
    assert f"chmod 600 '{path}'" in result.stderr
    assert json.loads(result.stdout)["outcome"] == "config_error"
    assert orchestrator.bodies() == [], "a refused file must not fall through to another source"
    assert MINER not in result.stderr + result.stdout


def test_unsafe_credential_refused(home, tmp_path, orchestrator):
    creds = tmp_path / "creds"
    creds.mkdir()
    _secret(creds / "polaris-miner-id", mode=0o644)
    result = _once(home, orchestrator.url, CREDENTIALS_DIRECTORY=str(creds))
    assert result.returncode == 2
    assert "credential polaris-miner-id was refused" in result.stderr and "chmod 600" in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_file_of_another_user_refused(home, tmp_path, orchestrator):
    path = _secret(tmp_path / "miner-id")
    os.chown(path, 65534, 65534)  # nobody
    result = _once(home, orchestrator.url, "--miner-id-file", str(path))
    assert result.returncode == 2
    assert "belongs to another user (uid 65534)" in result.stderr and "chown 0" in result.stderr


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.mkdir(mode=0o700), "not a regular file"),
        (lambda p: os.mkfifo(p, 0o600), "not a regular file"),
        (lambda p: _secret(p, "  \n"), "empty"),
        (lambda p: _secret(p, "two words"), "spaces"),
        (lambda p: _secret(p, "x" * 5000), "larger than"),
        (lambda p: (p.write_bytes(b"\xff\xfe"), os.chmod(p, 0o600)), "UTF-8"),
    ],
)
def test_bad_files_refused_with_a_reason(home, tmp_path, orchestrator, make, message):
    path = tmp_path / "miner-id"
    make(path)
    result = _once(home, orchestrator.url, "--miner-id-file", str(path))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


def test_symlink_to_a_private_file_is_judged_by_the_file(home, tmp_path, orchestrator):
    target = _secret(tmp_path / "real-id", mode=0o644)
    link = tmp_path / "link"
    link.symlink_to(target)
    result = _once(home, orchestrator.url, "--miner-id-file", str(link))
    assert result.returncode == 2 and "chmod 600" in result.stderr


def test_headless_reads_the_credential(home, tmp_path, orchestrator):
    path = _secret(tmp_path / "miner-id")
    import signal

    from tests.support.app import start_app

    proc = start_app(
        ["--headless", "--server-url", orchestrator.url, "--interval", "0.2", "--miner-id-file", str(path)],
        app_env(home, miner_id=None),
    )
    try:
        assert orchestrator.wait_for(2, timeout=15)
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
    assert "(from file)" in err and MINER not in err
    assert {b["metrics"]["miner_id"] for b in orchestrator.bodies()} == {MINER}
