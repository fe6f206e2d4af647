"""Which tests need which OS, and a profile of their own for the whole run.

The suite was written on Linux; the Windows and macOS jobs (and the simulated win32/darwin runs) take the
same files. A test that needs Linux or a POSIX system gets the `linux` or `posix` marker, from the table
below (by file or by test, so the test files stay as they are) or from its own decorator, and is skipped
elsewhere with the reason. `-m "not linux"` leaves the marked tests out of a run altogether.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# A file, or a test's name or the start of it (after ::) -> why it needs Linux.
LINUX_ONLY = {
    # unit
    "tests/unit/test_control_resources.py": "counts threads and descriptors in /proc/self",
    "tests/unit/test_gui_units.py::test_frozen_app_gives_launched_programs_the_hosts_library_path": (
        "LD_LIBRARY_PATH of a frozen Linux build, read back through `sh -c`"
    ),
    "tests/unit/test_gpu_nvml_gate.py::test_no_library_means_no_import": (
        "ld.so's cache and a bare PATH=/usr/bin:/bin interpreter"
    ),
    "tests/unit/test_service_parts.py::test_notifier_": "sd_notify: AF_UNIX, SOCK_CLOEXEC",
    "tests/unit/test_private_tmp.py": "mount namespaces (unshare) and tmpfs",
    "tests/unit/test_doctor_parts.py::test_the_agent_is_seen_running_only_while_it_holds_the_lock": (
        "flock seen through /proc/locks (Windows' msvcrt locks cannot be read: the doctor then sends nothing)"
    ),
    "tests/unit/test_attacks_connection_test.py": "the one-agent lock read through /proc/locks and flock",
    "tests/unit/test_doctor_parts.py::test_the_miner_id_source_follows_the_apps_order": (
        "systemd credentials (CREDENTIALS_DIRECTORY) and private files, refused on Windows"
    ),
    "tests/unit/test_service_parts.py::test_watchdog_usec_and_pid": "sd_notify's socket (SOCK_CLOEXEC)",
    "tests/unit/test_service_parts.py::test_pings_rate_limited_ready_once_status_on_change": (
        "sd_notify's socket (an abstract AF_UNIX address)"
    ),
    "tests/unit/test_service_parts.py::test_a_manager_that_stops_reading_never_stalls_the_sender": (
        "sd_notify: an AF_UNIX datagram socket"
    ),
    "tests/unit/test_settings_form.py::test_ok_without_changes": "~/.config/polaris-tray hard-coded (XDG)",
    "tests/unit/test_settings_form.py::test_empty_id_with_none": "~/.config/polaris-tray hard-coded (XDG)",
    "tests/unit/test_settings_form.py::test_demo_mode_shows": "~/.config/polaris-tray hard-coded (XDG)",
    "tests/unit/test_settings_form.py::test_saving_keeps": "~/.config/polaris-tray hard-coded (XDG)",
    "tests/unit/test_workflow_lint.py::test_actionlint": "actionlint and shellcheck are installed on Linux",
    "tests/unit/test_platform_marks.py::test_every_entry": "collects tests/system, whose helpers import pwd",
    # system: the real services these need exist on the Linux test machine only
    "tests/system/test_clock_steps.py": "faketime and /proc",
    "tests/system/test_desktop_install.py": "XDG menu entries, Xvfb",
    "tests/system/test_desktop_services.py": "D-Bus session services and Xvfb",
    "tests/system/test_dialog_paths.py": "~/.config/polaris-tray hard-coded (XDG)",
    "tests/system/test_first_run.py": "Xvfb, trayer, xdotool and gnome-keyring",
    "tests/system/test_frozen.py": "the Linux build run on Xvfb (the other builds are made by their CI jobs)",
    "tests/system/test_frozen_install.py": "the tarball's XDG install and the .deb",
    "tests/system/test_gpu_nvml.py": "a stand-in libnvidia-ml.so.1 (gcc, LD_LIBRARY_PATH)",
    "tests/system/test_history_resilience.py::test_a_full_disk_drops_rows": (
        "a 1 MB tmpfs mounted in a private /tmp (root, unshare)"
    ),
    "tests/system/test_agent_process.py::test_headless_never_loads_qt": "reads /proc/PID/maps",
    "tests/system/test_instance_lock.py": "other local users (useradd, runuser) and flock",
    "tests/system/test_keyring_and_miner_id.py": "gnome-keyring on a private D-Bus session",
    "tests/system/test_keyring_late.py": "gnome-keyring, Xvfb and trayer",
    "tests/system/test_quit_during_test_connection.py": "Xvfb, trayer and xdotool",
    "tests/system/test_resources.py": "desktop-file-validate and appstreamcli",
    "tests/system/test_second_launch.py": "Xvfb and trayer",
    "tests/system/test_service_credentials.py": "systemd credentials and POSIX owners",
    "tests/system/test_service_notify.py": "sd_notify (systemd)",
    "tests/system/test_service_unit_run.py": "systemd unit settings applied by hand (uids, NOTIFY_SOCKET)",
    "tests/system/test_session_bus.py": "D-Bus",
    "tests/system/test_settings_dialog.py": "~/.config/polaris-tray hard-coded (XDG) and gnome-keyring",
    "tests/system/test_symlink_traps.py": "symlinks, runuser and `sh -c`",
    "tests/system/test_systemd_units.py": "systemd-analyze",
    "tests/system/test_tray_e2e.py": "Xvfb and trayer, read off the screen",
    "tests/system/test_tray_hosts.py": "D-Bus tray hosts, Xvfb and weston",
}

# The same -> why it needs a POSIX system (macOS runs these; Windows does not).
POSIX_ONLY = {
    "tests/unit/test_service_parts.py::test_secret_file_owner": "file owners (geteuid, chown)",
    "tests/unit/test_service_parts.py::test_resolution_order_file_before": "POSIX file modes (chmod 600)",
}

# Under the platform simulation (POLARIS_SIM_PLATFORM, tests/support/platform_sim.py) a simulated child
# imports the compiled dependencies, PySide6 among them, before our code: what our code imports cannot be
# seen there. Skipped under the simulation only.
SIMULATION_BLIND = {
    "tests/unit/test_settings_form.py::test_the_form_model_imports_no_qt": "the child preloads PySide6",
    # subprocess on the Linux host needs os.WNOHANG, which the simulated Windows takes away
    "tests/unit/test_windowed_output.py": "subprocess.wait(timeout) needs os.WNOHANG, gone in the simulation",
}
SIMULATION_VAR = "POLARIS_SIM_PLATFORM"

# Markers that name services only the Linux test machine has (see pyproject's markers).
LINUX_SERVICES = ("gui", "keyring", "frozen")

NEEDS = {"linux": ("linux",), "posix": ("linux", "darwin")}


def _reason(nodeid: str, table: dict[str, str]) -> str | None:
    for prefix, reason in table.items():
        test_level = "::" in prefix  # a test's name or its start (parametrised ids included)
        if nodeid.startswith(prefix) if test_level else nodeid == prefix or nodeid.startswith(prefix + "::"):
            return reason
    return None


def _relative(item: pytest.Item, root: Path) -> str:
    path, _, rest = item.nodeid.partition("::")
    try:
        path = Path(item.path).resolve().relative_to(root).as_posix()
    except ValueError:
        pass
    return f"{path}::{rest}" if rest else path


def mark_platform_needs(items: list[pytest.Item], root: Path, platform: str | None = None) -> None:
    """Adds `linux`/`posix` from the tables and the service markers, then skips what this OS cannot run."""
    platform = sys.platform if platform is None else platform
    for item in items:
        nodeid = _relative(item, root)
        for marker, table in (("linux", LINUX_ONLY), ("posix", POSIX_ONLY)):
            reason = _reason(nodeid, table)
            if reason and not item.get_closest_marker(marker):
                item.add_marker(getattr(pytest.mark, marker)(reason=reason))
        service = next((m for m in LINUX_SERVICES if item.get_closest_marker(m)), None)
        if service and not item.get_closest_marker("linux"):
            item.add_marker(pytest.mark.linux(reason=f"a {service} test: its services run on Linux"))
        blind = os.environ.get(SIMULATION_VAR) and _reason(nodeid, SIMULATION_BLIND)
        if blind:
            item.add_marker(pytest.mark.skip(reason=f"under the simulation: {blind}"))
            continue
        for marker, platforms in NEEDS.items():
            found = item.get_closest_marker(marker)
            if found and not platform.startswith(platforms):
                why = found.kwargs.get("reason") or (found.args[0] if found.args else "")
                item.add_marker(pytest.mark.skip(reason=f"needs {marker}: {why}".rstrip(": ")))
                break


# A profile of the run's own: the variables each OS finds the user's folders by. platformdirs reads
# HOME on Linux (XDG_*) and macOS; on Windows it asks the shell (SHGetKnownFolderPath) and ignores
# HOME, APPDATA and LOCALAPPDATA, unless WIN_PD_OVERRIDE_<folder> names a folder.
def profile_environment(root: Path, *, create: bool = True) -> dict[str, str]:
    """The variables that put every user folder of every OS under root (created there unless told not to:
    a test's fresh home must stay as empty as a new user's)."""
    roaming, local = root / "AppData" / "Roaming", root / "AppData" / "Local"
    env = {
        "HOME": root,
        "USERPROFILE": root,
        "APPDATA": roaming,
        "LOCALAPPDATA": local,
        "WIN_PD_OVERRIDE_APPDATA": roaming,
        "WIN_PD_OVERRIDE_LOCAL_APPDATA": local,
        "XDG_CONFIG_HOME": root / ".config",
        "XDG_DATA_HOME": root / ".local" / "share",
        "XDG_STATE_HOME": root / ".local" / "state",
        "XDG_CACHE_HOME": root / ".cache",
    }
    for path in env.values() if create else ():
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return {name: str(path) for name, path in env.items()}


WINDOWS_FOLDERS = (
    "USERPROFILE",
    "APPDATA",
    "LOCALAPPDATA",
    "WIN_PD_OVERRIDE_APPDATA",
    "WIN_PD_OVERRIDE_LOCAL_APPDATA",
)


def outside(path: Path, root: Path) -> bool:
    try:
        Path(path).resolve().relative_to(root.resolve())
    except ValueError:
        return True
    return False


def real_keyring_would_be_used(platform: str | None = None) -> bool:
    """Windows' Credential Manager and the macOS keychain are the user's, whatever HOME says."""
    platform = sys.platform if platform is None else platform
    return platform in ("win32", "darwin") and not os.environ.get("PYTHON_KEYRING_BACKEND")
