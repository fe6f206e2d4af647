"""Installing the build: the tarball's --install-desktop and the .deb, as a user would."""

import json
import shlex
import subprocess

import pytest

from tests.support.app import app_env

pytestmark = pytest.mark.frozen


def frozen_env(home, **kw):
    env = app_env(home, **kw)
    env.pop("PYTHONPATH", None)  # the frozen app must carry everything itself
    return env


def validate(path):
    result = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def once(command, env, orchestrator):
    result = subprocess.run(
        [*command, "--once", "--server-url", orchestrator.url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["outcome"] == "accepted"


def test_unpacked_build_installs_itself_into_the_menu(frozen_app, home, orchestrator):
    env = frozen_env(home)
    result = subprocess.run(
        [str(frozen_app), "--install-desktop"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    data = home / ".local" / "share"
    entry = data / "applications" / "io.polaris.tray.desktop"
    validate(entry)
    text = entry.read_text()
    exec_line = next(x for x in text.splitlines() if x.startswith("Exec="))
    assert shlex.split(exec_line[len("Exec=") :]) == [str(frozen_app)]
    assert f"TryExec={frozen_app}" in text.splitlines()
    icons = {p.relative_to(data / "icons/hicolor").as_posix() for p in data.rglob("polaris-tray.*")}
    assert {"48x48/apps/polaris-tray.png", "scalable/apps/polaris-tray.svg"} <= icons and len(icons) == 10
    once([str(frozen_app)], env, orchestrator)  # what the menu entry runs, runs
    removed = subprocess.run(
        [str(frozen_app), "--uninstall-desktop"], env=env, capture_output=True, text=True
    )
    assert removed.returncode == 0 and not entry.exists() and not list(data.rglob("polaris-tray.*"))


def test_deb_installs_runs_and_removes_cleanly(frozen_app, home, orchestrator, tmp_path):
    """dpkg installs the package under a root of its own (the machine's own is not touched)."""
    debs = list(frozen_app.parent.parent.glob("polaris-tray_*.deb"))
    assert len(debs) == 1, debs
    depends = subprocess.run(
        ["dpkg-deb", "--field", str(debs[0]), "Depends"], capture_output=True, text=True, check=True
    ).stdout
    names = [d.strip() for d in depends.split(",")]
    assert "libgl1" in names and "libc6" in names
    installed = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${db:Status-Abbrev}\n", *names], capture_output=True, text=True
    ).stdout
    assert all(f"{n} ii " in installed.splitlines() for n in names), installed  # all real packages

    root = tmp_path / "root"
    for sub in ("info", "updates"):
        (root / "var/lib/dpkg" / sub).mkdir(parents=True)
    for name in ("status", "available"):
        (root / "var/lib/dpkg" / name).touch()
    dpkg = ["dpkg", f"--root={root}", "--force-not-root", "--force-depends"]  # Depends: checked above
    result = subprocess.run([*dpkg, "-i", str(debs[0])], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr

    entry = root / "usr/share/applications/io.polaris.tray.desktop"
    validate(entry)
    assert "Exec=polaris-tray" in entry.read_text().splitlines()  # /usr/bin is on every PATH
    assert (root / "usr/share/icons/hicolor/48x48/apps/polaris-tray.png").is_file()
    assert (root / "usr/share/metainfo/io.polaris.tray.metainfo.xml").is_file()
    once([str(root / "usr/bin/polaris-tray")], frozen_env(home), orchestrator)

    result = subprocess.run([*dpkg, "--purge", "polaris-tray"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    left = [p for p in root.rglob("*") if "var/lib/dpkg" not in p.as_posix() and not p.is_dir()]
    assert left == []
