"""The GitHub workflow, checked as GitHub would run it: actionlint (with shellcheck on every `run:` script)
reports nothing, and the jobs keep their promises (tests before the build, signing only with secrets)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support.app import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def tool(name: str) -> str:
    """The venv's own copy (the test extra installs both), else one on PATH."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is missing: install the test extra (pip install -e '.[test]')"
    return found


def actionlint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool("actionlint"), "-no-color", f"-shellcheck={tool('shellcheck')}", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_actionlint_and_shellcheck_find_nothing():
    result = actionlint(WORKFLOW)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_actionlint_runs_shellcheck_on_the_scripts(tmp_path):
    """The check above proves something only if a script mistake would be reported."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: rm -rf $DIR/*\n"
    )
    result = actionlint(bad)
    assert (
        result.returncode == 1 and "shellcheck reported issue" in result.stdout and "SC2086" in result.stdout
    )


def where(job: dict, needle: str) -> int:
    """The index of the first step whose name or script holds needle."""
    texts = [s.get("name", "") + "\n" + s.get("run", "") for s in job["steps"]]
    return next(i for i, text in enumerate(texts) if needle in text)


def test_every_os_tests_before_it_builds_and_signs_only_with_secrets():
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    assert set(jobs) == {"linux", "windows", "macos"}
    assert "./build_scripts/run-tests.sh" in jobs["linux"]["steps"][where(jobs["linux"], "run-tests")]["run"]
    for name in ("windows", "macos"):
        job = jobs[name]
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step
        tests = job["steps"][where(job, "python -m pytest")]["run"]
        assert '-m "not linux' in tests and "tests/unit" in tests
        build, pack = where(job, "build.py --no-pack"), where(job, "build.py --pack")
        assert where(job, "python -m pytest") < build < pack
        signing = [
            i for i, s in enumerate(job["steps"]) if s.get("name", "").startswith(("Sign", "Notarize"))
        ]
        assert signing and all(build < i < pack for i in signing)
        for i in signing:  # skipped unless the secret is set (secrets cannot appear in `if:` themselves)
            flag = job["steps"][i]["if"].removeprefix("env.").removesuffix(" == 'true'")
            assert "secrets." in job["env"][flag]
    windows = jobs["windows"]
    tests = windows["steps"][where(windows, "python -m pytest")]["run"]
    assert (
        "-o timeout_method=thread" in tests and "-n 2" in tests
    )  # a stuck test ends one worker, not the run
    assert "polaris-tray-cli.exe" in str(windows) and "signtool" in str(windows)
    mac = jobs["macos"]
    assert {m["arch"] for m in mac["strategy"]["matrix"]["include"]} == {"arm64", "x86_64"}
    assert all(t in str(mac) for t in ("codesign", "notarytool submit", "stapler staple"))
