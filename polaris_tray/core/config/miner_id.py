"""Where the miner id comes from, first found wins:

1. a systemd credential, $CREDENTIALS_DIRECTORY/polaris-miner-id (LoadCredential=, SetCredentialEncrypted=);
2. the file given with --miner-id-file;
3. the POLARIS_MINER_ID environment variable;
4. the OS keyring;
5. the Polaris CLI's legacy files (read only, imported into the keyring).

A credential or file that is present but unsafe or invalid stops the run: falling through to another
source would hide the mistake.
"""

from __future__ import annotations

import json
import logging
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from polaris_tray.core.config.secret_file import UnsafeSecretFile, read_secret_file
from polaris_tray.core.config.secret_store import SecretStore, SecretStoreError
from polaris_tray.core.storage.logs import register_secret

log = logging.getLogger(__name__)

ENV_VAR = "POLARIS_MINER_ID"
CREDENTIAL_NAME = "polaris-miner-id"
MAX_LENGTH = 128

HOW_TO_SET = (
    "Provide the miner id in one of these ways: run `polaris-tray --set-miner-id` and type it (it is "
    "stored in the OS keyring); or set POLARIS_MINER_ID for this run; or keep the Polaris CLI's "
    "~/.polaris/user_info.json, from which it is imported. On a server: --miner-id-file PATH (mode 600) "
    "or the systemd credential polaris-miner-id."
)


class InvalidMinerId(ValueError):
    pass


def validate_miner_id(value: str) -> str:
    """NFKC first: a full-width or decomposed id is stored as the id the orchestrator knows."""
    text = unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidMinerId("The miner id is empty.")
    if len(text) > MAX_LENGTH:
        raise InvalidMinerId(f"The miner id is longer than {MAX_LENGTH} characters.")
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise InvalidMinerId("The miner id must not contain spaces or control characters.")
    return text


def legacy_files(environ: Mapping[str, str], home: Path) -> list[Path]:
    paths = [home / ".polaris" / "user_info.json", home / ".polaris" / "config.json"]
    if environ.get("POLARIS_HOME"):
        paths.append(Path(environ["POLARIS_HOME"]) / "user_info.json")
    return paths


def read_legacy_miner_id(path: str | os.PathLike[str]) -> str | None:
    """Only miner_id is read: those files hold other secrets (an SSH password) we never touch."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    value = data.get("miner_id") if isinstance(data, dict) else None
    try:
        return validate_miner_id(value) if isinstance(value, str) else None
    except InvalidMinerId:
        return None


@dataclass
class Resolution:
    miner_id: str | None
    origin: str  # "credential", "file", "environment", "keyring", "legacy", "none"
    notices: list[str] = field(default_factory=list)
    keyring_error: str | None = None
    error: str | None = None  # a source was there but refused: the run must stop with this message


def _from_file(path: Path, origin: str, what: str) -> Resolution:
    try:
        value = validate_miner_id(read_secret_file(path))
    except (UnsafeSecretFile, InvalidMinerId) as exc:
        return Resolution(None, "none", error=f"The miner id {what} was refused: {exc}")
    register_secret(value)
    return Resolution(value, origin)


def _from_service_files(environ: Mapping[str, str], file_path: Path | None) -> Resolution | None:
    credentials = environ.get("CREDENTIALS_DIRECTORY", "")
    if credentials:
        path = Path(credentials) / CREDENTIAL_NAME
        if os.path.lexists(path):
            return _from_file(path, "credential", f"credential {CREDENTIAL_NAME}")
    if file_path is not None:
        return _from_file(Path(file_path), "file", "file")
    return None


def resolve_miner_id(
    store: SecretStore | None,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    *,
    file_path: Path | None = None,
) -> Resolution:
    environ = os.environ if environ is None else environ
    served = _from_service_files(environ, file_path)
    if served is not None:
        return served
    home = Path.home() if home is None else home
    from_env = environ.get(ENV_VAR, "")
    if from_env.strip():
        try:
            value: str | None = validate_miner_id(from_env)
        except InvalidMinerId as exc:
            return Resolution(None, "none", [f"{ENV_VAR} is set but invalid: {exc}"])
        register_secret(value)
        return Resolution(value, "environment")

    keyring_error = None
    if store is not None:
        try:
            stored = store.get()
            if stored:
                register_secret(stored)
                return Resolution(stored, "keyring")
        except SecretStoreError as exc:
            keyring_error = str(exc)

    for path in legacy_files(environ, home):
        value = read_legacy_miner_id(path)
        if not value:
            continue
        register_secret(value)
        notices = []
        if store is not None and keyring_error is None:
            try:
                store.set(value)
                notices.append(
                    f"Imported the miner id from {path} into the OS keyring; that file was left untouched."
                )
            except SecretStoreError as exc:
                keyring_error = str(exc)
        if keyring_error:
            notices.append(
                f"Using the miner id from {path}; it could not be kept in the keyring: {keyring_error}"
            )
        for notice in notices:
            log.info("%s", notice)
        return Resolution(value, "legacy", notices, keyring_error)
    return Resolution(None, "none", [], keyring_error)
