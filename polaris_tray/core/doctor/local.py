"""The links on this machine: the settings file and server URL, where the miner id comes from, the keyring,
and the GPU readers. Nothing here writes: the doctor reads the settings file without setting a bad one
aside and never imports a legacy id into the keyring (the app does that when it runs)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from polaris_tray.core.config import settings_file
from polaris_tray.core.config.miner_id import (
    CREDENTIAL_NAME,
    ENV_VAR,
    InvalidMinerId,
    _from_service_files,
    legacy_files,
    read_legacy_miner_id,
    validate_miner_id,
)
from polaris_tray.core.config.secret_store import SecretStore, SecretStoreError
from polaris_tray.core.config.urls import DEFAULT_SERVER_URL, InvalidServerUrl, normalize_server_url
from polaris_tray.core.doctor.report import Check, fail, ok, warn
from polaris_tray.core.heartbeat.gpu_common import OnceLogger
from polaris_tray.core.values.redact import mask_secret

CONFIG, MINER, KEYRING, GPU = "Configuration", "Miner id", "Keyring", "GPU readers"
KEYRING_TIMEOUT_S = 3.0

SERVER_OPTIONS = (
    "on a desktop: `polaris-tray --set-miner-id` (OS keyring); on a server without a keyring: "
    f"--miner-id-file PATH (mode 600), the systemd credential {CREDENTIAL_NAME} (LoadCredential=), "
    f"or {ENV_VAR} for one run"
)


def check_configuration(
    settings_path: Path, override_url: str | None, override_origin: str = "command line"
) -> tuple[Check, str | None]:
    """The settings file as the app would read it, and the server URL this run would use."""
    notes: list[str] = []
    saved_url = None
    try:
        raw, size = settings_file.read_bounded(settings_path)
    except FileNotFoundError:
        notes.append("no settings file yet (defaults)")
    except OSError as exc:
        reason = str(exc) if isinstance(exc, settings_file.NotRegular) else (exc.strerror or str(exc))
        return warn(
            CONFIG,
            f"the settings file {settings_path} cannot be read ({reason}); the defaults are used",
            f"remove or fix {settings_path}, then save the settings again",
        ), _url(override_url or DEFAULT_SERVER_URL)
    else:
        try:
            data = settings_file.parse(raw) if size <= settings_file.MAX_BYTES else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return warn(
                CONFIG,
                f"the settings file {settings_path} is not valid settings; the defaults are used",
                "open Settings… and save (the bad file is kept aside when the app starts)",
            ), _url(override_url or DEFAULT_SERVER_URL)
        if "miner_id" in data:
            notes.append("it holds a miner id, which the app removes (the id belongs in the keyring)")
        saved_url = data.get("server_url") if isinstance(data.get("server_url"), str) else None
        notes.insert(0, f"settings file {settings_path} is valid")
    origin = override_origin if override_url else ("settings" if saved_url else "default")
    text = override_url or saved_url or DEFAULT_SERVER_URL
    try:
        url = normalize_server_url(text)
    except InvalidServerUrl as exc:
        return fail(
            CONFIG,
            f"the server URL ({origin}) is not usable: {exc}",
            "set a valid https:// URL in Settings… (or with --server-url), e.g. " + DEFAULT_SERVER_URL,
        ), None
    scheme = "https" if url.lower().startswith("https://") else "http on this computer"
    line = f"server URL {url} ({origin}, {scheme}); " + "; ".join(notes)
    return (warn(CONFIG, line) if len(notes) > 1 else ok(CONFIG, line)), url


def _url(text: str) -> str | None:
    try:
        return normalize_server_url(text)
    except InvalidServerUrl:
        return None


@dataclass(frozen=True)
class KeyringFinding:
    answered: bool
    stored: str | None = None
    problem: str = ""  # locked, none, timed out: the store's own sentence


def probe_keyring(store: SecretStore | None = None, timeout: float = KEYRING_TIMEOUT_S) -> KeyringFinding:
    """Asked once, without opening an unlock prompt on a collection known to be locked, and bounded as a
    whole (the lock probe and the lookup together), so a hung Secret Service costs `timeout` once."""
    store = store or SecretStore(timeout_s=timeout)
    box: dict[str, KeyringFinding] = {}

    def ask() -> None:
        try:
            if store.still_locked():
                box["finding"] = KeyringFinding(False, problem="The OS keyring is locked.")
            else:
                box["finding"] = KeyringFinding(True, store.get())
        except SecretStoreError as exc:
            box["finding"] = KeyringFinding(False, problem=str(exc))

    # a thread: a keyring call waiting on an unlock prompt cannot be cut: it is given up after `timeout`
    worker = threading.Thread(target=ask, name="doctor-keyring", daemon=True)
    worker.start()
    worker.join(timeout)
    return box.get("finding") or KeyringFinding(
        False,
        problem=f"The OS keyring did not answer within {timeout:g} s (locked, or waiting on a prompt?).",
    )


@dataclass(frozen=True)
class MinerFinding:
    miner_id: str | None
    origin: str  # as the app names them: credential, file, environment, keyring, legacy, none
    where: str  # in words, for the line
    error: str = ""


def find_miner_id(
    environ: Mapping[str, str],
    home: Path,
    file_path: Path | None,
    keyring: KeyringFinding | None,
) -> MinerFinding:
    """The app's order (credential, --miner-id-file, environment, keyring, legacy files), read only."""
    served = _from_service_files(environ, file_path)
    if served is not None:
        if served.error:
            return MinerFinding(None, "none", "", served.error)
        if served.origin == "credential":
            where = f"the systemd credential {CREDENTIAL_NAME}"
        else:
            where = f"the file {file_path}"
        return MinerFinding(served.miner_id, served.origin, where)
    text = environ.get(ENV_VAR, "")
    if text.strip():
        try:
            return MinerFinding(validate_miner_id(text), "environment", f"the {ENV_VAR} variable")
        except InvalidMinerId as exc:
            return MinerFinding(None, "none", "", f"{ENV_VAR} is set but invalid: {exc}")
    if keyring is not None and keyring.stored:
        return MinerFinding(keyring.stored, "keyring", "the OS keyring")
    for path in legacy_files(environ, home):
        value = read_legacy_miner_id(path)
        if value:
            return MinerFinding(value, "legacy", f"the Polaris CLI's {path}")
    return MinerFinding(None, "none", "")


def needs_keyring(environ: Mapping[str, str], file_path: Path | None) -> bool:
    """False when a source before the keyring is there: then the keyring is not consulted at all."""
    credentials = environ.get("CREDENTIALS_DIRECTORY", "")
    if credentials and os.path.lexists(Path(credentials) / CREDENTIAL_NAME):
        return False
    return file_path is None and not environ.get(ENV_VAR, "").strip()


def check_miner(found: MinerFinding) -> Check:
    if found.error:
        return fail(MINER, found.error, "fix that source, or remove it so the next one is used")
    if not found.miner_id:
        return fail(
            MINER,
            "no miner id is configured",
            f"get your id with `polaris register`, then give it: {SERVER_OPTIONS}",
        )
    return ok(MINER, f"{mask_secret(found.miner_id)} from {found.where}")


def check_keyring(finding: KeyringFinding | None, found: MinerFinding) -> Check:
    if finding is None:
        return ok(KEYRING, f"not consulted: the miner id comes from {found.where or 'another source'}")
    if finding.answered:
        stored = "a miner id is stored" if finding.stored else "no miner id is stored there"
        return ok(KEYRING, f"the OS keyring answers; {stored}")
    if found.miner_id:
        return warn(KEYRING, f"{finding.problem} (not needed now: the id comes from {found.where})")
    if "locked" in finding.problem.lower():
        fix = "unlock the keyring (log in to the desktop session, or open Passwords and Keys), then retry"
    else:
        fix = SERVER_OPTIONS
    return fail(KEYRING, finding.problem, fix)


class _GpuReader(Protocol):
    def sample(self) -> Sized: ...


GpuOpener = Callable[[OnceLogger], _GpuReader | None]


class _Collect(OnceLogger):
    """A OnceLogger stand-in that keeps what the GPU readers would have logged, for the line."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def __call__(self, level: int, message: str) -> None:
        if message not in self.messages:
            self.messages.append(message)


def check_gpus(openers: Sequence[tuple[str, GpuOpener]] | None = None) -> Check:
    """NVML for NVIDIA, sysfs for AMD: which readers open, and how many GPUs they read."""
    if openers is None:
        from polaris_tray.core.heartbeat.gpu_amd import open_amd
        from polaris_tray.core.heartbeat.gpu_nvml import open_nvml

        openers = (("NVIDIA (NVML)", open_nvml), ("AMD (amdgpu)", open_amd))
    said = _Collect()
    found = []
    for name, opener in openers:
        try:
            reader = opener(said)
            count = len(reader.sample()) if reader is not None else 0
        except Exception as exc:  # a GPU library must never break the doctor
            said(0, f"{name}: {type(exc).__name__}: {exc}")
            continue
        if count:
            found.append(f"{name}: {count} GPU{'s' if count > 1 else ''}")
    if found:
        return ok(GPU, "; ".join(found))
    if said.messages:
        return warn(GPU, "; ".join(said.messages), "check the GPU driver (nvidia-smi, or amdgpu in dmesg)")
    return warn(
        GPU,
        "no NVIDIA (NVML) or AMD (amdgpu) GPU found: heartbeats go out without GPU readings",
        "fine on a CPU-only machine; otherwise install the GPU driver (libnvidia-ml.so.1, or amdgpu)",
    )
