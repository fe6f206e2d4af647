"""Settings that survive anything: validated on load, written atomically, a corrupt file kept aside.

The miner id is never a setting; it lives in the OS keyring only.
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from polaris_tray.core.config import settings_file
from polaris_tray.core.config.limits import DEFAULT_INTERVAL_S, DEFAULT_LOG_LEVEL
from polaris_tray.core.config.limits import SAVED_INTERVAL_MAX_S as MAX_INTERVAL_S
from polaris_tray.core.config.limits import SAVED_INTERVAL_MIN_S as MIN_INTERVAL_S
from polaris_tray.core.config.urls import DEFAULT_SERVER_URL, InvalidServerUrl, normalize_server_url
from polaris_tray.core.storage.logs import LEVELS
from polaris_tray.core.storage.paths import config_dir, write_private_file

log = logging.getLogger(__name__)

SETTINGS_FILE_NAME = "settings.json"


@dataclass
class Settings:
    server_url: str = DEFAULT_SERVER_URL
    interval_s: float = DEFAULT_INTERVAL_S
    start_heartbeat_on_launch: bool = True
    notifications: bool = True
    log_level: str = DEFAULT_LOG_LEVEL
    warn_on_stop: bool = True  # ask before Stop: the orchestrator counts the miner offline 45 s later


class InvalidSetting(ValueError):
    pass


def validate_interval(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidSetting("The heartbeat interval must be a number of seconds.")
    if not (MIN_INTERVAL_S <= value <= MAX_INTERVAL_S):
        raise InvalidSetting(
            f"The heartbeat interval must be between {MIN_INTERVAL_S:g} s and {MAX_INTERVAL_S:g} s."
        )
    return float(value)


def clamp_saved_interval(value: object) -> tuple[float, str | None]:
    """A number from the file, brought into the saved range: (seconds, the log line when it was changed).

    A file written when longer intervals were allowed (say 120) keeps working, at the longest interval
    that keeps the miner counted online.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise InvalidSetting("The heartbeat interval must be a number of seconds.")
    used = min(max(float(value), MIN_INTERVAL_S), MAX_INTERVAL_S)
    if used == value:
        return used, None
    return used, (
        f"The saved heartbeat interval {value:g} s is outside {MIN_INTERVAL_S:g}–{MAX_INTERVAL_S:g} s; "
        f"{used:g} s is used (the orchestrator counts a miner offline 45 s after its last heartbeat)."
    )


def _validate_field(name: str, value: object) -> str | float | bool:
    if name == "server_url":
        if not isinstance(value, str):
            raise InvalidSetting("The server URL must be text.")
        try:
            return normalize_server_url(value)
        except InvalidServerUrl as exc:
            raise InvalidSetting(str(exc)) from None
    if name == "interval_s":
        return validate_interval(value)
    if name == "log_level":
        if value not in LEVELS:
            raise InvalidSetting(f"The log level must be one of {', '.join(LEVELS)}.")
        return value
    if not isinstance(value, bool):
        raise InvalidSetting(f"{name} must be true or false.")
    return value


def validate(settings: Settings) -> Settings:
    """A checked copy, or InvalidSetting naming the first bad value."""
    checked = {f.name: _validate_field(f.name, getattr(settings, f.name)) for f in fields(Settings)}
    return Settings(**checked)  # type: ignore[arg-type]  # each value has its field's type: checked above


@dataclass
class LoadResult:
    settings: Settings
    warnings: list[str] = field(default_factory=list)
    kept_aside: Path | None = None


class SettingsStore:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory else config_dir()
        self.path = self.directory / SETTINGS_FILE_NAME

    def load(self) -> LoadResult:
        try:
            raw, size = settings_file.read_bounded(self.path)
        except FileNotFoundError:
            return LoadResult(Settings())
        except settings_file.NotRegular as exc:
            return self._refuse(f"The settings path {self.path} is {exc}; it was left alone.")
        except OSError as exc:
            return self._refuse(f"The settings file could not be read ({exc.strerror or exc}).")
        if size > settings_file.MAX_BYTES:
            limit = settings_file.MAX_BYTES // 1024
            return self._set_aside(raw, f"The settings file was {size:,} bytes, over the {limit} KiB limit.")
        try:
            data = settings_file.parse(raw)
        except ValueError:
            return self._set_aside(raw, "The settings file was corrupt.")
        if not isinstance(data, dict):
            return self._set_aside(raw, "The settings file did not hold settings.")
        values: dict[str, object] = {}
        warnings: list[str] = []
        if "miner_id" in data:
            warnings.append(
                "A miner id found in the settings file was ignored and removed: it belongs in the OS keyring."
            )
        notes = []
        for f in fields(Settings):
            if f.name not in data:
                continue
            try:
                if f.name == "interval_s":
                    values[f.name], note = clamp_saved_interval(data[f.name])
                    notes += [note] if note else []
                else:
                    values[f.name] = _validate_field(f.name, data[f.name])
            except InvalidSetting as exc:
                warnings.append(f"{exc} The default was used instead.")
        result = LoadResult(Settings(**values), warnings)  # type: ignore[arg-type]
        if warnings:
            result.kept_aside = self._keep_copy_aside(raw)
        warnings += notes  # a clamped interval is no corruption: nothing is kept aside for it
        if "miner_id" in data:
            self._rewrite_without_id(data)
        for warning in warnings:
            log.warning("%s", warning)
        return result

    def save(self, settings: Settings) -> None:
        checked = validate(settings)
        text = json.dumps(asdict(checked), indent=2, sort_keys=True) + "\n"
        write_private_file(self.path, text.encode("utf-8"))

    def _keep_copy_aside(self, raw: bytes) -> Path | None:
        try:
            return settings_file.keep_aside(self.path, raw)
        except OSError:
            return None

    def _rewrite_without_id(self, data: dict[str, object]) -> None:
        """The plaintext id must not stay on disk: the file keeps everything else, as it was."""
        data = {k: v for k, v in data.items() if k != "miner_id"}
        try:
            write_private_file(self.path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())
        except OSError as exc:
            log.warning("The miner id could not be removed from %s: %s", self.path, exc.strerror or exc)

    def _refuse(self, why: str) -> LoadResult:
        message = f"{why} The defaults are in use."
        log.warning("%s", message)
        return LoadResult(Settings(), [message])

    def _set_aside(self, raw: bytes, why: str) -> LoadResult:
        """A stripped copy of (the start of) the file is kept once; the original goes."""
        try:
            aside = settings_file.keep_aside(self.path, raw)
            os.unlink(self.path)
            message = f"{why} It was kept as {aside.name} and the defaults are in use."
        except OSError:
            aside = None
            message = f"{why} The defaults are in use."
        log.warning("%s", message)
        return LoadResult(Settings(), [message], aside)
